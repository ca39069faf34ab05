package gibbon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"

	"gibbon/http1"
	"gibbon/stage"
)

// Handler serves requests through the native API. Registered with
// [Server.Handle], Serve runs on the connection's goroutine (never on an
// event loop), so it may block; registered with
// [Server.HandleNonBlocking], it may run on an event loop and must never
// block. It answers through c, which must not be kept or used once Serve
// returns.
type Handler interface {
	Serve(c *Ctx)
}

// HandlerFunc adapts a function to a [Handler].
type HandlerFunc func(c *Ctx)

// Serve calls f(c).
func (f HandlerFunc) Serve(c *Ctx) { f(c) }

// Ctx is one request and its response, for a native [Handler].
//
// Lifetime: the server owns the Ctx and reuses it for another request once
// the handler returns; neither c nor anything it returns as []byte (Header,
// Host, Target) may be kept after that: copy what you keep. Strings (Path,
// Query, Param, Method) may be kept. A Ctx is used by the handler's
// goroutine only, except Body, which another goroutine may read while the
// handler writes.
//
// Writing: the status and header fields go out with the first body bytes
// that do not fit the server's 16 KiB hold, with Flush, or when the
// handler returns; a response that ends within the hold gets a
// Content-Length, a longer one is chunked (HTTP/1.1) unless the handler
// set a Content-Length. HEAD, 204 and 304 answers carry no body.
type Ctx struct {
	w       stage.ResponseWriter
	r       *stage.Request
	p       params
	scratch []byte
	err     error // a write error, returned to the server
}

var ctxPool = sync.Pool{New: func() any { return new(Ctx) }}

// nativeHandler runs a Handler for its routes.
type nativeHandler struct{ h Handler }

func (n *nativeHandler) serve(w stage.ResponseWriter, r *stage.Request, rt *route) (err error) {
	c := ctxPool.Get().(*Ctx)
	c.w, c.r = w, r
	rt.params(r.Path, &c.p)
	defer func() {
		if v := recover(); v != nil {
			err = recovered(v)
		}
		if err == nil {
			err = c.err
		}
		c.release()
	}()
	n.h.Serve(c)
	return nil
}

func (c *Ctx) release() {
	c.w, c.r, c.err = nil, nil, nil
	c.p.reset()
	if cap(c.scratch) > 64<<10 {
		c.scratch = nil
	}
	ctxPool.Put(c)
}

// errPanic is the error a handler's panic becomes: the server answers 500
// when nothing was sent, else closes the connection.
var errPanic = errors.New("gibbon: handler panicked")

func recovered(v any) error {
	if err, ok := v.(error); ok {
		return fmt.Errorf("%w: %w", errPanic, err)
	}
	return fmt.Errorf("%w: %v", errPanic, v)
}

// Method returns the request method ("GET", "POST" …).
func (c *Ctx) Method() string {
	switch c.r.Method {
	case http1.MethodGet:
		return "GET"
	case http1.MethodHead:
		return "HEAD"
	case http1.MethodPost:
		return "POST"
	case http1.MethodPut:
		return "PUT"
	case http1.MethodDelete:
		return "DELETE"
	}
	return string(c.r.MethodName)
}

// Path returns the decoded, clean request path (it begins with "/" and
// holds no "." or ".." segment).
func (c *Ctx) Path() string { return c.r.Path }

// Query returns the raw query string, without '?'.
func (c *Ctx) Query() string { return c.r.Query }

// QueryValue returns the first value of the query parameter key, decoded
// ("" when absent). It allocates only when the value is percent-encoded.
func (c *Ctx) QueryValue(key string) string { return queryValue(c.r.Query, key) }

// Param returns the value of the pattern's wildcard name ("{name}" or
// "{name...}"), or "".
func (c *Ctx) Param(name string) string { return c.p.get(name) }

// Target returns the request target as sent (path and query, still
// percent-encoded). The slice must not be kept.
func (c *Ctx) Target() []byte { return c.r.Target }

// Host returns the Host header (port included). The slice must not be
// kept.
func (c *Ctx) Host() []byte { return c.r.Host }

// Header returns the value of the first request header named name
// (ASCII case-insensitive), or nil. The slice must not be kept.
func (c *Ctx) Header(name string) []byte { return c.r.Header(name) }

// VisitHeaders calls f for each request header line, in order. The slices
// must not be kept.
func (c *Ctx) VisitHeaders(f func(name, value []byte)) {
	for _, h := range c.r.Headers {
		f(h.Name, h.Value)
	}
}

// Body reads the request body (io.EOF at its end). A client waiting with
// "Expect: 100-continue" is told to send it on the first Read. A body the
// handler leaves unread is drained after it returns. A request without a
// body served by a HandleNonBlocking handler has an empty Body.
func (c *Ctx) Body() io.Reader {
	if c.r.Body == nil {
		return http.NoBody
	}
	return c.r.Body
}

// RequestTrailers returns the request's trailer fields, in order, once
// Body has returned io.EOF: those of an HTTP/1.1 chunked body's trailer
// section, or those an HTTP/2 client sends after the body (without the
// names a trailer must not carry, such as Host or Content-Length, which
// reset the stream when the request announced trailers). It returns nil
// before, and when the request has none. The strings may be kept; the
// slice must not be changed. Over HTTP/1.1 the first call after the end
// of a body with trailers makes their strings; nothing else allocates.
func (c *Ctx) RequestTrailers() []stage.Field {
	if t, ok := c.r.Body.(stage.BodyTrailer); ok {
		return t.Trailer()
	}
	return nil
}

