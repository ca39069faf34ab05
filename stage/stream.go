package stage

import (
	"context"
	"net"
	"time"
)

// Flusher is implemented by a [ResponseWriter] that can send what was
// written so far before the handler returns (a streaming handler such as a
// reverse proxy relays each piece of an upstream body as it arrives).
// Flush sends the response head if it is not out yet, then every body byte
// written so far (as one or more chunks when the server chose chunked
// encoding). It returns the write error, after which the handler should
// stop. A handler finds it with a type assertion on w.
type Flusher interface {
	Flush() error
}

// Hijacker is implemented by a [ResponseWriter] of an HTTP/1.x connection
// whose request reached a blocking handler: Hijack hands the client
// connection over to the handler, for a protocol switch (a 101 answer to
// Upgrade, such as WebSocket) or a tunnel.
//
// After Hijack the server neither reads nor writes the connection, sends no
// response (what w holds is discarded, so it must be called before anything
// was written), applies no timeouts and does not reuse the connection; the
// handler must close conn, also on error, before or after it returns.
// buffered holds the bytes the server had already read from the client
// beyond the request head and body (a client may send the first frames of
// the new protocol right behind the request): the handler consumes them
// before reading conn. Any deadline on conn is cleared. Hijack fails (and
// the connection stays the server's) when the response was already written
// or the connection cannot be handed over (a handler on the event loop);
// the writer of an HTTP/2 stream does not implement Hijacker at all. Stage 40 still runs for the request; the server reports it with
// status 101.
type Hijacker interface {
	Hijack() (conn net.Conn, buffered []byte, err error)
}

// HijackTracker is implemented by a [ResponseWriter] that is a [Hijacker]
// when its server can end, at shutdown, a hijacked connection that
// outlives its handler (a parked WebSocket of package gibbon/websocket,
// which no handler goroutine waits on). HijackRegistry returns the
// server's registry; unlike w, it stays valid after the handler returns.
type HijackTracker interface {
	HijackRegistry() HijackRegistry
}

// HijackRegistry is a server's set of registered [Hijacked] connections.
// Track registers h; Untrack, which h's owner calls once the connection
// is closed, forgets it (and does nothing for h not registered). While h
// is registered, the server's Shutdown calls h.GoAway once, on a
// goroutine of its own, when it begins (at once for h tracked during
// Shutdown), then waits for Untrack; when its grace period ends first, it
// closes h.NetConn() and stops waiting. A HijackRegistry is safe for
// concurrent use.
//
// HijackRegistry and Hijacked are aliases of interface literals, not
// defined types, so that a package that does not import stage
// (gibbon/websocket) can name the same types; the registry holds h
// itself, so that a registration allocates nothing.
type HijackRegistry = interface {
	Track(h Hijacked)
	Untrack(h Hijacked)
}

// Hijacked is a hijacked connection registered with a [HijackRegistry]:
// NetConn returns its socket; GoAway starts ending it (a WebSocket sends a
// close frame 1001) and must not block for long. Its dynamic type must be
// comparable (a pointer).
type Hijacked = interface {
	NetConn() net.Conn
	GoAway()
}

// Context returns the request's context: the server cancels it when the
// client connection is closed or broken, or when the server shuts down, so
// that a blocking handler can stop waiting on its own I/O. It is never nil:
// a Request the server did not give a context to (a test's, an inline
// handler's) answers context.Background(). The context must not be used
// after the handler returns.
func (r *Request) Context() context.Context {
	if r.ctx == nil {
		return context.Background()
	}
	return r.ctx
}

// SetContext sets the context [Request.Context] returns. The server calls
// it before a blocking handler runs; a handler may call it to hand a
// derived context to code it calls. ctx must not be nil.
func (r *Request) SetContext(ctx context.Context) {
	if ctx == nil {
		panic("stage: SetContext with a nil context")
	}
	r.ctx = ctx
}

// Trailers is implemented by a [ResponseWriter] that can send trailer
// fields after the body. Trailer returns the list; the fields it holds
// when the handler returns go out after the last chunk (HTTP/1.1) or in
// a HEADERS frame ending the stream (HTTP/2, also after an empty body;
// not for HEAD). A response whose header announces trailers ("Trailer:
// X-Checksum") and sets no Content-Length is sent chunked to an HTTP/1.1
// client even when the whole body is known; an HTTP/1.0 client and a
// Content-Length response over HTTP/1.1 get no trailers. A handler finds
// it with a type assertion on w.
type Trailers interface {
	Trailer() *Header
}

// Deadliner is implemented by a [ResponseWriter] of a blocking handler on
// a connection the handler may set deadlines on (net/http's
// ResponseController): SetReadDeadline bounds the reads of Request.Body,
// SetWriteDeadline the writes of the response, each replacing the server's
// Timeout until the request ends; the zero time restores the server's
// timeout. Past the read deadline Request.Body's Read returns the bytes
// received before it, then fails with an error wrapping
// os.ErrDeadlineExceeded. Over HTTP/2 the deadlines are the stream's, as
// in x/net/http2's server: a read deadline that passed stays passed
// (later bytes are dropped); past the write deadline the stream is reset
// (RST_STREAM INTERNAL_ERROR), whether or not a write is under way, and
// its later writes fail; the connection's other streams go on.
type Deadliner interface {
	SetReadDeadline(t time.Time) error
	SetWriteDeadline(t time.Time) error
}

// BodyTrailer is implemented by a Request.Body that receives the
// request's trailer fields (the trailer section of an HTTP/1.1 chunked
// body, or the fields an HTTP/2 client sends after the body). Trailer
// returns them, in order, once Read has returned io.EOF; nil before, and
// when the request had none. Every call returns the same slice, which
// callers must not change.
type BodyTrailer interface {
	Trailer() []Field
}
