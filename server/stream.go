package server

import (
	"errors"
	"io"
	"net"
	"time"

	"gibbon/http1"
	"gibbon/stage"
)

// streamHold is how many body bytes a streamWriter holds before it sends
// the head: a response that ends within it gets a Content-Length.
const streamHold = 16 << 10

// framing is how a streamed body is delimited.
type framing uint8

const (
	frameNone    framing = iota // HEAD, 204, 304: no body
	frameLength                 // Content-Length
	frameChunked                // HTTP/1.1 chunked
	frameClose                  // HTTP/1.0 without a length: the close ends it
)

// errBodyOverLength is a handler writing more than the Content-Length it
// set.
var errBodyOverLength = errors.New("server: handler wrote more than its Content-Length")

// errHijackWritten is Hijack after the response was written.
var errHijackWritten = errors.New("server: hijack after the response was written")

// streamWriter is the [stage.ResponseWriter] of a blocking handler on the
// goroutine driver: it holds up to streamHold body bytes, then (or on
// Flush) sends the head and streams the body, with the handler's
// Content-Length when it set a valid one, else chunked (HTTP/1.1) or
// delimited by the close (HTTP/1.0). A response that ends within the hold
// gets a Content-Length. HEAD, 204 and 304 answers send no body. It also
// implements [stage.Flusher] and [stage.Hijacker].
type streamWriter struct {
	writerHead
	c        *conn
	sent     bool // the head is out
	hijacked bool
	frame    framing
	remain   int64 // frameLength: body bytes still allowed
	hold     []byte
	bytes    int64 // body bytes sent
	err      error // sticky write error
	trailer  stage.Header
	// readDL and writeDL are the handler's deadlines (Deadliner); zero
	// means the server's Timeout.
	readDL, writeDL time.Time
}

func (w *streamWriter) reset(c *conn) {
	w.hdr.Reset()
	w.trailer.Reset()
	hold := w.hold[:0]
	*w = streamWriter{c: c, writerHead: writerHead{hdr: w.hdr}, trailer: w.trailer, hold: hold}
}

// Trailer returns the trailer fields (see [stage.Trailers]).
func (w *streamWriter) Trailer() *stage.Header { return &w.trailer }

// SetReadDeadline sets the deadline of the body reads (see
// [stage.Deadliner]).
func (w *streamWriter) SetReadDeadline(t time.Time) error {
	w.readDL = t
	c := w.c
	if t.IsZero() {
		c.rdl = time.Time{} // readBody sets Timeout's
		return nil
	}
	c.rdl = t
	return c.nc.SetReadDeadline(t)
}

// SetWriteDeadline sets the deadline of the response writes.
func (w *streamWriter) SetWriteDeadline(t time.Time) error {
	w.c.outMu.Lock()
	defer w.c.outMu.Unlock()
	w.writeDL = t
	c := w.c
	if t.IsZero() {
		c.wdl = time.Time{} // the next write sets Timeout's
		return nil
	}
	c.wdl = t
	return c.nc.SetWriteDeadline(t)
}

// bodyReadTimeout bounds the next body read by the handler's read
// deadline (set by SetReadDeadline), else by Timeout from now.
func (c *conn) bodyReadTimeout() {
	if c.sw.readDL.IsZero() {
		c.readTimeout(time.Now(), c.gen.set.timeout)
	}
}

// Write holds or sends body bytes.
func (w *streamWriter) Write(p []byte) (int, error) {
	w.c.outMu.Lock()
	defer w.c.outMu.Unlock()
	return w.write(p)
}

func (w *streamWriter) write(p []byte) (int, error) {
	w.WriteHeader(200)
	if w.err != nil {
		return 0, w.err
	}
	if !w.sent {
		w.hold = append(w.hold, p...)
		if len(w.hold) > streamHold {
			return len(p), w.flush()
		}
		return len(p), nil
	}
	return w.send(p)
}

// Respond answers in one call; an empty contentType and a nil body ask
// for the server's standard response.
func (w *streamWriter) Respond(status int, contentType string, body []byte) error {
	return w.respondWith(w, status, contentType, body)
}

// Flush sends the head if it is not out, then every body byte written.
func (w *streamWriter) Flush() error {
	w.c.outMu.Lock()
	defer w.c.outMu.Unlock()
	return w.flush()
}

func (w *streamWriter) flush() error {
	w.WriteHeader(200)
	if w.err != nil || w.standard {
		return w.err
	}
	if !w.sent {
		w.sendHead(false)
		hold := w.hold
		w.hold = w.hold[:0]
		if _, err := w.send(hold); err != nil {
			return err
		}
	}
	if err := w.c.flush(); err != nil {
		w.err = err
	}
	return w.err
}

