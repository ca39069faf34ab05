package server

import (
	"errors"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	"gibbon/engine"
	"gibbon/http1"
	"gibbon/stage"
	"gibbon/static"
	"gibbon/vhost"
)

// ErrShutdown is the error stage-50 observers get for a connection the
// server closed because it shuts down.
var ErrShutdown = errors.New("server: connection closed for shutdown")

// pipe is the server's plugin Pipeline and what the drivers check per
// connection and per request, computed once in New. The zero value (no
// plugins) makes every check false.
type pipe struct {
	p *stage.Pipeline
	// conns: a ConnInfo is needed (any stage hooked); requests: a
	// stage.Request is built for each request (stage 20, 30 or 40 hooked).
	conns, requests bool
	accept, filters bool
	closers         bool
	lister          bool // the core asks for a listing before a directory's 403
	hosts           map[*vhost.VHost]*stage.VHost
	router          Router // consulted before the [HANDLERS] rules; may be nil
}

func newPipe(p *stage.Pipeline, vt *vhost.Table, router Router) pipe {
	pp := pipe{p: p, hosts: make(map[*vhost.VHost]*stage.VHost), router: router}
	for i, h := range p.Hosts() {
		pp.hosts[vt.Hosts()[i]] = h.VHost
	}
	pp.accept = p.Has(stage.StageAccept)
	pp.filters = p.Has(stage.StageRequest)
	pp.closers = p.Has(stage.StageClose)
	pp.requests = pp.filters || p.Has(stage.StageHandle) || p.Has(stage.StageDone) || router != nil
	pp.conns = pp.requests || pp.accept || pp.closers
	pp.lister = p.Has(stage.StageHandle)
	return pp
}

// route returns the rule serving r: the Router's, else the first
// matching [HANDLERS] rule, else nil.
func (pp *pipe) route(r *stage.Request) *stage.Rule {
	if pp.router != nil {
		if rule := pp.router.Route(r); rule != nil {
			return rule
		}
	}
	return pp.p.Route(r)
}

// closeReason maps why a driver closed a connection to the error stage-50
// observers get: nil when the server closed it after a response, io.EOF
// when the client did, a timeout error, ErrShutdown, or the I/O error.
func closeReason(err error) error {
	if errors.Is(err, errClosing) || errors.Is(err, engine.ErrShutdown) || errors.Is(err, net.ErrClosed) {
		return ErrShutdown // net.ErrClosed: Shutdown closed the socket
	}
	return err
}

// addrPort returns the address of a TCP net.Addr.
func addrPort(a net.Addr) netip.AddrPort {
	if ta, ok := a.(*net.TCPAddr); ok {
		return ta.AddrPort()
	}
	return netip.AddrPort{}
}

// exchange is one request on its way through the stages. A loop worker
// has one for all its connections, a goroutine connection its own; it is
// reused request after request.
type exchange struct {
	r  stage.Request
	w  memWriter
	vh *vhost.VHost // the core's host for r
	// target, path and query cache the strings of the last target, so
	// that a keep-alive client asking for the same URL again costs no
	// allocation.
	target      []byte
	path, query string
	pathStatus  int    // CleanPath's status for target: non-0 skips stages 20 and 30
	escaped     []byte // the rewritten path, escaped for the core
	// host and hostVH cache the last Host header and its virtual host
	// (see hostFor).
	host   []byte
	hostVH *vhost.VHost
}

// hostFor returns vt's virtual host for the Host header host. The last
// answer is kept: a keep-alive client sends the same Host again.
func (x *exchange) hostFor(vt *vhost.Table, host []byte) *vhost.VHost {
	if x.hostVH == nil || string(host) != string(x.host) {
		x.host = append(x.host[:0], host...)
		x.hostVH = vt.Lookup(host)
	}
	return x.hostVH
}

// begin fills x.r for req on vh (stage 20 may run next).
func (x *exchange) begin(pp *pipe, req *http1.Request, vh *vhost.VHost, ci stage.ConnInfo) {
	r := &x.r
	r.Reset()
	r.Method, r.MethodName, r.Proto = req.Method, req.MethodName, req.Version
	r.Target, r.Host, r.Headers = req.Target, req.Host, req.Headers
	r.VHost, r.Conn, r.Start = pp.hosts[vh], ci, time.Now()
	x.vh = vh
	x.cleanTarget(req)
	r.Path, r.Query = x.path, x.query
	x.w.reset()
}

// beginUnknown fills x.r for a request whose head could not be parsed:
// only Conn, VHost (the default host) and Start are known.
func (x *exchange) beginUnknown(pp *pipe, vt *vhost.Table, ci stage.ConnInfo) {
	x.r.Reset()
	x.vh = vt.Default()
	x.r.VHost, x.r.Conn, x.r.Start = pp.hosts[x.vh], ci, time.Now()
	x.w.reset()
}

func (x *exchange) cleanTarget(req *http1.Request) {
	if string(x.target) == string(req.Target) && x.target != nil {
		return
	}
	x.target = append(x.target[:0], req.Target...)
	x.path, x.pathStatus = "", 400
	if req.Method != http1.MethodConnect && !(len(req.Path) == 1 && req.Path[0] == '*') {
		x.path, x.pathStatus = static.CleanPath(req.Path)
	}
	x.query = ""
	if len(req.Query) > 0 {
		x.query = string(req.Query)
	}
}

// staged reports whether x.r goes through stages 20 and 30: its path is a
// clean path (not "*", CONNECT or a malformed path, which the core
// answers).
func (x *exchange) staged() bool { return x.pathStatus == 0 }

