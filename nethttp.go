package gibbon

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"gibbon/http1"
	"gibbon/stage"
)

// httpHandler runs a net/http handler for its routes.
type httpHandler struct{ h http.Handler }

// sniffLen is how many body bytes net/http looks at to guess a missing
// Content-Type.
const sniffLen = 512

func (a *httpHandler) serve(w stage.ResponseWriter, r *stage.Request, rt *route) (err error) {
	x := new(httpExchange)
	req, err := x.request(r)
	if err != nil {
		return stage.Error(400, err)
	}
	defer x.ctx.end()
	rw := newResponseWriter(w)
	req.Pattern = rt.pattern
	p := &rw.params
	rt.params(r.Path, p)
	for i := range min(p.n, maxParams) {
		req.SetPathValue(p.fixed[i].name, p.fixed[i].value)
	}
	for _, v := range p.more {
		req.SetPathValue(v.name, v.value)
	}
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				err = http.ErrAbortHandler
			} else {
				err = recovered(v)
			}
		} else if !rw.hijacked {
			err = rw.finish()
		}
		rw.release()
	}()
	a.h.ServeHTTP(rw, req)
	return nil
}

// httpExchange holds, in one allocation, a request's *http.Request and
// what it points to besides its header map and its strings. A handler may
// keep the request, its URL and its context after ServeHTTP returns
// (net/http allows it, and http.TimeoutHandler's inner handler does it),
// so none of it is reused.
type httpExchange struct {
	req  http.Request
	url  url.URL
	ctx  requestContext
	body body
}

// request builds the *http.Request of r (x.req), with x.ctx as its
// context. Besides x, it allocates the request's header map (with the
// map's storage when there are fields), one slice for the field values
// and one string holding the target, the host, the client's address, and
// every field name (canonicalized) and value, whatever the number of
// fields (and over TLS r.TLS).
func (x *httpExchange) request(r *stage.Request) (*http.Request, error) {
	x.ctx.parent, x.ctx.localAddr = r.Context(), r.Conn.Local
	x.initRequest()
	req := &x.req
	var addr [64]byte
	remote := r.Conn.Remote.AppendTo(addr[:0])
	s, fields := requestStrings(r, remote)
	uri, s := s[:len(r.Target)], s[len(r.Target):]
	host, s := s[:len(r.Host)], s[len(r.Host):]
	req.RemoteAddr, s = s[:len(remote)], s[len(remote):]
	if !r.Conn.Remote.IsValid() {
		req.RemoteAddr = r.Conn.Remote.String()
	}
	if err := parseRequestURI(&x.url, uri); err != nil {
		return nil, err
	}
	if x.url.Host == "" {
		x.url.Host = host
	}
	req.Method = methodString(r)
	req.URL = &x.url
	req.Proto, req.ProtoMajor, req.ProtoMinor = "HTTP/1.1", 1, 1
	if r.Proto == http1.Version10 {
		req.Proto, req.ProtoMinor = "HTTP/1.0", 0
	}
	req.Host = host
	req.RequestURI = uri
	req.Body = http.NoBody
	if r.Conn.TLS {
		req.TLS = &tls.ConnectionState{HandshakeComplete: true}
	}
	req.Header = make(http.Header, fields)
	values := make([]string, fields)
	chunked, length := false, ""
	for _, f := range r.Headers {
		name, value := s[:len(f.Name)], s[len(f.Name):len(f.Name)+len(f.Value)]
		s = s[len(f.Name)+len(f.Value):]
		switch name {
		case "Host":
			continue
		case "Transfer-Encoding":
			chunked = true
			continue
		case "Content-Length":
			if length == "" {
				length = value
			}
		}
		vs := req.Header[name]
		if vs == nil {
			vs, values = values[:1:1], values[1:]
			vs[0] = value
		} else {
			vs = append(vs, value)
		}
		req.Header[name] = vs
	}
	switch {
	case chunked:
		req.ContentLength, req.TransferEncoding = -1, []string{"chunked"}
	case length != "":
		req.ContentLength, _ = strconv.ParseInt(length, 10, 64)
	}
	if (chunked || req.ContentLength > 0) && r.Body != nil {
		x.body.r = r.Body
		req.Body = &x.body
		if _, ok := r.Body.(stage.BodyTrailer); ok {
			if err := x.expectTrailers(r, chunked); err != nil {
				return nil, err
			}
		}
	}
	return req, nil
}

