package server

import (
	"os"
	"time"

	"gibbon/http1"
	"gibbon/internal/clock"
	"gibbon/stage"
	"gibbon/static"
	"gibbon/vhost"
)

// response is the plan for one HTTP response, made by a responder without
// any I/O so that every driver (the goroutine-per-connection loop here, an
// event loop elsewhere) writes it the same way. A driver sends, in order:
//
//  1. head: status line, header fields and the empty line;
//  2. body, when not nil (a small in-memory body: error page, redirect);
//  3. for each of parts, its Prefix, then Length bytes at Offset of data
//     when it is set, else of file;
//  4. trailer (the closing boundary of a multipart body), when not nil;
//
// then calls release, and closes the connection when close is set. For
// HEAD, 304 and the like body, file, data and parts are all empty.
type response struct {
	status  int
	head    []byte        // view into the dst passed to respond; valid until the caller reuses it
	body    []byte        // view into the responder's scratch; valid until the next respond
	file    *os.File      // source of parts unless data is set; owned by the response until release
	data    []byte        // source of parts: a file's content a cache keeps in memory; shared, read-only, never released
	parts   []static.Part // file ranges with their prefixes
	trailer []byte
	close   bool // close the connection once the response is written
	// listDir is set, with no head written, for a directory without an
	// index file when the responder's lister is set: the caller asks the
	// plugins' Lister, else answers 403.
	listDir bool
	extra   *stage.Header // a plugin's fields for an error page; nil if none

	result  static.Result // holds file when it came from the cache
	ownFile bool          // file is an error page opened here, closed by release
	onePart [1]static.Part
}

// disown gives the response's hold on its file to whoever will release it
// (the engine's sendfile release callback): release then leaves it alone.
func (r *response) disown() {
	r.result = static.Result{}
	r.file, r.ownFile = nil, false
}

// release closes the response's file, if any. It is safe to call twice.
func (r *response) release() {
	if r.ownFile && r.file != nil {
		r.file.Close()
	}
	r.result.Close()
	r.file, r.ownFile = nil, false
}

// bodyLen is the number of body bytes the response carries after its head.
func (r *response) bodyLen() int64 {
	n := int64(len(r.body) + len(r.trailer))
	for i := range r.parts {
		n += int64(len(r.parts[i].Prefix)) + r.parts[i].Length
	}
	return n
}

// respondConfig is what a responder reads from its server.
type respondConfig struct {
	set      *settings
	clock    *clock.Clock
	draining func() bool // reports whether the server is shutting down
}

// fileCache answers static requests from open files, small files' content
// and metadata kept between requests: a worker loop's own *static.Cache,
// or the *static.SharedCache of the server's goroutine connections.
type fileCache interface {
	Serve(root string, req *static.Request, opts *static.Options, now time.Time) static.Result
}

// responder turns parsed requests into response plans. There is one per
// connection (goroutine driver) or per worker loop (loop driver, which
// loads served for each request); it keeps the scratch buffers so that a
// keep-alive GET of a file allocates nothing here. It is not safe for
// concurrent use.
type responder struct {
	respondConfig
	served  int            // requests answered on this connection
	sreq    static.Request // reused argument of cache.Serve
	scratch []byte         // small bodies (error pages, redirects)
	// cache answers static requests; it must be set.
	cache fileCache
	// lister: a directory without an index file is left to the caller
	// (rsp.listDir) instead of answered 403.
	lister bool
}

// continue100 is the interim response sent before reading a body the client
// holds back behind "Expect: 100-continue".
const continue100 = "HTTP/1.1 100 Continue\r\n\r\n"

// keepAlive reports whether the connection may stay open after answering
// req, counting req as served.
func (rs *responder) keepAlive(req *http1.Request) bool {
	s := rs.set
	return s.keepAlive && req.KeepAlive && !rs.draining() &&
		(s.maxKeepAlive <= 0 || rs.served < s.maxKeepAlive)
}

// respond appends the head of the answer to req to dst, fills rsp and
// returns the extended dst; rsp.head is the appended part. Once respond
// returns, rsp no longer refers to req's buffer, so the caller may reuse it.
func (rs *responder) respond(dst []byte, req *http1.Request, rsp *response) []byte {
	rs.begin(req, rsp)
	switch {
	case req.Method == http1.MethodConnect:
		return rs.errorPage(dst, req, nil, 405, static.Allow, rsp)
	case len(req.Path) == 1 && req.Path[0] == '*':
		return rs.optionsStar(dst, req, rsp)
	}
	vh := rs.set.vhosts.Lookup(req.Host)
	if vh.Redirect != "" {
		return rs.redirect(dst, req, vh, rsp)
	}
	rs.sreq = static.Request{
		Method:            req.Method,
		Path:              req.Path,
		IfNoneMatch:       req.IfNoneMatch,
		IfModifiedSince:   req.IfModifiedSince,
		IfRange:           req.IfRange,
		Range:             req.Range,
		IfMatch:           req.IfMatch,
		IfUnmodifiedSince: req.IfUnmodifiedSince,
	}
	rsp.result = rs.cache.Serve(vh.DocumentRoot, &rs.sreq, &rs.set.static, rs.clock.Now())
	rs.sreq = static.Request{}
	res := &rsp.result
	switch {
	case res.Status == 403 && rs.lister && isDirPath(req.Path):
		res.Close()
		rsp.status, rsp.listDir = 403, true
		return dst
	case res.Status >= 400 && res.Status != 416:
		res.Close()
		return rs.errorPage(dst, req, vh, res.Status, res.Allow, rsp)
	case res.Status == 301:
		return rs.dirRedirect(dst, req, vh, rsp)
	}
	return rs.fileHead(dst, req, rsp)
}

