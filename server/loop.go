package server

import (
	"errors"
	"os"
	"runtime/debug"
	"time"

	"gibbon/engine"
	"gibbon/http1"
	"gibbon/stage"
	"gibbon/static"
)

// loopInlineMax is the largest file body the loop driver reads (pread)
// into the connection's output, so that the response leaves in one write
// with its head and with the other pipelined responses; larger bodies go
// with sendfile. Bodies the cache keeps in memory need no read.
const loopInlineMax = 16 << 10

// loopCopyMax is the largest piece of a file's content kept in memory by
// the cache that the loop copies into the connection's output, where it
// joins its head and the other pipelined responses in one buffer; a
// larger piece is queued by reference (the cache never modifies it), one
// more buffer of the same writev.
const loopCopyMax = 4 << 10

// loop is the event-loop driver: an [engine.Protocol] serving HTTP/1.x on
// the engine's worker loops with the same steps as the goroutine driver
// (http1.Parse, planBody, responder.respond). OnData handles one request
// per call; the engine calls it again while pipelined input remains.
//
// Per connection it keeps only a word in the engine's Conn (the request
// count and a flag, see loopTag): an idle connection holds no buffer and
// costs no allocation beyond the engine's. Everything a request needs is
// per worker and reused.
type loop struct {
	srv     *Server
	workers []loopWorker // indexed by engine.Conn.Worker()
}

// loopWorker is what one worker loop reuses for every request it serves.
// It is owned by that worker's loop goroutine.
type loopWorker struct {
	req     http1.Request
	rs      responder // rs.served is loaded from and stored to the Conn's tag
	rsp     response
	body    discarder
	head    []byte // response heads; copied into the connection's output
	inline  []byte // small file bodies, read here then copied
	cache   *static.Cache
	release func(*os.File) // cache.ReleaseFile, made once: the sendfile release
	gen     *generation    // the configuration the worker serves with (see use)
	pp      *pipe          // gen's plugins
	x       exchange       // the request through the stages, when plugins need one
	// responses counts what the worker answers; only its loop writes it.
	responses counters
}

// loopTag is the per-connection state kept in the engine's Conn tag: the
// requests served (low 32 bits) and whether "100 Continue" was sent for
// the request waiting for its body.
type loopTag uint64

const tagContinued loopTag = 1 << 32

func (t loopTag) served() int { return int(uint32(t)) }

// makeWorkers prepares the state of n worker loops. It runs before the
// loops start, once the server's clock exists.
func (l *loop) makeWorkers(n int) {
	s := l.srv
	l.workers = make([]loopWorker, n)
	for i := range l.workers {
		w := &l.workers[i]
		w.rs.respondConfig = respondConfig{clock: s.clock, draining: s.draining}
		w.use(s.current())
		w.cache = static.NewCache(static.CacheConfig{})
		w.rs.cache = w.cache
		w.release = w.cache.ReleaseFile
		w.head = make([]byte, 0, 1024)
		w.inline = make([]byte, loopInlineMax)
	}
}

// use points the worker at g's settings and plugins. It runs on the
// worker's loop (Reload, through engine.Engine.Each) or before the loops
// start. The worker's file cache stays: its entries are keyed by
// document root and by the settings' static.Options, so none made under
// another configuration is served.
func (w *loopWorker) use(g *generation) {
	w.gen, w.pp = g, &g.pp
	w.rs.set, w.rs.lister = &g.set, g.pp.lister
}

// closeCaches closes every worker's file cache. Call it only once the
// loops have stopped.
func (l *loop) closeCaches() {
	for i := range l.workers {
		l.workers[i].cache.Close()
	}
}

// OnOpen runs stage 10 when plugins need it (the engine already applied
// capacity and shutdown); without plugins it accepts every connection and
// keeps no state for it.
func (l *loop) OnOpen(c *engine.Conn) bool {
	pp := l.workers[c.Worker()].pp
	if !pp.conns {
		return true
	}
	lc := newLoopConn(c)
	if pp.p.Accept(lc.info) != stage.Continue {
		pp.p.Close(lc.info, stage.ErrRefused)
		return false
	}
	return true
}

// newLoopConn gives c the plugin state the stages need.
func newLoopConn(c *engine.Conn) *loopConn {
	lc := &loopConn{info: stage.ConnInfo{
		ID:       c.ID(),
		Remote:   c.RemoteAddrPort(),
		Local:    addrPort(c.LocalAddr()),
		Worker:   c.Worker(),
		Accepted: time.Now(),
	}}
	c.SetContext(lc)
	return lc
}