// expectTrailers prepares the request for the trailers its body (a
// stage.BodyTrailer) may end with, as net/http's servers do. Over
// HTTP/1.1 only a chunked body has trailers; they all go to r.Trailer,
// announced or not, and announcing Transfer-Encoding, Trailer or
// Content-Length is an error. Over HTTP/2 only announced ones count, and
// those three names are ignored. Announced names are r.Trailer's keys,
// with nil values until the body ends, and the "Trailer" fields leave the
// header map.
func (x *httpExchange) expectTrailers(r *stage.Request, chunked bool) error {
	req := &x.req
	h2 := r.Proto == http1.Version20
	announced := req.Header["Trailer"]
	if !chunked && !h2 || h2 && announced == nil {
		return nil
	}
	x.body.req = req
	if announced == nil {
		return nil
	}
	req.Trailer = make(http.Header)
	for _, v := range announced {
		for key := range strings.SplitSeq(v, ",") {
			switch key = http.CanonicalHeaderKey(strings.TrimSpace(key)); key {
			case "":
			case "Transfer-Encoding", "Trailer", "Content-Length":
				if !h2 {
					return fmt.Errorf("bad trailer key %q", key)
				}
			default:
				req.Trailer[key] = nil
			}
		}
	}
	delete(req.Header, "Trailer")
	return nil
}

// initRequest sets x.req to an empty request whose context is x.ctx.
// WithContext is the only way to set a request's context. It is inlined
// here, so the copy it makes stays on the stack and is copied into x: no
// allocation. It is a function of its own so that the copy's 300 bytes
// are not on the stack while request calls on; a goroutine's stack that
// grows past a power of two is copied, and shrunk again by the next
// garbage collection.
//
//go:noinline
func (x *httpExchange) initRequest() {
	x.req = *emptyRequest.WithContext(&x.ctx)
}

// emptyRequest is the zero request that initRequest copies; it is never
// changed.
var emptyRequest http.Request

// requestStrings returns, in one string, r's target, host, remote (the
// client's address), and the name (canonicalized as
// http.CanonicalHeaderKey does) and value of each of r's header fields in
// order, and how many of those fields go into the header map (all but Host
// and Transfer-Encoding).
func requestStrings(r *stage.Request, remote []byte) (string, int) {
	size := len(r.Target) + len(r.Host) + len(remote)
	for _, f := range r.Headers {
		size += len(f.Name) + len(f.Value)
	}
	var b strings.Builder
	b.Grow(size)
	b.Write(r.Target)
	b.Write(r.Host)
	b.Write(remote)
	var buf [64]byte
	fields := 0
	for _, f := range r.Headers {
		name := appendCanonicalKey(buf[:0], f.Name)
		if string(name) != "Host" && string(name) != "Transfer-Encoding" {
			fields++
		}
		b.Write(name)
		b.Write(f.Value)
	}
	return b.String(), fields
}

// appendCanonicalKey appends the canonical form of the field name to dst,
// as http.CanonicalHeaderKey makes it: the first letter and any letter
// after a hyphen upper case, the others lower case; a name holding a byte
// that is not a token character is left as it is. The result has the
// length of name.
func appendCanonicalKey(dst, name []byte) []byte {
	for _, c := range name {
		if !isTokenByte(c) {
			return append(dst, name...)
		}
	}
	upper := true
	for _, c := range name {
		switch {
		case upper && 'a' <= c && c <= 'z':
			c -= 'a' - 'A'
		case !upper && 'A' <= c && c <= 'Z':
			c += 'a' - 'A'
		}
		dst = append(dst, c)
		upper = c == '-'
	}
	return dst
}

// isTokenByte reports whether c may appear in a field name (RFC 9110
// token).
func isTokenByte(c byte) bool { return byteClass[c]&tokenByte != 0 }

// Byte classes of byteClass.
const (
	tokenByte = 1 << iota // may appear in a token
	pathByte              // url leaves it unescaped in a path
)

// byteClass classifies each byte value.
var byteClass = func() (t [256]uint8) {
	for c := range t {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
			t[c] = tokenByte | pathByte
		}
	}
	for _, c := range []byte("!#$%&'*+-.^_`|~") {
		t[c] |= tokenByte
	}
	for _, c := range []byte("-._~$&+,/:;=@") {
		t[c] |= pathByte
	}
	return t
}()

