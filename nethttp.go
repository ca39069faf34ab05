package gibbon

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
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
	req, err := newHTTPRequest(r)
	if err != nil {
		return stage.Error(400, err)
	}
	req.Pattern = rt.pattern
	var p params
	rt.params(r.Path, &p)
	for i := range min(p.n, maxParams) {
		req.SetPathValue(p.fixed[i].name, p.fixed[i].value)
	}
	for _, x := range p.more {
		req.SetPathValue(x.name, x.value)
	}
	ctx := &requestContext{parent: r.Context(), local: net.TCPAddrFromAddrPort(r.Conn.Local)}
	defer ctx.end()
	req = req.WithContext(ctx)
	rw := &responseWriter{w: w}
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				err = http.ErrAbortHandler
			} else {
				err = recovered(v)
			}
			return
		}
		if rw.hijacked {
			return
		}
		err = rw.finish()
	}()
	a.h.ServeHTTP(rw, req)
	return nil
}

// newHTTPRequest builds the *http.Request of r. Its Body reads r.Body.
func newHTTPRequest(r *stage.Request) (*http.Request, error) {
	uri := string(r.Target)
	u, err := url.ParseRequestURI(uri)
	if err != nil {
		return nil, err
	}
	req := &http.Request{
		Method:     string(r.MethodName),
		URL:        u,
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header:     make(http.Header, len(r.Headers)),
		Host:       string(r.Host),
		RemoteAddr: r.Conn.Remote.String(),
		RequestURI: uri,
		Body:       http.NoBody,
	}
	if r.Proto == http1.Version10 {
		req.Proto, req.ProtoMinor = "HTTP/1.0", 0
	}
	if r.Conn.TLS {
		req.TLS = &tls.ConnectionState{HandshakeComplete: true}
	}
	if u.Host == "" {
		u.Host = req.Host
	}
	chunked := false
	for _, h := range r.Headers {
		name := http.CanonicalHeaderKey(string(h.Name))
		switch name {
		case "Host":
			continue
		case "Transfer-Encoding":
			chunked = true
			continue
		}
		req.Header[name] = append(req.Header[name], string(h.Value))
	}
	switch {
	case chunked:
		req.ContentLength, req.TransferEncoding = -1, []string{"chunked"}
	case req.Header.Get("Content-Length") != "":
		req.ContentLength, _ = strconv.ParseInt(req.Header.Get("Content-Length"), 10, 64)
	}
	if (chunked || req.ContentLength > 0) && r.Body != nil {
		req.Body = body{r.Body}
	}
	return req, nil
}

// body is a request body as net/http handlers expect it: closing it is
// allowed (the server drains what is left after the handler).
type body struct{ io.Reader }

func (body) Close() error { return nil }

// responseWriter is the http.ResponseWriter over a stage writer. As
// net/http does, it takes a copy of the header map at WriteHeader, sniffs
// the Content-Type of the first 512 body bytes when none is set, and sends
// the trailers the handler announced ("Trailer:") or sets with
// http.TrailerPrefix.
type responseWriter struct {
	w        stage.ResponseWriter
	header   http.Header
	status   int  // set by WriteHeader
	started  bool // the stage writer has the status and the fields
	sniff    []byte
	needType bool // the Content-Type is still to be sniffed
	trailers []string
	hijacked bool
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
	rw.needType = !typed && code != 204 && code != 304 && rw.header.Get("Content-Encoding") == ""
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

// WriteString writes s.
func (rw *responseWriter) WriteString(s string) (int, error) {
	return rw.Write([]byte(s))
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
		rw.sniff = nil
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
	var src io.Reader = conn
	if len(buffered) > 0 {
		src = io.MultiReader(bytes.NewReader(buffered), conn)
	}
	return conn, bufio.NewReadWriter(bufio.NewReader(src), bufio.NewWriter(conn)), nil
}

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
	parent context.Context
	local  net.Addr

	mu   sync.Mutex
	done chan struct{}
	err  error
	stop func() bool
}

// Deadline reports no deadline.
func (c *requestContext) Deadline() (time.Time, bool) { return c.parent.Deadline() }

// Done returns a channel closed when the request is cancelled.
func (c *requestContext) Done() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done == nil {
		c.done = make(chan struct{})
		switch {
		case c.err != nil:
			close(c.done)
		default:
			c.stop = context.AfterFunc(c.parent, func() { c.cancel(context.Canceled) })
		}
	}
	return c.done
}

// Err returns context.Canceled once the request is cancelled.
func (c *requestContext) Err() error {
	c.mu.Lock()
	err, asked := c.err, c.done != nil
	c.mu.Unlock()
	if err == nil && !asked {
		err = c.parent.Err()
	}
	return err
}

// Value answers http.LocalAddrContextKey, else asks the server's context.
func (c *requestContext) Value(key any) any {
	if key == http.LocalAddrContextKey {
		return c.local
	}
	return c.parent.Value(key)
}

func (c *requestContext) cancel(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err == nil {
		c.err = err
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
	c.cancel(context.Canceled)
}
