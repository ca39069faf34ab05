package server

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"sync/atomic"
	"time"

	"gibbon/engine"
	"gibbon/http1"
	"gibbon/stage"
)

// Buffer sizes and thresholds of the goroutine driver.
const (
	// readBufSize is the initial read buffer of a connection. It grows,
	// for a long head, up to the head limit plus one byte.
	readBufSize = 4 << 10
	// inlineFileMax is the largest file part copied into the write
	// buffer (with pread) so that it leaves in the same write as its head;
	// larger parts go with sendfile.
	inlineFileMax = 16 << 10
	// flushAt is the size of pending output that is written at once even
	// when more pipelined requests are waiting.
	flushAt = 64 << 10
	// maxOutKeep is the largest write buffer a connection keeps between
	// flushes.
	maxOutKeep = 128 << 10
	// sendfileChunk bounds one sendfile call, so that the write timeout
	// limits the time without progress rather than the whole transfer.
	sendfileChunk = 1 << 20
	// copyChunk is what one pread brings into the write buffer when a
	// file part is too large to inline and the connection cannot
	// sendfile (TLS).
	copyChunk = 64 << 10
	// lingerTimeout and lingerMax bound how long and how much a closing
	// connection reads (and drops) after shutting down its write side, so
	// that unread request bytes do not turn the close into a reset that
	// destroys the last response at the client.
	lingerTimeout = time.Second
	lingerMax     = 256 << 10
	// timeoutSlack is the fraction (1/timeoutSlack) of a server timeout
	// by which it may fire late: a socket deadline is moved only when it
	// would fire too early or more than that late, so that a keep-alive
	// connection updates the runtime's timer (under a lock) once in a
	// while rather than twice per request (see extend).
	timeoutSlack = 8
)

// errClosing ends a connection the server closes for shutdown.
var errClosing = errors.New("server: connection closed for shutdown")

// errHeadTooLarge is a head that does not fit the largest read buffer.
var errHeadTooLarge = &http1.ParseError{Status: 431, Reason: "request head too large"}

// conn is one client connection served by its own goroutine. Only state is
// shared (with Shutdown); every other field is owned by the goroutine
// running serve.
type conn struct {
	srv   *Server
	nc    net.Conn
	state atomic.Uint32 // ConnState
	// for Server.Conns: id and opened are set by newConn (id by adopt)
	// before the connection is tracked, then read-only
	id       uint64
	opened   time.Time
	answered atomic.Int64 // responses counted (see count)
	h2       atomic.Bool  // serving HTTP/2

	// owned by the serve goroutine
	rs         responder
	req        http1.Request
	rsp        response
	body       discarder
	buf        []byte // read buffer; unconsumed input is buf[start:end]
	start, end int
	out        []byte // responses not yet written
	linger     bool   // close politely: shut down writes, drain input
	maxBuf     int    // largest read buffer
	// rdl and wdl are the read and write deadlines last set on nc; zero
	// when none is, or when nc's may differ (see extend).
	rdl, wdl   time.Time
	h2c        bool // an h2c listener's: "Upgrade: h2c" is honoured
	connStages      // plugins (conn_stages.go)
}

func newConn(s *Server, nc net.Conn) *conn {
	c := &conn{srv: s, nc: nc, id: s.connID.Add(1), opened: time.Now()}
	c.rs.respondConfig = respondConfig{clock: s.clock, draining: s.draining}
	c.rs.cache = s.files
	c.use(s.current())
	c.rctx = &c.rctxBuf
	return c
}

// use points the connection at g's settings and plugins: its responder,
// its head limit, an exchange when g's plugins see requests.
func (c *conn) use(g *generation) {
	c.gen = g
	c.rs.set, c.rs.lister = &g.set, g.pp.lister
	c.maxBuf = max(readBufSize, g.set.limits.MaxHeaderBytes+1)
	if g.pp.requests && c.x == nil {
		c.x = new(exchange)
	}
}