// methodString returns r's method without allocating for the common ones.
func methodString(r *stage.Request) string {
	switch r.Method {
	case http1.MethodGet:
		return http.MethodGet
	case http1.MethodHead:
		return http.MethodHead
	case http1.MethodPost:
		return http.MethodPost
	case http1.MethodPut:
		return http.MethodPut
	case http1.MethodDelete:
		return http.MethodDelete
	case http1.MethodOptions:
		return http.MethodOptions
	case http1.MethodPatch:
		return http.MethodPatch
	}
	return string(r.MethodName)
}

// parseRequestURI sets *u, a zero URL, to what url.ParseRequestURI(uri)
// returns. An origin-form target ("/path?query") whose path holds only
// characters a path need not escape is split in place, without url's
// allocation.
func parseRequestURI(u *url.URL, uri string) error {
	path, query, hasQuery := strings.Cut(uri, "?")
	if !plainPath(path) || containsCTL(query) {
		v, err := url.ParseRequestURI(uri)
		if err != nil {
			return err
		}
		*u = *v
		return nil
	}
	u.Path, u.RawQuery, u.ForceQuery = path, query, hasQuery && query == ""
	return nil
}

// plainPath reports whether path begins with "/" and holds only bytes
// that url leaves unescaped in a path: its unescaped form is itself and
// url.URL needs no RawPath for it.
func plainPath(path string) bool {
	if path == "" || path[0] != '/' {
		return false
	}
	for i := 0; i < len(path); i++ {
		if byteClass[path[i]]&pathByte == 0 {
			return false
		}
	}
	return true
}

// containsCTL reports whether s holds an ASCII control character, which
// url refuses.
func containsCTL(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < ' ' || s[i] == 0x7f {
			return true
		}
	}
	return false
}

// body is a request body as net/http handlers expect it: closing it is
// allowed (the server drains what is left after the handler). When the
// request may have trailers (see expectTrailers), r is a
// stage.BodyTrailer and the fields it received are added to req.Trailer
// once the body has ended.
type body struct {
	r   io.Reader
	req *http.Request // nil once the trailers are in, or when none count
}

// Read reads the request body.
func (b *body) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err == io.EOF && b.req != nil {
		for _, f := range b.r.(stage.BodyTrailer).Trailer() {
			if b.req.Trailer == nil {
				b.req.Trailer = make(http.Header)
			}
			key := http.CanonicalHeaderKey(f.Name)
			b.req.Trailer[key] = append(b.req.Trailer[key], f.Value)
		}
		b.req = nil
	}
	return n, err
}

// Close does nothing.
func (b *body) Close() error { return nil }

// responseWriter is the http.ResponseWriter over a stage writer. As
// net/http does, it takes a copy of the header map at WriteHeader, sniffs
// the Content-Type of the first 512 body bytes when none is set, and sends
// the trailers the handler announced ("Trailer:") or sets with
// http.TrailerPrefix.
//
// Like net/http's, it must not be used once ServeHTTP returns, and neither
// must the map Header returns: both are reused for another request
// (writerPool), the map emptied, so that a response costs no allocation
// of its own.
type responseWriter struct {
	w        stage.ResponseWriter
	header   http.Header
	status   int  // set by WriteHeader
	started  bool // the stage writer has the status and the fields
	sniff    []byte
	needType bool // the Content-Type is still to be sniffed
	trailers []string
	hijacked bool
	scratch  []byte // WriteString's copy
	params   params // the route's wildcard values, for the request
}

var writerPool = sync.Pool{New: func() any { return new(responseWriter) }}

// What a pooled responseWriter keeps: buffers up to maxWriterKeep bytes,
// a header map that held up to maxHeaderKeep fields.
const (
	maxWriterKeep = 64 << 10
	maxHeaderKeep = 64
)

// newResponseWriter returns a pooled responseWriter over w.
func newResponseWriter(w stage.ResponseWriter) *responseWriter {
	rw := writerPool.Get().(*responseWriter)
	rw.w = w
	return rw
}

// release empties rw, keeping its storage, and puts it back in the pool.
func (rw *responseWriter) release() {
	if len(rw.header) > maxHeaderKeep {
		rw.header = nil
	}
	clear(rw.header)
	clear(rw.trailers)
	rw.w, rw.status, rw.started, rw.needType, rw.hijacked = nil, 0, false, false, false
	rw.sniff, rw.trailers, rw.scratch = keep(rw.sniff), rw.trailers[:0], keep(rw.scratch)
	rw.params.reset()
	writerPool.Put(rw)
}

