package server

import (
	"gibbon/engine"
	"gibbon/stage"
)

// loopConn is the loop driver's per-connection state when plugins are
// loaded (one allocation per connection, kept in the engine Conn's
// context): the ConnInfo the hooks see and, after a hand-off to a
// blocking handler, what stage 20 decided, so that the goroutine driver
// does not run it again.
type loopConn struct {
	info    stage.ConnInfo
	carried *carried
	// gen is the configuration a request was handed off under, held for
	// the goroutine that goes on serving it (see loop.OnData).
	gen *generation
}

// carried is the result of stage 20 for a request handed off after it.
type carried struct {
	path, query string
	rewritten   bool
	user        string
	fields      []stage.Field // response fields filters set
}

// carry records x's stage-20 result for the goroutine driver.
func (lc *loopConn) carry(x *exchange) {
	lc.carried = &carried{
		path:      x.r.Path,
		query:     x.r.Query,
		rewritten: x.r.Rewritten(),
		user:      x.r.User,
		fields:    append([]stage.Field(nil), x.w.hdr.Fields()...),
	}
}

// apply restores a carried stage-20 result on x.
func (cr *carried) apply(x *exchange) {
	if cr.rewritten {
		x.r.Rewrite(cr.path, cr.query)
	}
	x.r.User = cr.user
	for _, f := range cr.fields {
		x.w.hdr.Add(f.Name, f.Value)
	}
}

// serveStaged serves the request whose head (headLen bytes) is in w.req
// through the stages: 20 (filters), 30 (handlers) or the core, then 40.
// The connection is handed off, with nothing consumed, when a filter may
// block, when the body is not all buffered yet (the goroutine driver reads
// it) or when the request routes to a blocking handler.
func (w *loopWorker) serveStaged(c *engine.Conn, lc *loopConn, in []byte, headLen int) (int, engine.Action) {
	x := &w.x
	x.begin(w.pp, &w.req, x.hostFor(w.rs.set.vhosts, w.req.Host), lc.info)
	if x.staged() && w.pp.p.RequestBlocks(&x.r) {
		return 0, engine.Handoff
	}
	size, act := w.bufferedSize(c, in, headLen)
	if size == 0 {
		return 0, act
	}
	w.rs.served = loopTag(c.Tag()).served()
	act = w.stagedAnswer(c, lc)
	if act == engine.Handoff {
		return 0, act
	}
	c.SetTag(uint64(uint32(w.rs.served)))
	return size, act
}

// bufferedSize returns the length of the request at the start of in when
// its body (if any) is all there; else 0 and the action: Close after
// refusing it (413, 417, a malformed chunked body), Handoff to read the
// body off the loop.
func (w *loopWorker) bufferedSize(c *engine.Conn, in []byte, headLen int) (int, engine.Action) {
	plan := w.rs.set.planBody(&w.req, headLen)
	switch plan.action {
	case bodyNone:
		return headLen, engine.Continue
	case bodyReject:
		_, act := w.refuseStaged(c, plan.status)
		return 0, act
	}
	w.body.start(&w.req, plan)
	n, done, err := w.body.feed(in[headLen:])
	switch {
	case err != nil:
		_, act := w.refuseStaged(c, bodyStatus(err))
		return 0, act
	case !done:
		return 0, engine.Handoff
	}
	return headLen + n, engine.Continue
}

// refuseStaged is refuse followed by stage 40.
func (w *loopWorker) refuseStaged(c *engine.Conn, status int) (int, engine.Action) {
	w.head = w.rs.closeError(w.head[:0], status, &w.rsp)
	st, n, err := w.queue(c)
	w.x.done(w.pp, st, n, err)
	return 0, engine.Close
}

// stagedAnswer runs stages 20 and 30 for w.x and queues the answer; it
// returns Handoff (after recording stage 20's result in lc) for a
// blocking handler.
func (w *loopWorker) stagedAnswer(c *engine.Conn, lc *loopConn) engine.Action {
	x := &w.x
	if x.staged() {
		switch w.pp.p.Request(&x.w, &x.r) {
		case stage.Close:
			x.done(w.pp, 0, 0, nil)
			return engine.Close
		case stage.Handled:
			return w.answerWritten(c, nil)
		}
	}
	core, err := true, error(nil)
	if x.staged() {
		var rule *stage.Rule
		if rule, core, err = x.route(w.pp, &w.req); rule != nil {
			lc.carry(x)
			return engine.Handoff
		}
	}
	if !core {
		return w.answerWritten(c, err)
	}
	return w.answerCore(c)
}

// answerWritten queues what a plugin answered into w.x.w, or the
// standard page for err (see handlerAnswer).
func (w *loopWorker) answerWritten(c *engine.Conn, err error) engine.Action {
	x := &w.x
	w.rs.begin(&w.req, &w.rsp)
	w.head = w.rs.handlerAnswer(w.head[:0], &w.req, x, err, &w.rsp)
	return w.finishStaged(c, err)
}

// answerCore queues the core's answer (static files, redirects, error
// pages; a directory listing when a Lister wants one).
func (w *loopWorker) answerCore(c *engine.Conn) engine.Action {
	x := &w.x
	x.applyRewrite(&w.req)
	w.head = w.rs.respond(w.head[:0], &w.req, &w.rsp)
	var err error
	if w.rsp.listDir {
		w.head, err = w.rs.listing(w.head, &w.req, x, w.pp, &w.rsp)
	}
	return w.finishStaged(c, err)
}

// finishStaged queues w.rsp, runs stage 40 and tells whether the
// connection goes on.
func (w *loopWorker) finishStaged(c *engine.Conn, herr error) engine.Action {
	status, n, err := w.queue(c)
	if err == nil {
		err = herr
	}
	w.x.done(w.pp, status, n, err)
	if err != nil && herr == nil || w.rsp.close {
		return engine.Close
	}
	return engine.Continue
}
