package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"time"

	"gibbon/http1"
	"gibbon/http2"
	"gibbon/stage"
)

// Blocking handlers over HTTP/2. The connection's driver goroutine owns
// the http2.ServerConn; a blocking handler runs on a goroutine of its own
// per stream and never touches it. It talks to the driver through its
// h2handler:
//
//   - writes: the handler's h2Writer holds up to streamHold bytes, then
//     queues a write (the bytes, not copied) and waits for the driver's
//     reply. The driver sends the head (built by the same responder as
//     over HTTP/1) and the bytes as DATA frames as far as the
//     flow-control windows and the output allow, resuming on OnWritable,
//     and replies once all are taken. A client that does not read thus
//     blocks the handler, which buffers nothing beyond its hold: memory
//     per stream is bounded by streamHold plus the ServerConn's output.
//   - the request body: OnData copies DATA payloads into the handler's
//     input without returning their flow-control credit; Request.Body
//     takes them and queues the credit, which the driver returns
//     (WINDOW_UPDATE) with Consume. The client can therefore have at most
//     a stream window of body buffered per stream. The request's
//     trailers come with the body's end; Request.Body is a
//     stage.BodyTrailer.
//   - the end: the handler's goroutine queues its last held bytes and its
//     error and exits; the driver ends the response (END_STREAM, or the
//     writer's trailers in a HEADERS frame with END_STREAM, the error
//     page when nothing was sent, RST_STREAM(INTERNAL_ERROR) when the
//     handler failed or panicked after the head went out), follows an
//     internal redirect, and runs stage 40 once the stream has closed.
//   - deadlines (stage.Deadliner), as in x/net/http2's server: the read
//     deadline replaces Timeout as the bound of a Read's wait for body
//     bytes and, once it passes, ends the body after the bytes received
//     before it (a client sending steadily does not outrun it). The
//     write deadline's timer queues the handler with expired set, and
//     the driver resets the stream (RST_STREAM(INTERNAL_ERROR)) unless
//     its response has ended: a pending write and later ones fail with
//     errWriteDeadline. While set, the write deadline also replaces
//     Timeout as the bound of the stream's wait for the client's
//     flow-control window (h2conn.stalled).
//
// Work is queued on h2conn.queue under h2conn.mu, each handler at most
// once, and the driver is woken through h2conn.wake. Request.Context is
// cancelled when the stream closes before the handler returns
// (RST_STREAM from the client, a connection error or close, a shutdown
// past its grace period, the write deadline) and when the handler
// returns. The writer is a stage.Flusher, stage.Trailers and
// stage.Deadliner but not a stage.Hijacker: HTTP/2 has no connection to
// hand over (a proxy then forwards an Upgrade request plainly).

// h2handler is one run of a blocking handler on a stream.
type h2handler struct {
	h      *h2conn
	st     *h2stream // valid while running
	id     uint32
	w      h2Writer
	ctx    context.Context
	cancel context.CancelFunc
	reply  chan error    // the driver's answer to a write (capacity 1)
	ready  chan struct{} // body bytes or the body's end arrived (capacity 1)
	timer  *time.Timer   // bounds a wait for body bytes to Timeout or the read deadline
	rerr   error         // the reader's sticky error

	// guarded by h.mu
	queued  bool
	op      h2op
	hasOp   bool
	credit  int    // body bytes read, their credit not yet returned
	in      []byte // body bytes received and not read: in[inOff:]
	inOff   int
	inErr   error         // after in: io.EOF, errBodyTooLarge or the stream's end
	trailer []stage.Field // the request's trailers, with inErr io.EOF
	readDL  time.Time     // the read deadline; zero: Timeout
	writeDL time.Time     // the write deadline; zero: none
	wtimer  *time.Timer   // fires expired at writeDL
	expired bool          // the write deadline passed: the driver resets the stream
	// owned by the driver
	running  bool // the handler has not returned
	writing  bool // a write awaits its reply
	discard  bool // body bytes are no longer kept
	timedOut bool // the stream was reset for its write deadline
}

// h2op is a handler's request to the driver: body bytes to send, or,
// with final, the end of the handler.
type h2op struct {
	data    []byte
	final   bool
	err     error // final: the handler's error
	aborted bool  // final: the handler panicked
}

