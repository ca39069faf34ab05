package server

import (
	"errors"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"gibbon/http1"
	"gibbon/stage"
)

// connStages is the goroutine driver's per-connection plugin state, set
// when the server has plugins that see connections or requests.
type connStages struct {
	info    stage.ConnInfo
	x       *exchange // nil unless plugins see requests
	sw      streamWriter
	br      bodyReader
	carried *carried // stage 20 already ran on the loop for the first request
	// gen is the configuration of the request being served (held), or of
	// the last one; held, when set, is the one a loop handed the first
	// request off with, held for it.
	gen      *generation
	held     *generation
	closeErr error // why the connection ended, for stage 50
	hijacked bool
	head     []byte // a request head copied out of buf while its body is read
	watching bool
	watch    clientWatch
	rctx     *reqContext // a blocking handler's Request.Context (see reqContext.next)
	rctxBuf  reqContext  // the first one, so that rctx costs no allocation
	// outMu guards c.out while a blocking handler runs: Request.Body may
	// be read from another goroutine than the one writing the response.
	outMu sync.Mutex
}

// clientWatch reads one byte in the background while a blocking handler
// runs without a request body to read, to notice a client that goes away.
type clientWatch struct {
	done    chan struct{}
	got     [1]byte
	n       int
	stopped atomic.Bool
}

// aLongTimeAgo is a deadline in the past, to interrupt a read.
var aLongTimeAgo = time.Unix(1, 0)

// openStages runs stage 10 for a new connection (on a TLS listener,
// before the handshake); false means a plugin refused it.
func (c *conn) openStages() bool {
	if !c.gen.pp.conns || c.info.ID != 0 { // handed off by a loop: stage 10 ran there
		return true
	}
	c.info = c.connInfo()
	g := c.srv.acquire()
	defer c.srv.release(g)
	if g.pp.p.Accept(c.info) != stage.Continue {
		c.closeErr = stage.ErrRefused
		return false
	}
	return true
}

// setConnInfo sets c.info. It is a function of its own, not inlined, so
// that the ConnInfo it builds is not on the stack of every request that
// might need it (see handleHeld).
//
//go:noinline
func (c *conn) setConnInfo() { c.info = c.connInfo() }

// connInfo describes the connection to the plugins.
func (c *conn) connInfo() stage.ConnInfo {
	_, tls := c.nc.(*tlsConn)
	return stage.ConnInfo{
		ID:       c.id,
		Remote:   addrPort(c.nc.RemoteAddr()),
		Local:    addrPort(c.nc.LocalAddr()),
		TLS:      tls,
		Accepted: time.Now(),
	}
}

// closeStages runs stage 50 once the socket is closed (or hijacked), on
// the plugins current then.
func (c *conn) closeStages() {
	if c.info.ID == 0 || !c.srv.current().pp.closers {
		return
	}
	g := c.srv.acquire()
	defer c.srv.release(g)
	g.pp.p.Close(c.info, closeReason(c.closeErr))
}

// dropHeld releases the configuration a loop handed the connection off
// with when no request used it.
func (c *conn) dropHeld() {
	if c.held != nil {
		c.srv.release(c.held)
		c.held = nil
	}
}

// parseFailedStages runs stage 40 for a head the parser refused, answered
// by c.rsp (the request is unknown: Done sees Conn, the default VHost and
// Start).
func (c *conn) parseFailedStages() {
	if !c.gen.pp.requests {
		return
	}
	g := c.srv.acquire()
	defer c.srv.release(g)
	c.use(g)
	c.x.beginUnknown(&g.pp, g.set.vhosts, c.info)
	c.x.done(&g.pp, c.rsp.status, c.rsp.bodyLen(), nil)
}

// handleStaged answers the request whose head is in c.req through the
// stages: 20 (filters; skipped when a loop ran it before the hand-off),
// 30 (a handler: inline into memory, blocking with a streamWriter) or
// the core, then 40. It reports whether the connection stays open.
func (c *conn) handleStaged(headLen int) bool {
	pp, x := &c.gen.pp, c.x
	c.sw.readDL, c.sw.writeDL = time.Time{}, time.Time{} // a handler's deadlines end with its request
	plan := c.gen.set.planBody(&c.req, headLen)
	if plan.action == bodyDiscard && !c.bodyBuffered(headLen) {
		headLen = c.detachHead(headLen)
	}
	x.begin(pp, &c.req, x.hostFor(c.gen.set.vhosts, c.req.Host), c.info)
	if plan.action == bodyReject {
		c.out = c.rs.closeError(c.out, plan.status, &c.rsp)
		return c.finishStaged(nil)
	}
	switch c.runFilters() {
	case stage.Close:
		c.rs.served++
		x.done(pp, 0, 0, nil)
		return false
	case stage.Handled:
		return c.answerWritten(headLen, plan, nil)
	}
	if !x.staged() {
		return c.answerCore(headLen, plan)
	}
	rule, core, err := x.route(pp, &c.req)
	switch {
	case rule != nil:
		return c.serveBlocking(rule, headLen, plan)
	case core:
		return c.answerCore(headLen, plan)
	}
	return c.answerWritten(headLen, plan, err)
}