// keep returns b emptied, or nil when it is too large to keep.
func keep(b []byte) []byte {
	if cap(b) > maxWriterKeep {
		return nil
	}
	return b[:0]
}

// Header returns the header map; it is created on first use.
func (rw *responseWriter) Header() http.Header {
	if rw.header == nil {
		rw.header = make(http.Header)
	}
	return rw.header
}

// WriteHeader records the status and the header fields (later changes to
// the map are ignored, as with net/http). Informational statuses (1xx) are
// not sent.
func (rw *responseWriter) WriteHeader(code int) {
	if rw.status != 0 || rw.hijacked {
		return
	}
	if code < 100 || code > 999 {
		panic("invalid WriteHeader code " + strconv.Itoa(code))
	}
	if code < 200 {
		return
	}
	rw.status = code
	h := rw.w.Header()
	for name, vs := range rw.header {
		if strings.HasPrefix(name, http.TrailerPrefix) {
			continue
		}
		if name == "Trailer" {
			for _, v := range vs {
				for _, t := range strings.Split(v, ",") {
					if t = strings.TrimSpace(t); t != "" {
						rw.trailers = append(rw.trailers, http.CanonicalHeaderKey(t))
					}
				}
			}
		}
		for _, v := range vs {
			h.Add(name, v)
		}
	}
	_, typed := rw.header["Content-Type"]
	rw.needType = !typed && code != 204 && code != 304 && firstValue(rw.header, "Content-Encoding") == ""
}

// firstValue is h.Get(name) for a canonical name.
func firstValue(h http.Header, name string) string {
	if vs := h[name]; len(vs) > 0 {
		return vs[0]
	}
	return ""
}

// Write writes body bytes, sniffing the Content-Type first if needed.
func (rw *responseWriter) Write(p []byte) (int, error) {
	if rw.hijacked {
		return 0, http.ErrHijacked
	}
	rw.WriteHeader(200)
	if rw.needType && !rw.started {
		rw.sniff = append(rw.sniff, p...)
		if len(rw.sniff) < sniffLen {
			return len(p), nil
		}
		if err := rw.start(); err != nil {
			return 0, err
		}
		return len(p), nil
	}
	if err := rw.start(); err != nil {
		return 0, err
	}
	return rw.w.Write(p)
}

// WriteString writes s, through a copy kept from one request to the
// next (a conversion to []byte would allocate).
func (rw *responseWriter) WriteString(s string) (int, error) {
	rw.scratch = append(rw.scratch[:0], s...)
	return rw.Write(rw.scratch)
}

// start hands the status to the stage writer, with the sniffed
// Content-Type and the body bytes held for sniffing.
func (rw *responseWriter) start() error {
	if rw.started {
		return nil
	}
	rw.started = true
	if rw.needType && len(rw.sniff) > 0 {
		rw.w.Header().Set("Content-Type", http.DetectContentType(rw.sniff))
	}
	rw.w.WriteHeader(rw.status)
	if len(rw.sniff) > 0 {
		_, err := rw.w.Write(rw.sniff)
		rw.sniff = rw.sniff[:0]
		return err
	}
	return nil
}

// Flush sends what was written so far.
func (rw *responseWriter) Flush() { rw.FlushError() }

// FlushError sends what was written so far and returns the write error
// (http.ResponseController uses it).
func (rw *responseWriter) FlushError() error {
	if rw.hijacked {
		return http.ErrHijacked
	}
	rw.WriteHeader(200)
	if err := rw.start(); err != nil {
		return err
	}
	if f, ok := rw.w.(stage.Flusher); ok {
		return f.Flush()
	}
	return nil
}

// Hijack takes the connection over (HTTP/1.x only).
func (rw *responseWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	h, ok := rw.w.(stage.Hijacker)
	if !ok {
		return nil, nil, http.ErrNotSupported
	}
	if rw.status != 0 {
		return nil, nil, errors.New("gibbon: Hijack after WriteHeader")
	}
	conn, buffered, err := h.Hijack()
	if err != nil {
		return nil, nil, err
	}
	rw.hijacked = true
	br := bufio.NewReaderSize(conn, max(4096, len(buffered)))
	if len(buffered) > 0 {
		// In the reader's buffer, where net/http's own Hijack leaves them:
		// Buffered() counts them and nothing is hidden behind the reader.
		br.Reset(io.MultiReader(bytes.NewReader(buffered), conn))
		br.Peek(len(buffered))
	}
	return conn, bufio.NewReadWriter(br, bufio.NewWriter(conn)), nil
}