// startHandler runs rule's blocking handler for st on a new goroutine;
// ended says whether the request body has ended already.
func (h *h2conn) startHandler(st *h2stream, rule *stage.Rule, ended bool) {
	bh := &h2handler{h: h, st: st, id: st.id, reply: make(chan error, 1), ready: make(chan struct{}, 1)}
	bh.w.bh = bh
	if ended {
		bh.inErr, bh.discard = io.EOF, true // a body still arriving (after a redirect) is dropped
	} else {
		h.expectContinue(st.id)
	}
	bh.ctx, bh.cancel = context.WithCancel(h.c.srv.baseCtx)
	r := &st.x.r
	r.SetContext(bh.ctx)
	r.Body = bh
	st.bh, bh.running = bh, true
	h.running++
	go bh.serve(rule, r)
}

// serve runs the handler and hands its end to the driver.
func (bh *h2handler) serve(rule *stage.Rule, r *stage.Request) {
	err, aborted := bh.call(rule, r)
	bh.cancel()
	bh.submit(h2op{data: bh.w.buf, final: true, err: err, aborted: aborted})
}

// call runs the handler, recovering a panic (logged unless it is
// stage.ErrAbort): the stream is then reset, the connection goes on.
func (bh *h2handler) call(rule *stage.Rule, r *stage.Request) (err error, aborted bool) {
	defer func() {
		if v := recover(); v != nil {
			if v != stage.ErrAbort {
				bh.h.c.srv.log.Error("panic serving HTTP/2 stream", "remote", bh.h.c.nc.RemoteAddr().String(),
					"panic", v, "stack", string(debug.Stack()))
			}
			err, aborted = fmt.Errorf("server: handler panic: %v", v), true
		}
	}()
	return rule.Serve(&bh.w, r), false
}

// submit queues op for the driver and, for a write, waits for its reply.
func (bh *h2handler) submit(op h2op) error {
	h := bh.h
	h.mu.Lock()
	bh.op, bh.hasOp = op, true
	h.enqueue(bh)
	h.mu.Unlock()
	h.poke()
	if op.final {
		return nil
	}
	return <-bh.reply
}

// enqueue puts bh on the driver's queue once; h.mu is held.
func (h *h2conn) enqueue(bh *h2handler) {
	if !bh.queued {
		bh.queued = true
		h.queue = append(h.queue, bh)
	}
}

// poke wakes the driver.
func (h *h2conn) poke() {
	select {
	case h.wake <- struct{}{}:
	default:
	}
}

// signal wakes a reader waiting for body bytes.
func (bh *h2handler) signal() {
	select {
	case bh.ready <- struct{}{}:
	default:
	}
}

// Read reads the request body (Request.Body). It may be called from
// another goroutine than the handler's, one at a time. A wait for bytes
// is bounded by Timeout and ends with the request's context.
func (bh *h2handler) Read(p []byte) (int, error) {
	if bh.rerr != nil {
		return 0, bh.rerr
	}
	if len(p) == 0 {
		return 0, nil
	}
	h := bh.h
	for {
		h.mu.Lock()
		if n := copy(p, bh.in[bh.inOff:]); n > 0 {
			bh.inOff += n
			bh.credit += n
			h.enqueue(bh)
			h.mu.Unlock()
			h.poke()
			return n, nil
		}
		err, dl := bh.inErr, bh.readDL
		h.mu.Unlock()
		if err == nil {
			err = bh.wait(dl)
		}
		if err != nil {
			bh.rerr = err
			return 0, err
		}
	}
}

// wait waits for body bytes, the request's end, a change of the read
// deadline, or Timeout (the read deadline dl when it is set).
func (bh *h2handler) wait(dl time.Time) error {
	d, stalled := bh.h.c.srv.current().set.timeout, errReadStalled
	if !dl.IsZero() {
		d, stalled = time.Until(dl), errReadDeadline
		if d <= 0 {
			return errReadDeadline
		}
	}
	if bh.timer == nil {
		bh.timer = time.NewTimer(d)
	} else {
		bh.timer.Reset(d)
	}
	defer bh.timer.Stop()
	select {
	case <-bh.ready:
		return nil
	case <-bh.ctx.Done():
		return bh.ctx.Err()
	case <-bh.timer.C:
		return stalled
	}
}

// readExpiredLocked ends the body with errReadDeadline, after the bytes
// already received, when the read deadline has passed at now and the
// body has not ended otherwise; it reports whether it did. As in
// x/net/http2's server, a passed read deadline stays passed: later
// bytes are dropped and a new deadline does not revive the body. h.mu
// is held.
func (bh *h2handler) readExpiredLocked(now time.Time) bool {
	if bh.inErr != nil || bh.readDL.IsZero() || now.Before(bh.readDL) {
		return false
	}
	bh.inErr = errReadDeadline
	return true
}