// begin starts the answer to req: rsp is cleared, req counted as served,
// and rsp.close says whether the connection closes after it.
func (rs *responder) begin(req *http1.Request, rsp *response) {
	*rsp = response{}
	rs.served++
	rsp.close = !rs.keepAlive(req)
}

func isDirPath(p []byte) bool { return len(p) > 0 && p[len(p)-1] == '/' }

// fileHead writes the head of a static result (200, 206, 304, 416 or an
// OPTIONS answer) and points rsp at its body.
func (rs *responder) fileHead(dst []byte, req *http1.Request, rsp *response) []byte {
	res := &rsp.result
	rsp.status = res.Status
	mark := len(dst)
	dst = rs.appendStart(dst, res.Status)
	if res.ContentType != "" {
		dst = http1.AppendHeaderString(dst, "Content-Type", res.ContentType)
	}
	if res.Status != 304 {
		dst = http1.AppendHeaderInt(dst, "Content-Length", res.ContentLength)
	}
	if res.LastModified != "" {
		dst = http1.AppendHeaderString(dst, "Last-Modified", res.LastModified)
	}
	if res.ETag != "" {
		dst = http1.AppendHeaderString(dst, "ETag", res.ETag)
	}
	if res.AcceptRanges {
		dst = http1.AppendHeaderString(dst, "Accept-Ranges", "bytes")
	}
	if res.ContentRange != "" {
		dst = http1.AppendHeaderString(dst, "Content-Range", res.ContentRange)
	}
	if res.Allow != "" {
		dst = http1.AppendHeaderString(dst, "Allow", res.Allow)
	}
	dst = rs.appendEnd(dst, req.Version, rsp.close)
	rsp.head = dst[mark:]
	if req.Method == http1.MethodHead || res.Parts == nil {
		res.Close()
		return dst
	}
	rsp.file, rsp.data, rsp.parts, rsp.trailer = res.File, res.Body, res.Parts, res.Trailer
	return dst
}

// optionsStar answers "OPTIONS *": the methods the server supports.
func (rs *responder) optionsStar(dst []byte, req *http1.Request, rsp *response) []byte {
	rsp.status = 200
	mark := len(dst)
	dst = rs.appendStart(dst, 200)
	dst = http1.AppendHeaderString(dst, "Allow", static.Allow)
	dst = http1.AppendHeaderInt(dst, "Content-Length", 0)
	dst = rs.appendEnd(dst, req.Version, rsp.close)
	rsp.head = dst[mark:]
	return dst
}

// redirect answers every request to a vhost with a Redirect: 301 to the
// Redirect URL (without its trailing slash) followed by the original path
// and query.
func (rs *responder) redirect(dst []byte, req *http1.Request, vh *vhost.VHost, rsp *response) []byte {
	base := vh.Redirect
	for len(base) > 0 && base[len(base)-1] == '/' {
		base = base[:len(base)-1]
	}
	rs.scratch = append(rs.scratch[:0], base...)
	rs.scratch = append(rs.scratch, req.Path...)
	rs.scratch = appendQuery(rs.scratch, req.Query)
	return rs.moved(dst, req, rsp)
}

// dirRedirect answers a directory named without its trailing slash: 301 to
// the path static chose, with the query kept.
func (rs *responder) dirRedirect(dst []byte, req *http1.Request, vh *vhost.VHost, rsp *response) []byte {
	rs.scratch = append(rs.scratch[:0], rsp.result.Location...)
	rs.scratch = appendQuery(rs.scratch, req.Query)
	rsp.result.Close()
	return rs.moved(dst, req, rsp)
}

func appendQuery(dst, query []byte) []byte {
	if query == nil {
		return dst
	}
	dst = append(dst, '?')
	return append(dst, query...)
}

// moved writes a 301 to the location held in rs.scratch, with a small HTML
// body linking to it.
func (rs *responder) moved(dst []byte, req *http1.Request, rsp *response) []byte {
	loc := rs.scratch
	bodyStart := len(loc)
	rs.scratch = appendMovedPage(rs.scratch, loc)
	body := rs.scratch[bodyStart:]
	rsp.status = 301
	mark := len(dst)
	dst = rs.appendStart(dst, 301)
	dst = http1.AppendHeader(dst, "Location", loc)
	dst = http1.AppendHeaderString(dst, "Content-Type", htmlType)
	dst = http1.AppendHeaderInt(dst, "Content-Length", int64(len(body)))
	dst = rs.appendEnd(dst, req.Version, rsp.close)
	rsp.head = dst[mark:]
	if req.Method != http1.MethodHead {
		rsp.body = body
	}
	return dst
}

// appendStart appends the status line and the headers every response has.
func (rs *responder) appendStart(dst []byte, status int) []byte {
	dst = http1.AppendStatusLine(dst, http1.Version11, status)
	dst = http1.AppendHeader(dst, "Date", rs.clock.Date())
	return http1.AppendHeader(dst, "Server", rs.set.serverName)
}

// appendEnd appends the Connection header the response needs and the empty
// line that ends the head. An HTTP/1.1 connection persists by default; an
// HTTP/1.0 one only when the response says keep-alive.
func (rs *responder) appendEnd(dst []byte, v http1.Version, closing bool) []byte {
	switch {
	case closing:
		dst = http1.AppendHeaderString(dst, "Connection", "close")
	case v == http1.Version10:
		dst = http1.AppendHeaderString(dst, "Connection", "keep-alive")
	}
	return append(dst, '\r', '\n')
}