// runFilters runs stage 20, or applies what a loop's stage 20 decided.
func (c *conn) runFilters() stage.Verdict {
	if cr := c.carried; cr != nil {
		c.carried = nil
		cr.apply(c.x)
		return stage.Continue
	}
	if !c.x.staged() {
		return stage.Continue
	}
	return c.gen.pp.p.Request(&c.x.w, &c.x.r)
}

// detachHead copies the head at buf[start:] out of the read buffer and
// parses it again there, so that its views survive reading the body; the
// head counts as consumed (the returned head length is 0).
func (c *conn) detachHead(headLen int) int {
	c.head = append(c.head[:0], c.buf[c.start:c.start+headLen]...)
	http1.Parse(c.head, &c.req, &c.gen.set.limits)
	c.start += headLen
	return 0
}

// answerWritten sends what a filter or an inline handler wrote (or the
// standard page for err) once the body is dropped.
func (c *conn) answerWritten(headLen int, plan bodyPlan, err error) bool {
	mark := len(c.out)
	c.rs.begin(&c.req, &c.rsp)
	c.out = c.rs.handlerAnswer(c.out, &c.req, c.x, err, &c.rsp)
	return c.finishAfterBody(headLen, plan, mark, err)
}

// answerCore sends the core's answer (a listing for a directory when a
// Lister wants it) once the body is dropped.
func (c *conn) answerCore(headLen int, plan bodyPlan) bool {
	c.x.applyRewrite(&c.req)
	mark := len(c.out)
	c.out = c.rs.respond(c.out, &c.req, &c.rsp)
	var err error
	if c.rsp.listDir {
		c.out, err = c.rs.listing(c.out, &c.req, c.x, &c.gen.pp, &c.rsp)
	}
	return c.finishAfterBody(headLen, plan, mark, err)
}

// finishAfterBody drops the body of the request answered at c.out[mark:]
// and finishes the answer; herr is the handler's error for stage 40.
func (c *conn) finishAfterBody(headLen int, plan bodyPlan, mark int, herr error) bool {
	if !c.skipBody(headLen, plan, mark) {
		c.finishStaged(nil)
		return false
	}
	return c.finishStaged(herr)
}

// skipBody consumes the head and drops the body of the request answered
// at c.out[mark:]. It returns false when the body could not be read: the
// answer is then replaced by the body's error status (with a close), or
// dropped when the connection failed.
func (c *conn) skipBody(headLen int, plan bodyPlan, mark int) bool {
	c.start += headLen
	if plan.action != bodyDiscard {
		return true
	}
	c.body.start(&c.req, plan)
	err := c.sendContinue(plan, &mark)
	if err == nil {
		err = c.discardBody()
	}
	if err == nil {
		return true
	}
	c.rsp.release()
	c.out = c.out[:mark]
	if status := bodyStatus(err); status != 0 {
		c.out = c.rs.closeError(c.out, status, &c.rsp)
	} else {
		c.rsp = response{close: true}
	}
	return false
}

// sendContinue sends "100 Continue" (with the responses before
// c.out[*mark:], keeping the answer there) when the client waits for it.
func (c *conn) sendContinue(plan bodyPlan, mark *int) error {
	if !plan.sendContinue || c.bodyBuffered(0) {
		return nil
	}
	answer := append([]byte(nil), c.out[*mark:]...)
	c.out = append(c.out[:*mark], continue100...)
	err := c.flush()
	*mark = len(c.out)
	c.out = append(c.out, answer...)
	return err
}

// finishStaged writes c.rsp, runs stage 40 and reports whether the
// connection stays open.
func (c *conn) finishStaged(herr error) bool {
	status, n := c.rsp.status, c.rsp.bodyLen()
	ok := c.finishResponse()
	c.x.done(&c.gen.pp, status, n, herr)
	return ok
}