// RequestTrailer returns the value of the first request trailer field
// named name (ASCII case-insensitive), or "" (see RequestTrailers).
func (c *Ctx) RequestTrailer(name string) string {
	for _, f := range c.RequestTrailers() {
		if strings.EqualFold(f.Name, name) {
			return f.Value
		}
	}
	return ""
}

// RemoteAddr returns the client's address.
func (c *Ctx) RemoteAddr() netip.AddrPort { return c.r.Conn.Remote }

// TLS reports whether the request came over TLS.
func (c *Ctx) TLS() bool { return c.r.Conn.TLS }

// Context returns the request's context: cancelled when the client goes
// away (noticed while the handler waits, once the request body is read),
// when the server shuts down, and when the handler returns. A
// HandleNonBlocking handler answering in memory gets one that is never
// cancelled.
func (c *Ctx) Context() context.Context { return c.r.Context() }

// Request returns the stage-level request, for code shared with plugins.
func (c *Ctx) Request() *stage.Request { return c.r }

// ResponseHeader returns the response header fields to send; changes after
// the head went out have no effect. The server sets Date, Server,
// Content-Length, Transfer-Encoding and Connection itself.
func (c *Ctx) ResponseHeader() *stage.Header { return c.w.Header() }

// SetHeader sets a response header field, replacing any of the same name.
func (c *Ctx) SetHeader(name, value string) { c.w.Header().Set(name, value) }

// AddHeader adds a response header field.
func (c *Ctx) AddHeader(name, value string) { c.w.Header().Add(name, value) }

// Status sets the response status (the first call counts; Write sets 200
// when it was not called).
func (c *Ctx) Status(code int) { c.w.WriteHeader(code) }

// Write writes body bytes (see Ctx for when they leave).
func (c *Ctx) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	if err != nil && c.err == nil {
		c.err = err
	}
	return n, err
}

// WriteString writes s as body bytes without allocating.
func (c *Ctx) WriteString(s string) (int, error) {
	c.scratch = append(c.scratch[:0], s...)
	return c.Write(c.scratch)
}

// String answers with status code and s as a text/plain body.
func (c *Ctx) String(code int, s string) error {
	c.SetHeader("Content-Type", "text/plain; charset=utf-8")
	c.Status(code)
	_, err := c.WriteString(s)
	return err
}

// Bytes answers with status code, the Content-Type contentType (when not
// "") and body b.
func (c *Ctx) Bytes(code int, contentType string, b []byte) error {
	if contentType != "" {
		c.SetHeader("Content-Type", contentType)
	}
	c.Status(code)
	_, err := c.Write(b)
	return err
}

// JSON answers with status code and v encoded as JSON
// (application/json). The encoding allocates as encoding/json does.
func (c *Ctx) JSON(code int, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	c.scratch = append(append(c.scratch[:0], b...), '\n')
	c.SetHeader("Content-Type", "application/json")
	c.SetHeader("Content-Length", strconv.Itoa(len(c.scratch)))
	c.Status(code)
	_, err = c.Write(c.scratch)
	return err
}

// Error answers with the server's standard page for status (the host's
// error page for 4xx and 5xx), keeping the header fields already set.
func (c *Ctx) Error(status int) error { return c.w.Respond(status, "", nil) }

// Flush sends the head, if it is not out, and every body byte written so
// far (as chunks when the response is chunked): a streaming handler calls
// it after each piece.
func (c *Ctx) Flush() error {
	f, ok := c.w.(stage.Flusher)
	if !ok {
		return errors.ErrUnsupported
	}
	err := f.Flush()
	if err != nil && c.err == nil {
		c.err = err
	}
	return err
}

// Trailer returns the trailer fields sent after the response body
// (announce them with a "Trailer" header field first; see
// stage.Trailers), or nil when the connection cannot carry trailers. The
// request's trailers are RequestTrailers'.
func (c *Ctx) Trailer() *stage.Header {
	if t, ok := c.w.(stage.Trailers); ok {
		return t.Trailer()
	}
	return nil
}

// Hijack takes the client connection over, for a protocol switch such as
// WebSocket (see stage.Hijacker): the server sends nothing more on it and
// the handler must close conn. buffered holds bytes the client already
// sent after the request. It fails once the response was written, and
// over HTTP/2.
func (c *Ctx) Hijack() (conn net.Conn, buffered []byte, err error) {
	h, ok := c.w.(stage.Hijacker)
	if !ok {
		return nil, nil, errors.ErrUnsupported
	}
	return h.Hijack()
}

// HijackRegistry returns the server's registry of hijacked connections
// that outlive their handler, so that Shutdown ends them (see
// stage.HijackTracker; package websocket registers parked connections
// with it), or nil where Hijack is not supported. The registry stays
// valid after the handler returns.
func (c *Ctx) HijackRegistry() stage.HijackRegistry { return hijackRegistry(c.w) }

// hijackRegistry returns w's stage.HijackRegistry, or nil.
func hijackRegistry(w stage.ResponseWriter) stage.HijackRegistry {
	if t, ok := w.(stage.HijackTracker); ok {
		return t.HijackRegistry()
	}
	return nil
}