// OnWritten has nothing to add once blocked output is flushed.
func (l *loop) OnWritten(c *engine.Conn) engine.Action { return engine.Continue }

// OnClose runs stage 50 for a connection with plugin state, and gives
// back the configuration of a hand-off that did not happen.
func (l *loop) OnClose(c *engine.Conn, err error) {
	lc, ok := c.Context().(*loopConn)
	if !ok {
		return
	}
	if lc.gen != nil {
		l.srv.release(lc.gen)
		lc.gen = nil
	}
	if pp := l.workers[c.Worker()].pp; pp.closers {
		pp.p.Close(lc.info, closeReason(err))
	}
}

// OnData serves the request at the start of in (see serve). A connection
// handed off takes a hold on the worker's configuration with it, for the
// goroutine that serves the request.
func (l *loop) OnData(c *engine.Conn, in []byte) (int, engine.Action) {
	w := &l.workers[c.Worker()]
	n, act := l.serve(c, w, in)
	if act == engine.Handoff {
		lc, ok := c.Context().(*loopConn)
		if !ok {
			lc = &loopConn{}
			c.SetContext(lc)
		}
		w.gen.holds.Add(1) // never from 0: the worker's configuration is current until Each moves it
		lc.gen = w.gen
	}
	return n, act
}

// serve serves the request at the start of in: parse → body → respond →
// write. It consumes nothing until the head and a body to discard are
// complete.
func (l *loop) serve(c *engine.Conn, w *loopWorker, in []byte) (n int, act engine.Action) {
	defer l.recoverPanic(c, w, &n, &act)
	headLen, err := http1.Parse(in, &w.req, &w.rs.set.limits)
	lc, staged := c.Context().(*loopConn)
	if !staged && w.pp.requests {
		lc, staged = newLoopConn(c), true // opened before a reload loaded plugins
	}
	staged = staged && w.pp.requests
	switch {
	case err != nil && staged:
		w.x.beginUnknown(w.pp, w.rs.set.vhosts, lc.info)
		return w.refuseStaged(c, parseStatus(err))
	case err != nil:
		return w.refuse(c, parseStatus(err))
	case headLen == 0:
		return 0, engine.Continue
	}
	if l.blocking(&w.req) {
		return 0, engine.Handoff
	}
	if staged {
		return w.serveStaged(c, lc, in, headLen)
	}
	if hook := l.srv.testHookHandle.Load(); hook != nil {
		(*hook)(&w.req)
	}
	size, act := w.requestSize(c, in, headLen)
	if size == 0 {
		return 0, act
	}
	return size, w.answer(c)
}

// blocking reports whether the test hook says req must run after a
// hand-off. Static files never do; requests that route to a handler (CGI,
// FastCGI, proxy and the others) are handed off by serveStaged.
func (l *loop) blocking(req *http1.Request) bool {
	hook := l.srv.testHookBlocking.Load()
	return hook != nil && (*hook)(req)
}

// requestSize returns the length of the request (head and body) at the
// start of in, once it is all there. Otherwise it returns 0 and the
// action: Continue to wait for more (after "100 Continue" when asked
// for), Close after refusing the request, Handoff for a body too large to
// wait for on the loop.
func (w *loopWorker) requestSize(c *engine.Conn, in []byte, headLen int) (int, engine.Action) {
	plan := w.rs.set.planBody(&w.req, headLen)
	switch plan.action {
	case bodyNone:
		return headLen, engine.Continue
	case bodyReject:
		_, act := w.refuse(c, plan.status)
		return 0, act
	}
	if !w.req.Chunked && int64(headLen)+w.req.ContentLength > engine.MaxInput {
		return 0, engine.Handoff
	}
	w.body.start(&w.req, plan)
	n, done, err := w.body.feed(in[headLen:])
	switch {
	case err != nil:
		_, act := w.refuse(c, bodyStatus(err))
		return 0, act
	case done:
		return headLen + n, engine.Continue
	case len(in) > engine.MaxInput:
		return 0, engine.Handoff
	}
	w.sendContinue(c, plan)
	return 0, engine.Continue
}