// adopt serves a connection handed off by an event loop: buffered is the
// input the loop read and did not consume (the request that needed the
// hand-off comes first), tag the loop's per-connection state. It runs on
// the hand-off's goroutine until the connection ends.
func (s *Server) adopt(d engine.Detached) {
	c := newConn(s, d.Conn)
	c.id = d.ID
	c.rs.served = loopTag(d.Tag).served()
	c.answered.Store(int64(c.rs.served))
	c.buf, c.end = d.Buffered, len(d.Buffered)
	c.state.Store(uint32(StateActive))
	if lc, ok := d.Context.(*loopConn); ok {
		c.adoptStages(lc)
	}
	c.openStages() // stage 10 ran on the loop
	if !s.track(c) {
		d.Conn.Close()
		c.closeErr = ErrShutdown
		c.dropHeld()
		c.closeStages()
		return
	}
	s.stats.handedOff.Add(1)
	c.serve()
}

// serve runs the connection's loop: readHead → handle (route, respond,
// write) → keep alive or close.
func (c *conn) serve() {
	defer c.close()
	for {
		headLen, err := c.readHead()
		if err != nil {
			c.readFailed(err)
			return
		}
		if !c.handleHeld(headLen) {
			return
		}
	}
}

// readHead returns the length of the next complete request head at
// buf[start:], parsed into c.req, reading as needed. Pending responses are
// written before it blocks. A new request waits KeepAliveTimeout (Timeout
// for the first one); once its first bytes arrive the whole head must come
// within Timeout.
func (c *conn) readHead() (int, error) {
	if g := c.srv.current(); g != c.gen {
		c.use(g) // a reload: its limits and timeouts from the next request on
	}
	headDeadline := false
	for {
		if c.start < c.end {
			n, err := http1.Parse(c.buf[c.start:c.end], &c.req, &c.gen.set.limits)
			if err != nil || n > 0 {
				return n, err
			}
		}
		now := time.Now()
		if err := c.flushAt(now); err != nil {
			return 0, err
		}
		switch {
		case c.start == c.end:
			if !c.waitForRequest() {
				return 0, errClosing
			}
			// Let the other ready connections run before reading: by
			// the time this one is scheduled again its client has often
			// sent the next request, which saves the read that would
			// find nothing and the wait in the poller before the one
			// that does (a read happens either way, so nothing that
			// arrives meanwhile is missed).
			runtime.Gosched()
			timeout := c.gen.set.keepAliveTimeout
			if c.rs.served == 0 {
				timeout = c.gen.set.timeout
			}
			c.readTimeout(now, timeout)
		case !headDeadline:
			c.readTimeout(now, c.gen.set.timeout)
			headDeadline = true
		}
		if err := c.fill(); err != nil {
			return 0, err
		}
		if !c.setActive() {
			return 0, errClosing
		}
	}
}

// fill reads more input after buf[start:end], compacting or growing the
// buffer first. The read deadline is the caller's.
func (c *conn) fill() error {
	if c.start == c.end {
		c.start, c.end = 0, 0
	} else if c.start > 0 {
		c.end = copy(c.buf, c.buf[c.start:c.end])
		c.start = 0
	}
	if c.end == len(c.buf) {
		if len(c.buf) >= c.maxBuf {
			return errHeadTooLarge
		}
		size := min(max(2*len(c.buf), readBufSize), c.maxBuf)
		c.buf = append(c.buf, make([]byte, size-len(c.buf))...)
	}
	n, err := c.nc.Read(c.buf[c.end:])
	c.end += n
	if n > 0 {
		return nil
	}
	if err == nil {
		err = io.ErrNoProgress
	}
	return err
}