// applyRewrite points req at x.r's path and query after a filter or an
// internal redirect rewrote them, for the core.
func (x *exchange) applyRewrite(req *http1.Request) {
	if !x.r.Rewritten() {
		return
	}
	x.escaped = append(x.escaped[:0], stage.EscapePath(x.r.Path)...)
	req.Path, req.Query = x.escaped, nil
	if x.r.Query != "" {
		req.Query = []byte(x.r.Query)
	}
}

// route runs stage 30 for x.r after stage 20 let it through: it returns
// the blocking rule that must serve it off the loop, or nil once an
// inline handler answered into x.w (err is its error) or when the core
// serves it (core). Internal redirects are followed here.
func (x *exchange) route(pp *pipe, req *http1.Request) (blocking *stage.Rule, core bool, err error) {
	for hops := 0; ; hops++ {
		rule := pp.route(&x.r)
		if rule == nil {
			rule = x.routeIndex(pp)
		}
		switch {
		case rule == nil:
			return nil, true, nil
		case rule.Handler.Blocking():
			return rule, false, nil
		}
		err = rule.Serve(&x.w, &x.r)
		if !x.followRedirect(err, req, hops) {
			return nil, false, err
		}
	}
}

// routeIndex routes a directory path no rule matches through its index
// file: for the first of the host's index files that exists, a rule
// matching the path with the file name appended serves the request,
// rewritten to that path (so "Match \.php$ fastcgi" runs /dir/index.php
// for /dir/). It is tried only for hosts with rules.
func (x *exchange) routeIndex(pp *pipe) *stage.Rule {
	vh := x.r.VHost
	if vh == nil || !strings.HasSuffix(x.r.Path, "/") || len(pp.p.Hosts()[vh.Index].Rules) == 0 {
		return nil
	}
	for _, name := range vh.IndexFiles {
		p := x.r.Path + name
		if _, err := os.Stat(filepath.Join(vh.DocumentRoot, filepath.FromSlash(p))); err != nil {
			continue
		}
		saved := x.r.Path
		x.r.Path = p
		rule := pp.p.Route(&x.r)
		x.r.Path = saved
		if rule != nil {
			x.r.Rewrite(p, x.r.Query)
		}
		return rule
	}
	return nil
}

// followRedirect reports whether err is an internal redirect to follow:
// it rewrites x.r (and req, for the core) to the new path, as a GET
// (HEAD stays HEAD) without a body.
func (x *exchange) followRedirect(err error, req *http1.Request, hops int) bool {
	if err == nil {
		return false // before ir, which escapes: an inline handler's success allocates nothing
	}
	var ir *stage.InternalRedirect
	if !errors.As(err, &ir) || x.w.wrote {
		return false
	}
	if hops >= stage.MaxInternalRedirects {
		return false
	}
	x.r.Rewrite(ir.Path, ir.Query)
	if x.r.Method != http1.MethodHead {
		x.r.Method, x.r.MethodName = http1.MethodGet, methodGet
		req.Method, req.MethodName = http1.MethodGet, methodGet
	}
	x.r.Body = nil
	req.ContentLength, req.Chunked = -1, false
	x.applyRewrite(req)
	return true
}

var methodGet = []byte("GET")

// handlerStatus is the status answering a handler's error when it wrote
// nothing: an internal redirect not followed is a 500.
func handlerStatus(err error) int {
	var ir *stage.InternalRedirect
	if errors.As(err, &ir) {
		return 500
	}
	return stage.StatusOf(err)
}

// handlerAnswer appends the answer an in-memory writer holds (x.w), or,
// when the plugin returned err, the standard page for its status (what it
// wrote is dropped: nothing was sent yet; the fields it set are kept).
// The caller has called begin.
func (rs *responder) handlerAnswer(dst []byte, req *http1.Request, x *exchange, err error, rsp *response) []byte {
	if err != nil {
		return rs.standardPage(dst, req, x.vh, handlerStatus(err), &x.w.hdr, rsp)
	}
	return rs.written(dst, req, x.vh, &x.w, rsp)
}

// listing answers a directory without an index file, which respond left
// to the caller (rsp.listDir): the plugins' Lister writes a listing, else
// 403. err is the Lister's error.
func (rs *responder) listing(dst []byte, req *http1.Request, x *exchange, pp *pipe, rsp *response) ([]byte, error) {
	rsp.listDir = false
	x.r.File = filepath.Join(x.vh.DocumentRoot, filepath.FromSlash(x.r.Path))
	ok, err := pp.p.ServeDirectory(&x.w, &x.r)
	if !ok {
		return rs.errorPage(dst, req, x.vh, 403, "", rsp), nil
	}
	return rs.handlerAnswer(dst, req, x, err, rsp), err
}

// adoptHead takes the fields of a blocking handler's writer (wh) that
// sent nothing, and its status when it asked for the standard response
// (err nil), for handlerAnswer.
func (x *exchange) adoptHead(wh *writerHead, err error) {
	x.w.hdr.Reset()
	for _, f := range wh.hdr.Fields() {
		x.w.hdr.Add(f.Name, f.Value)
	}
	if err == nil {
		x.w.status, x.w.wrote, x.w.standard = wh.status, true, true
	}
}

// done runs stage 40 for x.r (Pipeline.Done measures the duration, when
// a plugin observes it).
func (x *exchange) done(pp *pipe, status int, bytes int64, err error) {
	pp.p.Done(&x.r, stage.Outcome{Status: status, Bytes: bytes, Err: err})
}