// Hijack gives the connection to the handler (see [stage.Hijacker]).
func (w *streamWriter) Hijack() (net.Conn, []byte, error) {
	if w.wrote {
		return nil, nil, errHijackWritten
	}
	c := w.c
	c.rctx.stopWatch()
	c.outMu.Lock()
	defer c.outMu.Unlock()
	if err := c.flush(); err != nil {
		return nil, nil, err
	}
	buffered := append([]byte(nil), c.buf[c.start:c.end]...)
	c.start = c.end
	c.nc.SetDeadline(time.Time{})
	c.rdl, c.wdl = time.Time{}, time.Time{}
	w.hijacked = true
	return c.nc, buffered, nil
}

// HijackRegistry returns the server's registry of hijacked connections
// (see [stage.HijackTracker]).
func (w *streamWriter) HijackRegistry() stage.HijackRegistry { return hijackRegistry{w.c.srv} }

// sendHead appends the head to the connection's output; known says the
// whole body is held.
func (w *streamWriter) sendHead(known bool) {
	c := w.c
	w.sent = true
	c.out, w.frame, w.remain = c.rs.streamHead(c.out, &c.req, &w.writerHead, known, true, int64(len(w.hold)), &c.rsp)
}

// streamHead appends the head of a blocking handler's answer (the status
// and fields in wh) to dst and says how its body is framed, and for
// frameLength how many bytes it may have: the handler's valid
// Content-Length, else the held bytes when known says they are the whole
// body, else chunked (HTTP/1.1; over HTTP/2, where the request is
// presented as HTTP/1.1, the Transfer-Encoding field is dropped and DATA
// frames delimit the body) or the close (HTTP/1.0). HEAD, 204 and 304
// answers have no body. chunks says that trailers need chunked framing
// (HTTP/1.1, not HTTP/2): an HTTP/1.1 answer announcing trailers
// ("Trailer:") without a Content-Length is then chunked, and has no
// Content-Length for HEAD either, as net/http does.
func (rs *responder) streamHead(dst []byte, req *http1.Request, wh *writerHead, known, chunks bool, held int64, rsp *response) ([]byte, framing, int64) {
	rsp.status = wh.status
	dst = rs.appendStart(dst, wh.status)
	dst = appendFields(dst, &wh.hdr, "")
	declared := declaredLength(&wh.hdr)
	trailers := chunks && req.Version == http1.Version11 && wh.hdr.Get("Trailer") != ""
	frame, remain := frameNone, int64(0)
	switch {
	case bodyless(wh.status):
	case req.Method == http1.MethodHead:
		if declared < 0 && known && !trailers {
			declared = held // what a GET would send
		}
		if declared >= 0 {
			dst = http1.AppendHeaderInt(dst, "Content-Length", declared)
		}
	case declared < 0 && trailers:
		frame = frameChunked // trailers need chunks
		dst = http1.AppendHeaderString(dst, "Transfer-Encoding", "chunked")
	case declared >= 0 || known:
		if declared < 0 {
			declared = held
		}
		frame, remain = frameLength, declared
		dst = http1.AppendHeaderInt(dst, "Content-Length", declared)
	case req.Version == http1.Version11:
		frame = frameChunked
		dst = http1.AppendHeaderString(dst, "Transfer-Encoding", "chunked")
	default:
		frame, rsp.close = frameClose, true
	}
	return rs.appendEnd(dst, req.Version, rsp.close), frame, remain
}

// send writes body bytes after the head, framed.
func (w *streamWriter) send(p []byte) (int, error) {
	c := w.c
	n := len(p)
	switch w.frame {
	case frameNone:
		return n, nil
	case frameLength:
		if int64(n) > w.remain {
			p, w.err = p[:w.remain], errBodyOverLength
		}
		w.remain -= int64(len(p))
		c.out = append(c.out, p...)
	case frameChunked:
		if n > 0 {
			c.out = http1.AppendChunkHeader(c.out, n)
			c.out = append(append(c.out, p...), '\r', '\n')
		}
	case frameClose:
		c.out = append(c.out, p...)
	}
	w.bytes += int64(len(p))
	if len(c.out) >= flushAt {
		if err := c.flush(); err != nil {
			w.err = err
		}
	}
	if w.err != nil {
		return len(p), w.err
	}
	return n, nil
}

// finish completes a response the handler ended without error: the head
// with a Content-Length if it is not out, or the last chunk. It reports
// whether the connection may stay open (a body shorter than its
// Content-Length, a write error or close framing end it).
func (w *streamWriter) finish() bool {
	c := w.c
	w.WriteHeader(200)
	if !w.sent {
		w.sendHead(true)
		hold := w.hold
		w.hold = w.hold[:0]
		w.send(hold)
	}
	switch w.frame {
	case frameChunked:
		c.out = append(c.out, "0\r\n"...)
		c.out = appendFields(c.out, &w.trailer, "Trailer")
		c.out = append(c.out, "\r\n"...)
	case frameLength:
		if w.remain > 0 {
			c.rsp.close = true
		}
	}
	return w.err == nil && !c.rsp.close
}