// handleHeld answers the request as handle does, under the configuration
// a loop handed it off with, else the current one, held until it ends.
func (c *conn) handleHeld(headLen int) bool {
	g := c.held
	c.held = nil
	if g == nil {
		g = c.srv.acquire()
	}
	defer c.srv.release(g)
	c.use(g)
	if g.pp.conns && c.info.ID == 0 {
		c.setConnInfo() // opened before a reload loaded plugins
	}
	return c.handle(headLen)
}

// handle answers the request whose head (buf[start:start+headLen]) is in
// c.req, consuming its body, and reports whether the connection stays open.
func (c *conn) handle(headLen int) bool {
	if hook := c.srv.testHookHandle.Load(); hook != nil {
		(*hook)(&c.req)
	}
	if c.h2c && c.upgradeH2C(headLen) {
		return false
	}
	if c.gen.pp.requests {
		return c.handleStaged(headLen)
	}
	return c.handleCore(headLen)
}

// handleCore is handle when no plugin sees requests: the core answers.
// It is not inlined so that its locals are not on the stack of the
// staged path (a stack that grows past 4 KiB is copied, and shrunk again
// by the next garbage collection).
//
//go:noinline
func (c *conn) handleCore(headLen int) bool {
	plan := c.gen.set.planBody(&c.req, headLen)
	switch plan.action {
	case bodyReject:
		c.out = c.rs.closeError(c.out, plan.status, &c.rsp)
		c.finishResponse()
		return false
	case bodyDiscard:
		c.body.start(&c.req, plan)
		if !c.bodyBuffered(headLen) {
			if plan.sendContinue {
				c.out = append(c.out, continue100...)
			}
			if c.flush() != nil {
				return false
			}
		}
	}
	mark := len(c.out)
	c.out = c.rs.respond(c.out, &c.req, &c.rsp)
	c.start += headLen
	if plan.action == bodyDiscard {
		if err := c.discardBody(); err != nil {
			c.rsp.release()
			c.out = c.out[:mark]
			status := bodyStatus(err)
			if status == 0 {
				c.debug("reading request body", err)
				return false
			}
			c.out = c.rs.closeError(c.out, status, &c.rsp)
			c.finishResponse()
			return false
		}
	}
	return c.finishResponse()
}

// bodyBuffered reports whether the whole body of c.req (with the given
// head length) is already in the read buffer.
func (c *conn) bodyBuffered(headLen int) bool {
	return !c.req.Chunked && int64(c.end-c.start-headLen) >= c.req.ContentLength
}

// discardBody reads and drops the request body, each read bounded by
// Timeout. Input after the body stays in the buffer.
func (c *conn) discardBody() error {
	for {
		if c.start < c.end {
			n, done, err := c.body.feed(c.buf[c.start:c.end])
			c.start += n
			if err != nil || done {
				return err
			}
		} else if !c.body.pending() {
			return nil
		}
		c.readTimeout(time.Now(), c.gen.set.timeout)
		if err := c.fill(); err != nil {
			if errors.Is(err, errHeadTooLarge) {
				err = io.ErrNoProgress
			}
			return err
		}
	}
}

// finishResponse writes c.rsp (appending what fits to the pending output),
// releases it and reports whether the connection stays open.
func (c *conn) finishResponse() bool {
	c.count(c.rsp.status, c.rsp.bodyLen())
	err := c.writeResponse(&c.rsp)
	c.rsp.release()
	if err != nil {
		c.debug("writing response", err)
		return false
	}
	if c.rsp.close {
		c.linger = true
		return false
	}
	return true
}

// writeResponse sends the parts of rsp after its head (already in c.out).
// Small bodies are appended to c.out (a file's content kept in memory by
// the cache is copied from there); large file parts are sent after
// flushing c.out.
func (c *conn) writeResponse(rsp *response) error {
	c.out = append(c.out, rsp.body...)
	for i := range rsp.parts {
		p := &rsp.parts[i]
		c.out = append(c.out, p.Prefix...)
		if rsp.data != nil {
			c.out = append(c.out, rsp.data[p.Offset:p.Offset+p.Length]...)
			continue
		}
		if err := c.writeFilePart(rsp.file, p.Offset, p.Length); err != nil {
			return err
		}
	}
	c.out = append(c.out, rsp.trailer...)
	if rsp.close || len(c.out) >= flushAt {
		return c.flush()
	}
	return nil
}