// HijackRegistry returns the server's registry of hijacked connections
// (see Ctx.HijackRegistry), for package websocket's Upgrade.
func (rw *responseWriter) HijackRegistry() stage.HijackRegistry { return hijackRegistry(rw.w) }

// SetReadDeadline bounds the reads of the request body.
func (rw *responseWriter) SetReadDeadline(t time.Time) error {
	if d, ok := rw.w.(stage.Deadliner); ok {
		return d.SetReadDeadline(t)
	}
	return http.ErrNotSupported
}

// SetWriteDeadline bounds the writes of the response.
func (rw *responseWriter) SetWriteDeadline(t time.Time) error {
	if d, ok := rw.w.(stage.Deadliner); ok {
		return d.SetWriteDeadline(t)
	}
	return http.ErrNotSupported
}

// EnableFullDuplex reports success: the body may be read while the
// response is written.
func (rw *responseWriter) EnableFullDuplex() error { return nil }

// finish completes the response after the handler returned: status 200
// if nothing was written, the sniffed head, the trailers.
func (rw *responseWriter) finish() error {
	rw.WriteHeader(200)
	if err := rw.start(); err != nil {
		return err
	}
	t, ok := rw.w.(stage.Trailers)
	if !ok {
		return nil
	}
	for _, name := range rw.trailers {
		for _, v := range rw.header[name] {
			t.Trailer().Add(name, v)
		}
	}
	for name, vs := range rw.header {
		if k, ok := strings.CutPrefix(name, http.TrailerPrefix); ok {
			for _, v := range vs {
				t.Trailer().Add(k, v)
			}
		}
	}
	return nil
}

var (
	_ http.ResponseWriter = (*responseWriter)(nil)
	_ http.Flusher        = (*responseWriter)(nil)
	_ http.Hijacker       = (*responseWriter)(nil)
	_ io.StringWriter     = (*responseWriter)(nil)
)

// requestContext is r.Context() of a net/http handler: cancelled when the
// server's request context is (the client went away, shutdown) and when
// ServeHTTP returns. It asks the server's context for its Done channel,
// which starts watching the client, only when the handler asks for its
// own: a handler that never looks at its context costs no watch.
type requestContext struct {
	parent    context.Context
	localAddr netip.AddrPort

	mu       sync.Mutex
	local    *net.TCPAddr // localAddr, made when asked for
	done     chan struct{}
	stop     func() bool
	canceled bool
}

// Deadline reports no deadline.
func (c *requestContext) Deadline() (time.Time, bool) { return c.parent.Deadline() }

// Done returns a channel closed when the request is cancelled.
func (c *requestContext) Done() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done == nil {
		c.done = make(chan struct{})
		if c.canceled {
			close(c.done)
		} else {
			c.stop = context.AfterFunc(c.parent, c.cancel)
		}
	}
	return c.done
}

// Err returns context.Canceled once the request is cancelled.
func (c *requestContext) Err() error {
	c.mu.Lock()
	canceled, asked := c.canceled, c.done != nil
	c.mu.Unlock()
	if canceled {
		return context.Canceled
	}
	if !asked {
		return c.parent.Err()
	}
	return nil
}

// Value answers http.LocalAddrContextKey, else asks the server's context.
func (c *requestContext) Value(key any) any {
	if key == http.LocalAddrContextKey {
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.local == nil {
			c.local = net.TCPAddrFromAddrPort(c.localAddr)
		}
		return c.local
	}
	return c.parent.Value(key)
}

// cancel cancels the context (its error is always context.Canceled).
func (c *requestContext) cancel() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.canceled {
		c.canceled = true
		if c.done != nil {
			close(c.done)
		}
	}
}

// end cancels the context once ServeHTTP returned.
func (c *requestContext) end() {
	c.mu.Lock()
	stop := c.stop
	c.mu.Unlock()
	if stop != nil {
		stop()
	}
	c.cancel()
}