// Trailer returns the request's trailers once the body has ended (see
// stage.BodyTrailer).
func (bh *h2handler) Trailer() []stage.Field {
	if bh.rerr != io.EOF {
		return nil // not before Read returned io.EOF, even if the end is in
	}
	bh.h.mu.Lock()
	defer bh.h.mu.Unlock()
	return bh.trailer
}

// errReadDeadline and errWriteDeadline are the errors of body reads and
// response writes past the handler's deadlines.
var (
	errReadDeadline  = fmt.Errorf("server: HTTP/2 request body read deadline: %w", os.ErrDeadlineExceeded)
	errWriteDeadline = fmt.Errorf("server: HTTP/2 stream reset at its write deadline: %w", os.ErrDeadlineExceeded)
)

// writeExpired runs when the write deadline's timer fires: it has the
// driver reset the stream, unless the deadline moved meanwhile.
func (bh *h2handler) writeExpired() {
	h := bh.h
	h.mu.Lock()
	due := !bh.writeDL.IsZero() && !time.Now().Before(bh.writeDL)
	if due {
		bh.expired = true
		h.enqueue(bh)
	}
	h.mu.Unlock()
	if due {
		h.poke()
	}
}

// hasWriteDeadline reports whether the handler set a write deadline.
func (bh *h2handler) hasWriteDeadline() bool {
	bh.h.mu.Lock()
	defer bh.h.mu.Unlock()
	return !bh.writeDL.IsZero()
}

// stopDeadline stops the write deadline's timer of a stream that closed.
func (bh *h2handler) stopDeadline() {
	bh.h.mu.Lock()
	if bh.wtimer != nil {
		bh.wtimer.Stop()
	}
	bh.writeDL = time.Time{}
	bh.h.mu.Unlock()
}

// expire resets bh's stream, whose write deadline passed, unless its
// response has ended (driver).
func (h *h2conn) expire(bh *h2handler) {
	if st := h.streams[bh.id]; st == nil || st.bh != bh {
		return
	}
	if s := h.sc.Stream(bh.id); s == nil || s.ResponseEnded() {
		return
	}
	bh.timedOut = true
	h.sc.Reset(bh.id, http2.InternalError)
}

// closedErr is the error of a write on bh's closed stream.
func (bh *h2handler) closedErr() error {
	if bh.timedOut {
		return errWriteDeadline
	}
	return http2.ErrStreamClosed
}

// feed keeps body bytes for the handler of st (driver). Past
// MaxRequestSize the body ends with a 413 error and later bytes are
// dropped; so are bytes once the handler stopped reading, and those
// arriving after the read deadline.
func (h *h2conn) feed(s *http2.Stream, st *h2stream, p []byte, end bool) {
	bh := st.bh
	drop := 0
	h.mu.Lock()
	switch {
	case bh.discard:
		drop = len(p)
	case st.tooLarge(s.Received()):
		drop = len(p) + len(bh.in) - bh.inOff
		bh.in, bh.inOff, bh.inErr = bh.in[:0], 0, errBodyTooLarge
		bh.discard = true
	case bh.inErr == errReadDeadline || bh.readExpiredLocked(time.Now()):
		drop = len(p)
	default:
		if bh.inOff == len(bh.in) {
			bh.in, bh.inOff = bh.in[:0], 0
		} else if bh.inOff > 0 && len(bh.in)+len(p) > cap(bh.in) {
			k := copy(bh.in, bh.in[bh.inOff:])
			bh.in, bh.inOff = bh.in[:k], 0
		}
		bh.in = append(bh.in, p...)
		if end {
			bh.inErr = io.EOF
			bh.trailer = trailerFields(s.Trailer)
		}
	}
	h.mu.Unlock()
	if drop > 0 {
		h.sc.Consume(s.ID, drop)
	}
	bh.signal()
}

// trailerFields returns the request trailers tr as stage fields, nil
// when there are none.
func trailerFields(tr []http2.HeaderField) []stage.Field {
	if len(tr) == 0 {
		return nil
	}
	out := make([]stage.Field, len(tr))
	for i, f := range tr {
		out[i] = stage.Field{Name: f.Name, Value: f.Value}
	}
	return out
}

// dropBody returns the credit of the body bytes st's handler left
// unread and drops later ones (driver).
func (h *h2conn) dropBody(st *h2stream) {
	bh := st.bh
	h.mu.Lock()
	n := len(bh.in) - bh.inOff
	bh.in, bh.inOff, bh.discard = nil, 0, true
	h.mu.Unlock()
	h.sc.Consume(st.id, n)
}