// writeFilePart sends n bytes of f at off: copied into c.out (pread) when
// small, else with sendFile.
func (c *conn) writeFilePart(f *os.File, off, n int64) error {
	if n <= inlineFileMax {
		l := len(c.out)
		c.out = slices.Grow(c.out, int(n))[:l+int(n)]
		m, err := f.ReadAt(c.out[l:], off)
		if int64(m) < n {
			c.out = c.out[:l]
			if err == nil || err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return err
		}
		return nil
	}
	if err := c.flush(); err != nil {
		return err
	}
	err := c.sendFile(f, off, n)
	c.wdl = time.Time{} // sendFileTCP sets its own
	return err
}

// sendFile copies n bytes of f at off to the connection. f may be shared
// with other connections (through the server's cache), so its offset is
// never used or moved: a TCP connection gets sendfile(2) at an explicit
// offset (sendFileTCP), any other (TLS) chunks read with pread.
func (c *conn) sendFile(f *os.File, off, n int64) error {
	if tc, ok := c.nc.(*net.TCPConn); ok {
		return c.sendFileTCP(tc, f, off, n)
	}
	return c.copyFile(f, off, n)
}

// copyFile writes n bytes of f at off through the connection's Write, in
// chunks read with pread into c.out, which is empty (flushed) on entry
// and on return.
func (c *conn) copyFile(f *os.File, off, n int64) error {
	for n > 0 {
		chunk := int(min(n, copyChunk))
		c.out = slices.Grow(c.out[:0], chunk)[:chunk]
		m, err := f.ReadAt(c.out, off)
		if m < chunk {
			c.out = c.out[:0]
			if err == nil || err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return err
		}
		off, n = off+int64(m), n-int64(m)
		if err := c.flush(); err != nil {
			return err
		}
	}
	return nil
}

// flush writes the pending output.
func (c *conn) flush() error {
	if len(c.out) == 0 {
		return nil
	}
	return c.flushAt(time.Now())
}

// flushAt is flush when the time is now.
func (c *conn) flushAt(now time.Time) error {
	if len(c.out) == 0 {
		return nil
	}
	c.writeTimeout(now)
	_, err := c.nc.Write(c.out)
	if cap(c.out) > maxOutKeep {
		c.out = nil
	} else {
		c.out = c.out[:0]
	}
	return err
}

// extend returns the deadline for a timeout d from now and whether it
// differs from dl, the deadline set before: dl is kept while it fires
// between d and d+d/timeoutSlack from now; a new one fires at the end of
// that window, so that it is kept for the next d/timeoutSlack. The approach
// is fasthttp's, for the cost golang/go#15133 describes.
func extend(dl, now time.Time, d time.Duration) (time.Time, bool) {
	earliest := now.Add(d)
	if !dl.Before(earliest) && dl.Sub(earliest) <= d/timeoutSlack {
		return dl, false
	}
	return earliest.Add(d / timeoutSlack), true
}

// readTimeout bounds the next reads by the server timeout d from now
// (see extend).
func (c *conn) readTimeout(now time.Time, d time.Duration) {
	if dl, moved := extend(c.rdl, now, d); moved {
		c.setReadDeadline(dl)
	}
}

// setReadDeadline sets nc's read deadline and remembers it.
func (c *conn) setReadDeadline(t time.Time) {
	c.rdl = t
	c.nc.SetReadDeadline(t)
}

