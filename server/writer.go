package server

import (
	"io"
	"strconv"
	"strings"

	"gibbon/http1"
	"gibbon/stage"
	"gibbon/vhost"
)

// writerHead is what every server ResponseWriter collects before the
// head goes out: the status and the fields. Its methods are the
// ResponseWriter methods they share.
type writerHead struct {
	hdr      stage.Header
	status   int
	wrote    bool
	standard bool // Respond(status, "", nil): the server's page for status
}

// Header returns the header fields to send.
func (w *writerHead) Header() *stage.Header { return &w.hdr }

// WriteHeader sets the status the first time; a status outside 200–599
// becomes 500.
func (w *writerHead) WriteHeader(status int) {
	if w.wrote {
		return
	}
	w.status, w.wrote = validStatus(status), true
}

// Written reports whether WriteHeader was called.
func (w *writerHead) Written() bool { return w.wrote }

// respondWith is Respond for the writer w (whose writerHead this is):
// it sets Content-Type (when contentType is not ""), the status and
// writes body, unless the status was set already. An empty contentType
// with a nil body asks for the server's standard response.
func (wh *writerHead) respondWith(w io.Writer, status int, contentType string, body []byte) error {
	if wh.wrote {
		return nil
	}
	if contentType != "" {
		wh.hdr.Set("Content-Type", contentType)
	} else if body == nil {
		wh.standard = true
	}
	wh.WriteHeader(status)
	_, err := w.Write(body)
	return err
}

// memWriter is the in-memory [stage.ResponseWriter] of stage-20 filters
// and inline handlers (on an event loop or not): it holds the whole
// answer, which the server then sends with a Content-Length. It is reused
// request after request by its exchange.
type memWriter struct {
	writerHead
	body []byte
}

func (w *memWriter) reset() {
	w.hdr.Reset()
	w.status, w.wrote, w.standard = 0, false, false
	w.body = w.body[:0]
}

// Write appends body bytes.
func (w *memWriter) Write(p []byte) (int, error) {
	w.WriteHeader(200)
	w.body = append(w.body, p...)
	return len(p), nil
}

// Respond answers in one call; an empty contentType with a nil body asks
// for the server's standard response.
func (w *memWriter) Respond(status int, contentType string, body []byte) error {
	return w.respondWith(w, status, contentType, body)
}

var _ stage.ResponseWriter = (*memWriter)(nil)

func validStatus(status int) int {
	if status < 200 || status > 599 {
		return 500
	}
	return status
}

// bodyless reports whether a response with status carries no body.
func bodyless(status int) bool { return status == 204 || status == 304 }

// written appends the head of the answer a plugin wrote into w and points
// rsp at its body; the caller has called begin. A standard answer is the
// host's error page for 4xx/5xx (keeping w's fields), a small page linking
// to Location for 3xx, and an empty body otherwise.
func (rs *responder) written(dst []byte, req *http1.Request, vh *vhost.VHost, w *memWriter, rsp *response) []byte {
	if w.standard {
		return rs.standardPage(dst, req, vh, w.status, &w.hdr, rsp)
	}
	rsp.status = w.status
	mark := len(dst)
	dst = rs.appendStart(dst, w.status)
	dst = appendFields(dst, &w.hdr, "")
	if !bodyless(w.status) {
		dst = http1.AppendHeaderInt(dst, "Content-Length", int64(len(w.body)))
	}
	dst = rs.appendEnd(dst, req.Version, rsp.close)
	rsp.head = dst[mark:]
	if req.Method != http1.MethodHead && !bodyless(w.status) {
		rsp.body = w.body
	}
	return dst
}

// standardPage answers status with the server's own page, adding the
// fields of hdr (a filter's WWW-Authenticate, a handler's Retry-After or
// Location).
func (rs *responder) standardPage(dst []byte, req *http1.Request, vh *vhost.VHost, status int, hdr *stage.Header, rsp *response) []byte {
	rsp.extra = hdr
	if status >= 400 {
		return rs.errorPage(dst, req, vh, status, "", rsp)
	}
	rsp.status = status
	rs.scratch = rs.scratch[:0]
	if loc := hdr.Get("Location"); loc != "" && status >= 300 && status < 400 {
		rs.scratch = appendMovedPage(rs.scratch, []byte(loc))
	}
	mark := len(dst)
	dst = rs.appendStart(dst, status)
	skip := ""
	if len(rs.scratch) > 0 {
		skip = "Content-Type"
		dst = http1.AppendHeaderString(dst, "Content-Type", htmlType)
	}
	dst = appendFields(dst, hdr, skip)
	if !bodyless(status) {
		dst = http1.AppendHeaderInt(dst, "Content-Length", int64(len(rs.scratch)))
	}
	dst = rs.appendEnd(dst, req.Version, rsp.close)
	rsp.head = dst[mark:]
	if req.Method != http1.MethodHead && len(rs.scratch) > 0 {
		rsp.body = rs.scratch
	}
	return dst
}

// appendFields appends a plugin's header fields, leaving out those the
// server writes itself, the one named skip (when not "") and names that
// are not tokens; values are sanitized by http1.AppendHeaderString.
func appendFields(dst []byte, hdr *stage.Header, skip string) []byte {
	if hdr == nil {
		return dst
	}
	for _, f := range hdr.Fields() {
		if reservedField(f.Name) || !validFieldName(f.Name) || skip != "" && strings.EqualFold(f.Name, skip) {
			continue
		}
		dst = http1.AppendHeaderString(dst, f.Name, f.Value)
	}
	return dst
}

// reservedField reports whether the server writes the field name itself.
func reservedField(name string) bool {
	var r string
	switch len(name) {
	case len("Date"):
		r = "Date"
	case len("Server"):
		r = "Server"
	case len("Content-Length"):
		r = "Content-Length"
	case len("Transfer-Encoding"):
		r = "Transfer-Encoding"
	case len("Connection"):
		r = "Connection"
	default:
		return false
	}
	return strings.EqualFold(name, r)
}

// tokenChar tells the bytes allowed in a token (RFC 9110 §5.6.2).
var tokenChar = func() (t [256]bool) {
	for c := '!'; c <= '~'; c++ {
		t[c] = !strings.ContainsRune("\"(),/:;<=>?@[\\]{}", c)
	}
	return t
}()

func validFieldName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		if !tokenChar[name[i]] {
			return false
		}
	}
	return true
}

// declaredLength returns a handler's Content-Length field, or -1.
func declaredLength(hdr *stage.Header) int64 {
	v := hdr.Get("Content-Length")
	if v == "" {
		return -1
	}
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil || n < 0 {
		return -1
	}
	return n
}