// abandon stops the handler of a stream that closed under it: its
// context is cancelled, its body ends and a pending write fails. Stage
// 40 waits for its end.
func (h *h2conn) abandon(st *h2stream) {
	bh := st.bh
	bh.cancel()
	h.mu.Lock()
	bh.in, bh.inOff, bh.inErr = nil, 0, http2.ErrStreamClosed
	h.mu.Unlock()
	bh.signal()
	if bh.writing {
		bh.writing = false
		bh.reply <- bh.closedErr()
	}
}

// drain does the work the handlers queued (driver).
func (h *h2conn) drain() {
	for {
		h.mu.Lock()
		if h.qhead == len(h.queue) {
			clear(h.queue)
			h.queue, h.qhead = h.queue[:0], 0
			h.mu.Unlock()
			return
		}
		bh := h.queue[h.qhead]
		h.qhead++
		bh.queued = false
		op, hasOp, credit, expired := bh.op, bh.hasOp, bh.credit, bh.expired
		bh.op, bh.hasOp, bh.credit, bh.expired = h2op{}, false, 0, false
		h.mu.Unlock()
		if st := h.streams[bh.id]; credit > 0 && st != nil && st.bh == bh {
			h.sc.Consume(bh.id, credit)
		}
		if expired {
			h.expire(bh)
		}
		switch {
		case !hasOp:
		case op.final:
			h.endHandler(bh.st, op)
		case bh.st.closed:
			bh.reply <- bh.closedErr()
		default:
			bh.writing = true
			h.write(bh.st, op.data, false)
		}
	}
}

// waitHandlers waits, once the connection is closed, for the blocking
// handlers still running (their contexts are cancelled) and runs their
// stage 40.
func (h *h2conn) waitHandlers() {
	for h.running > 0 {
		<-h.wake
		h.drain()
	}
}

// write sends the head of st's handler's answer if it is not out, then
// data, framed as the head says; end ends the response (driver, stream
// open). Without end the handler gets its reply once all is taken.
func (h *h2conn) write(st *h2stream, data []byte, end bool) {
	id := st.id
	if !st.answered {
		st.answered = true
		h.use(st)
		h.rs.begin(&st.req, &st.rsp)
		h.head, st.frame, st.remain = h.rs.streamHead(h.head[:0], &st.req, &st.bh.w.writerHead, end, false, int64(len(data)), &st.rsp)
		st.status = st.rsp.status
		h.fields = h.appendFields(h.fields[:0], h.head)
		h.sc.WriteHeaders(id, st.status, h.fields, false)
	}
	st.werr = nil
	switch st.frame {
	case frameNone:
		data = nil
	case frameLength:
		if int64(len(data)) > st.remain {
			data, st.werr = data[:st.remain], errBodyOverLength
		}
		st.remain -= int64(len(data))
	}
	st.after = afterReply
	if end {
		switch {
		case st.frame == frameLength && st.remain > 0:
			st.after = afterReset
		case st.bh.w.trailer.Len() > 0 && st.req.Method != http1.MethodHead:
			st.after = afterTrailers
		default:
			st.after = afterEnd
		}
	}
	st.segs, st.seg, st.off = st.segs[:0], 0, 0
	if len(data) > 0 {
		st.segs = append(st.segs, h2seg{mem: data})
	}
	if len(st.segs) == 0 {
		h.segmentsSent(st)
		return
	}
	h.pump(id, st)
}

// segmentsSent follows the last segment of a blocking handler's write:
// the handler may write again, the response ends, or, short of its
// Content-Length, is reset.
func (h *h2conn) segmentsSent(st *h2stream) {
	id := st.id
	switch st.after {
	case afterReply:
		if bh := st.bh; bh.writing {
			bh.writing = false
			st.segs = st.segs[:0]
			bh.reply <- st.werr
		}
	case afterEnd:
		if _, err := h.sc.WriteData(id, nil, true); err == nil {
			h.resetUnread(id)
		}
	case afterTrailers:
		h.sendTrailers(st)
	case afterReset:
		h.sc.Reset(id, http2.InternalError)
	}
}

// sendTrailers ends st's response with its blocking handler's trailers
// (RFC 9113 §8.1), the fields checked and cleaned as over HTTP/1.
func (h *h2conn) sendTrailers(st *h2stream) {
	id := st.id
	h.head = append(h.head[:0], crlf...) // appendFields skips a status line
	h.head = appendFields(h.head, &st.bh.w.trailer, "Trailer")
	h.head = append(h.head, crlf...)
	h.fields = h.appendFields(h.fields[:0], h.head)
	if h.sc.WriteTrailers(id, h.fields) == nil {
		h.resetUnread(id)
	}
}