// writeTimeout bounds the next writes by the handler's write deadline,
// else by Timeout from now (see extend). The caller holds outMu while a
// handler runs.
func (c *conn) writeTimeout(now time.Time) {
	dl, moved := c.sw.writeDL, !c.sw.writeDL.Equal(c.wdl)
	if dl.IsZero() {
		dl, moved = extend(c.wdl, now, c.gen.set.timeout)
	}
	if moved {
		c.wdl = dl
		c.nc.SetWriteDeadline(dl)
	}
}

// readFailed ends the connection after readHead failed: a parse error is
// answered (status and "Connection: close"), anything else (EOF, timeout,
// shutdown, reset) just closes.
func (c *conn) readFailed(err error) {
	var pe *http1.ParseError
	if errors.As(err, &pe) {
		c.out = c.rs.closeError(c.out, pe.Status, &c.rsp)
		c.parseFailedStages()
		c.finishResponse()
		return
	}
	c.closeErr = err
	if !errors.Is(err, io.EOF) && !errors.Is(err, errClosing) {
		c.debug("reading request", err)
	}
}

// waitForRequest marks the connection as waiting for a request (idle once
// it has served one) and reports whether it may wait: false once Shutdown
// has begun.
func (c *conn) waitForRequest() bool {
	if c.rs.served > 0 && !c.state.CompareAndSwap(uint32(StateActive), uint32(StateIdle)) {
		return false
	}
	return !c.srv.draining()
}

// setActive marks the connection active after bytes arrived; false when
// Shutdown closed it meanwhile.
func (c *conn) setActive() bool {
	for {
		s := ConnState(c.state.Load())
		switch s {
		case StateActive:
			return true
		case StateClosed:
			return false
		}
		if c.state.CompareAndSwap(uint32(s), uint32(StateActive)) {
			return true
		}
	}
}

// closeIfIdle closes the connection if it is new or idle. Shutdown calls
// it from its own goroutine.
func (c *conn) closeIfIdle() {
	if c.state.CompareAndSwap(uint32(StateIdle), uint32(StateClosed)) ||
		c.state.CompareAndSwap(uint32(StateNew), uint32(StateClosed)) {
		c.nc.Close()
	}
}

// forceClose closes the connection whatever its state. Shutdown calls it
// from its own goroutine when its grace period ends.
func (c *conn) forceClose() {
	c.state.Store(uint32(StateClosed))
	c.nc.Close()
}

// close ends the connection: it recovers a panic of the request handling
// (logging it), writes what is pending, closes the socket (politely when a
// response announced the close) and forgets the connection.
func (c *conn) close() {
	if v := recover(); v != nil {
		if v != stage.ErrAbort {
			c.srv.log.Error("panic serving connection", "remote", c.nc.RemoteAddr().String(),
				"panic", v, "stack", string(debug.Stack()))
		}
		c.stopWatch()
		c.linger = false
	}
	c.rsp.release()
	if c.linger && !c.hijacked && ConnState(c.state.Load()) != StateClosed {
		c.lingerClose()
	}
	c.state.Store(uint32(StateClosed))
	if !c.hijacked {
		c.nc.Close()
	}
	c.dropHeld()
	c.closeStages()
	c.srv.untrack(c)
}

// lingerClose shuts down the write side and drops input for a while, so
// that the client reads the last response before it sees the close.
func (c *conn) lingerClose() {
	tc, ok := c.nc.(interface{ CloseWrite() error })
	if !ok || tc.CloseWrite() != nil {
		return
	}
	c.setReadDeadline(time.Now().Add(lingerTimeout))
	if len(c.buf) == 0 {
		c.buf = make([]byte, readBufSize)
	}
	for total := 0; total < lingerMax; {
		n, err := c.nc.Read(c.buf)
		total += n
		if err != nil {
			return
		}
	}
}

// debug logs a connection-level error at debug level.
func (c *conn) debug(msg string, err error) {
	log := c.srv.log
	if !log.Enabled(context.Background(), slog.LevelDebug) {
		return
	}
	log.Debug(msg, "remote", c.nc.RemoteAddr().String(), "err", err)
}