// serveBlocking runs a blocking handler (and the handlers internal
// redirects lead to) with a streamWriter, Request.Body and a context.
func (c *conn) serveBlocking(rule *stage.Rule, headLen int, plan bodyPlan) bool {
	x := c.x
	c.start += headLen
	c.br.start(c, &c.req, plan)
	x.r.Body = &c.br
	c.rs.begin(&c.req, &c.rsp)
	err := c.runBlocking(rule)
	for hops := 0; c.followable(err); hops++ {
		if !x.followRedirect(err, &c.req, hops) {
			break
		}
		if !c.br.drain() {
			err = errors.Join(err, c.br.err)
			break
		}
		rule2, core, err2 := x.route(&c.gen.pp, &c.req)
		if rule2 == nil {
			c.rs.served-- // counted again by the answer
			if core {
				return c.answerCore(0, bodyPlan{})
			}
			return c.answerWritten(0, bodyPlan{}, err2)
		}
		err = c.runBlocking(rule2)
	}
	return c.endBlocking(err)
}

// idle reports whether the request body is all read and no input
// follows it: then readHead, which runs next on a connection that stays
// open, writes the response before it waits, and a blocking handler's
// answer need not be flushed before. With input pending, the answer goes
// out before the next request is served (it may take long), and before a
// body left unread is drained.
func (c *conn) idle() bool {
	return c.start == c.end && c.br.err == io.EOF
}

// followable reports whether err may be an internal redirect to follow
// (nothing was written).
func (c *conn) followable(err error) bool {
	if err == nil {
		return false
	}
	var ir *stage.InternalRedirect
	return errors.As(err, &ir) && !c.sw.wrote
}

// runBlocking runs one blocking handler with a fresh streamWriter and a
// context cancelled when the client goes away or the server stops.
func (c *conn) runBlocking(rule *stage.Rule) error {
	c.rctx = c.rctx.next(c, c.br.err != nil && c.start == c.end)
	defer c.rctx.end()
	c.x.r.SetContext(c.rctx)
	c.sw.reset(c)
	return rule.Serve(&c.sw, &c.x.r)
}

// endBlocking completes a blocking handler's response, drops what is
// left of the body, runs stage 40 and reports whether the connection
// stays open.
func (c *conn) endBlocking(err error) bool {
	sw, x, pp := &c.sw, c.x, &c.gen.pp
	switch {
	case sw.hijacked:
		c.hijacked = true
		c.count(101, 0)
		x.done(pp, 101, 0, err)
		return false
	case err == nil && !sw.standard:
		ok := sw.finish()
		if !ok || !c.idle() {
			ok = c.flush() == nil && ok
		}
		c.count(sw.status, sw.bytes)
		x.done(pp, sw.status, sw.bytes, sw.err)
		return ok && c.br.drain()
	case sw.sent:
		c.flush()
		c.count(sw.status, sw.bytes)
		x.done(pp, sw.status, sw.bytes, err)
		return false
	}
	err = bodyError(c.br.err, err)
	x.adoptHead(&sw.writerHead, err)
	c.out = c.rs.handlerAnswer(c.out, &c.req, x, err, &c.rsp)
	if !c.br.drain() {
		c.rsp.close = true
	}
	return c.finishStaged(err)
}

// startWatch notices, while a handler runs, a client that closes its
// side: a background read cancels the request's context on EOF or error.
// A byte that arrives (a pipelined request) is kept.
func (c *conn) startWatch(cancel func()) {
	w := &c.watch
	c.watching, w.n = true, 0
	w.stopped.Store(false)
	w.done = make(chan struct{})
	c.setReadDeadline(time.Time{})
	go func() {
		defer close(w.done)
		n, err := c.nc.Read(w.got[:])
		w.n = n
		if n == 0 && err != nil && !w.stopped.Load() {
			cancel()
		}
	}()
}

// watchAfterBody lets the request context watch the client once a
// handler has read the whole request body, unless a pipelined request
// follows it: a client that sends a body and then goes away is noticed as
// one without a body is. It may run on another goroutine than the
// handler's (a CGI stdin feeder), and after the handler (the drain).
func (c *conn) watchAfterBody() {
	c.rctx.bodyEnded(c.start == c.end)
}

// stopWatch ends the background read and keeps what it got (see
// reqContext.stopWatch, which calls it).
func (c *conn) stopWatch() {
	if !c.watching {
		return
	}
	c.watching = false
	c.watch.stopped.Store(true)
	c.setReadDeadline(aLongTimeAgo)
	<-c.watch.done
	if c.watch.n > 0 {
		if len(c.buf) == 0 {
			c.buf = make([]byte, readBufSize)
		}
		c.start, c.end = 0, 1
		c.buf[0] = c.watch.got[0]
	}
}

// adoptStages takes the loop's per-connection plugin state.
func (c *conn) adoptStages(lc *loopConn) {
	c.info, c.carried, c.held = lc.info, lc.carried, lc.gen
	if c.held != nil {
		c.use(c.held)
	}
}