// sendContinue sends "100 Continue" once for a request whose client waits
// for it before sending the body.
func (w *loopWorker) sendContinue(c *engine.Conn, plan bodyPlan) {
	tag := loopTag(c.Tag())
	if plan.sendContinue && tag&tagContinued == 0 {
		c.WriteString(continue100)
		c.SetTag(uint64(tag | tagContinued))
	}
}

// answer plans the response to w.req and queues it; it reports whether
// the connection goes on.
func (w *loopWorker) answer(c *engine.Conn) engine.Action {
	w.rs.served = loopTag(c.Tag()).served()
	w.head = w.rs.respond(w.head[:0], &w.req, &w.rsp)
	c.SetTag(uint64(uint32(w.rs.served)))
	if _, _, err := w.queue(c); err != nil || w.rsp.close {
		return engine.Close
	}
	return engine.Continue
}

// refuse answers a request the server will not read further with status
// and "Connection: close". The request is left unconsumed, so the engine
// lingers before closing.
func (w *loopWorker) refuse(c *engine.Conn, status int) (int, engine.Action) {
	w.head = w.rs.closeError(w.head[:0], status, &w.rsp)
	w.queue(c)
	return 0, engine.Close
}

// queue queues w.rsp, whose head is w.head, counts it and returns its
// status and body length for stage 40.
func (w *loopWorker) queue(c *engine.Conn) (status int, bytes int64, err error) {
	status, bytes = w.rsp.status, w.rsp.bodyLen()
	w.responses.count(status, bytes)
	c.Write(w.head)
	return status, bytes, w.writeBody(c)
}

// writeBody queues the body of w.rsp after its head and releases the
// response. An error (a file shorter than planned) means the connection
// must close: the head promised more.
func (w *loopWorker) writeBody(c *engine.Conn) error {
	rsp := &w.rsp
	defer rsp.release()
	c.Write(rsp.body)
	switch {
	case rsp.data != nil:
		memoryParts(c, rsp)
	case rsp.file == nil:
	case rsp.bodyLen() <= loopInlineMax:
		if err := w.inlineParts(c); err != nil {
			return err
		}
	default:
		w.sendParts(c)
	}
	c.Write(rsp.trailer)
	return nil
}

// memoryParts queues every part of rsp, whose file content the cache
// keeps in memory: no read, no file to release.
func memoryParts(c *engine.Conn, rsp *response) {
	for i := range rsp.parts {
		p := &rsp.parts[i]
		c.Write(p.Prefix)
		if b := rsp.data[p.Offset : p.Offset+p.Length]; len(b) <= loopCopyMax {
			c.Write(b)
		} else {
			c.WriteNoCopy(b)
		}
	}
}

// inlineParts reads every file part of w.rsp and queues it as memory.
func (w *loopWorker) inlineParts(c *engine.Conn) error {
	rsp := &w.rsp
	for i := range rsp.parts {
		p := &rsp.parts[i]
		c.Write(p.Prefix)
		b := w.inline[:p.Length]
		if m, err := rsp.file.ReadAt(b, p.Offset); m < len(b) {
			if err == nil {
				err = errShortFile
			}
			return err
		}
		c.Write(b)
	}
	return nil
}

// errShortFile is a file that ended before the length its head announced.
var errShortFile = errors.New("server: file shorter than its response")

// sendParts queues every file part of w.rsp for sendfile. The engine gives
// the response's hold on the file back (w.release) after the last part.
func (w *loopWorker) sendParts(c *engine.Conn) {
	rsp := &w.rsp
	last := len(rsp.parts) - 1
	for i := range rsp.parts {
		p := &rsp.parts[i]
		c.Write(p.Prefix)
		var rel func(*os.File)
		if i == last {
			rel = w.release
		}
		c.SendFile(rsp.file, p.Offset, p.Length, rel)
	}
	rsp.disown()
}

// recoverPanic turns a panic while serving a request into a logged error
// and a close, as the goroutine driver does: the loop must survive it.
func (l *loop) recoverPanic(c *engine.Conn, w *loopWorker, n *int, act *engine.Action) {
	v := recover()
	if v == nil {
		return
	}
	l.srv.log.Error("panic serving connection", "remote", c.RemoteAddr().String(),
		"panic", v, "stack", string(debug.Stack()))
	w.rsp.release()
	*n, *act = 0, engine.Close
}

// parseStatus is the status answering a parse error.
func parseStatus(err error) int {
	var pe *http1.ParseError
	if errors.As(err, &pe) {
		return pe.Status
	}
	return 400
}