// endHandler completes the answer of a handler that returned (driver).
func (h *h2conn) endHandler(st *h2stream, op h2op) {
	bh := st.bh
	bh.running, bh.writing = false, false
	h.running--
	st.herr = op.err
	if st.closed {
		h.finish(st)
		return
	}
	h.dropBody(st)
	var ir *stage.InternalRedirect
	switch {
	case op.aborted:
		h.sc.Reset(st.id, http2.InternalError)
	case errors.As(op.err, &ir) && !bh.w.wrote:
		h.follow(st)
	case op.err == nil && !bh.w.standard:
		h.write(st, op.data, true)
	case st.answered:
		h.sc.Reset(st.id, http2.InternalError)
	default:
		st.herr = bodyError(bh.inErr, op.err)
		st.x.adoptHead(&bh.w.writerHead, st.herr)
		st.next = nextWritten
		h.answer(st)
	}
}

// follow serves the internal redirect a blocking handler returned, as a
// GET without a body, up to stage.MaxInternalRedirects.
func (h *h2conn) follow(st *h2stream) {
	if st.x.followRedirect(st.herr, &st.req, st.hops) {
		st.hops++
		st.herr = nil
		st.next = nextCore
		if !h.route(st, true) {
			return
		}
	} else {
		st.next = nextWritten
	}
	h.answer(st)
}

// h2Writer is the stage.ResponseWriter of a blocking handler over
// HTTP/2; see the top of this file.
type h2Writer struct {
	writerHead
	bh      *h2handler
	buf     []byte // held bytes
	sent    bool   // a write went to the driver: the head is out
	err     error  // sticky write error
	trailer stage.Header
}

// Trailer returns the trailer fields (see stage.Trailers).
func (w *h2Writer) Trailer() *stage.Header { return &w.trailer }

// SetReadDeadline sets the deadline of the request body's reads; a Read
// waiting for bytes looks at it at once. Once a deadline has passed,
// reads return the bytes received before it and then errReadDeadline,
// whatever deadline is set afterwards (see readExpiredLocked).
func (w *h2Writer) SetReadDeadline(t time.Time) error {
	bh := w.bh
	now := time.Now()
	bh.h.mu.Lock()
	bh.readExpiredLocked(now)
	bh.readDL = t
	bh.readExpiredLocked(now)
	bh.h.mu.Unlock()
	bh.signal()
	return nil
}

// SetWriteDeadline sets the stream's write deadline: once it passes the
// driver resets the stream unless the response has ended.
func (w *h2Writer) SetWriteDeadline(t time.Time) error {
	bh := w.bh
	bh.h.mu.Lock()
	defer bh.h.mu.Unlock()
	bh.writeDL = t
	switch {
	case t.IsZero():
		if bh.wtimer != nil {
			bh.wtimer.Stop()
		}
	case bh.wtimer == nil:
		bh.wtimer = time.AfterFunc(time.Until(t), bh.writeExpired)
	default:
		bh.wtimer.Reset(time.Until(t))
	}
	return nil
}

// Write holds body bytes, or hands them to the driver beyond the hold
// and waits until they are taken.
func (w *h2Writer) Write(p []byte) (int, error) {
	w.WriteHeader(200)
	switch {
	case w.err != nil:
		return 0, w.err
	case w.standard:
		return len(p), nil // the server's page is sent instead
	case len(w.buf)+len(p) <= streamHold:
		w.buf = append(w.buf, p...)
		return len(p), nil
	}
	if len(w.buf) > 0 && w.send(w.buf) != nil {
		return 0, w.err
	}
	if w.send(p) != nil {
		return 0, w.err
	}
	return len(p), nil
}

// send hands p to the driver and waits until it is taken.
func (w *h2Writer) send(p []byte) error {
	w.sent = true
	w.err = w.bh.submit(h2op{data: p})
	w.buf = w.buf[:0]
	return w.err
}

// Respond answers in one call; an empty contentType and a nil body ask
// for the server's standard response.
func (w *h2Writer) Respond(status int, contentType string, body []byte) error {
	return w.respondWith(w, status, contentType, body)
}

// Flush sends the head if it is not out, then the held bytes.
func (w *h2Writer) Flush() error {
	w.WriteHeader(200)
	if w.err != nil || w.standard || w.sent && len(w.buf) == 0 {
		return w.err
	}
	return w.send(w.buf)
}

var (
	_ stage.ResponseWriter = (*h2Writer)(nil)
	_ stage.Flusher        = (*h2Writer)(nil)
	_ stage.Trailers       = (*h2Writer)(nil)
	_ stage.Deadliner      = (*h2Writer)(nil)
	_ stage.BodyTrailer    = (*h2handler)(nil)
)