var (
	_ stage.ResponseWriter = (*streamWriter)(nil)
	_ stage.Flusher        = (*streamWriter)(nil)
	_ stage.Hijacker       = (*streamWriter)(nil)
	_ stage.HijackTracker  = (*streamWriter)(nil)
	_ stage.Trailers       = (*streamWriter)(nil)
	_ stage.Deadliner      = (*streamWriter)(nil)
	_ stage.BodyTrailer    = (*bodyReader)(nil)
)

// bodyReader is a blocking handler's Request.Body on the goroutine
// driver: it reads a Content-Length or chunked body from the connection's
// buffer and socket (each read bounded by Timeout), sends "100 Continue"
// before its first read when the client waits for it, stops a chunked
// body over MaxRequestSize with a 413 error, and keeps a chunked body's
// trailer fields (stage.BodyTrailer). Bytes after the body stay for the
// next request.
type bodyReader struct {
	c         *conn
	remaining int64 // Content-Length bytes left
	chunked   bool
	limited   bool  // budget applies
	budget    int64 // chunked wire bytes still allowed
	dec       http1.ChunkedDecoder
	trailer   []stage.Field // dec's trailer as fields, made on the first Trailer call
	cont      bool          // send "100 Continue" before reading
	err       error
}

func (b *bodyReader) start(c *conn, req *http1.Request, p bodyPlan) {
	b.c, b.err, b.trailer = c, nil, nil
	b.chunked, b.remaining = req.Chunked, max(req.ContentLength, 0)
	b.limited, b.budget = p.budget >= 0, p.budget
	b.cont = p.sendContinue && !c.bodyBuffered(0)
	b.dec.KeepTrailer = true
	b.dec.Reset()
	if !req.HasBody() {
		b.err = io.EOF
	}
}

// Read reads body bytes. A handler may call it from another goroutine
// than its own (CGI feeds stdin from one) while it writes the response.
func (b *bodyReader) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	if b.cont {
		b.cont = false
		if err := b.sendContinue(); err != nil {
			b.err = err
			return 0, err
		}
	}
	for {
		if n := b.take(p); n > 0 || b.err != nil {
			if b.err == io.EOF {
				b.c.watchAfterBody()
			}
			return n, b.err
		}
		c := b.c
		c.bodyReadTimeout()
		if err := c.fill(); err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, errHeadTooLarge) {
				err = io.ErrUnexpectedEOF
			}
			b.err = err
			return 0, err
		}
	}
}

// Trailer returns the trailer fields of a chunked body read to its end
// (see stage.BodyTrailer).
func (b *bodyReader) Trailer() []stage.Field {
	if !b.chunked || b.err != io.EOF {
		return nil
	}
	if b.trailer == nil {
		for _, f := range b.dec.Trailer() {
			b.trailer = append(b.trailer, stage.Field{Name: string(f.Name), Value: string(f.Value)})
		}
	}
	return b.trailer
}

// sendContinue writes "100 Continue" unless the response head is already
// out (then the client has its answer).
func (b *bodyReader) sendContinue() error {
	c := b.c
	c.outMu.Lock()
	defer c.outMu.Unlock()
	if c.sw.sent {
		return nil
	}
	c.out = append(c.out, continue100...)
	return c.flush()
}

// take copies body bytes from the connection's buffer into p.
func (b *bodyReader) take(p []byte) int {
	c := b.c
	in := c.buf[c.start:c.end]
	if !b.chunked {
		n := copy(p, in[:min(int64(len(in)), b.remaining)])
		b.remaining -= int64(n)
		c.start += n
		if b.remaining == 0 {
			b.err = io.EOF
		}
		return n
	}
	if b.limited && int64(len(in)) > b.budget {
		in = in[:b.budget+1] // one byte over the budget is enough to tell
	}
	nsrc, ndst, err := b.dec.Decode(p, in)
	c.start += nsrc
	b.budget -= int64(nsrc)
	switch {
	case err != nil:
		b.err = err
	case b.limited && b.budget < 0:
		b.err = errBodyTooLarge
	case b.dec.Done():
		b.err = io.EOF
	}
	return ndst
}

// drain reads the rest of the body and drops it; it reports whether the
// connection is still in step for a next request.
func (b *bodyReader) drain() bool {
	if b.err == nil {
		io.Copy(io.Discard, b)
	}
	return errors.Is(b.err, io.EOF)
}

// bodyError is a blocking handler's error err, given the status the
// error that ended its request body (bodyErr) calls for (413, 400).
func bodyError(bodyErr, err error) error {
	if bodyErr == nil || errors.Is(bodyErr, io.EOF) || err == nil {
		return err
	}
	if s := bodyStatus(bodyErr); s != 0 {
		return stage.Error(s, err)
	}
	return err
}
