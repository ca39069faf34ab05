package gibbon

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"

	"gibbon/config"
	"gibbon/server"
)

// Server is an embedded gibbon: the same engine, plugins, virtual hosts,
// TLS and HTTP/2 as the gibbon command, plus the handlers registered with
// Handle, HandleHTTP and Static. It is a value: several Servers may run in
// one process. Register handlers before Check, Listen or Start; the
// methods that start and stop the server are safe for concurrent use.
//
// A server goes through Check (validate the configuration, load the
// plugins), Listen (bind every address) and Serve (accept and serve until
// Shutdown); each step runs the earlier ones it needs. Start is Listen
// followed by Serve in the background, Run is Start until a context ends.
type Server struct {
	cfg      Config
	model    *config.Config
	opts     server.Options // Driver and Balancing mapped by New
	needRoot bool           // the default host has no document root: Check makes an empty one
	router   router
	reloads  reloadLog

	mu        sync.Mutex
	srv       *server.Server // set by Check
	tmpRoot   string         // the empty document root Check made, removed by Shutdown
	listening bool           // Listen succeeded
	served    chan struct{}  // set when serving begins, closed when Serve returned
	serveErr  error          // Serve's error, read after served is closed
	stopped   bool
}

// ErrStarted is what Listen, Start and Serve return for a Server already
// bound or serving.
var ErrStarted = errors.New("gibbon: server already started")

// ErrStopped is what Check, Listen, Start and Serve return after Shutdown.
var ErrStopped = errors.New("gibbon: server shut down")

// ErrNoLogger is what ReopenLogs returns when no logger plugin is loaded.
var ErrNoLogger = errors.New("gibbon: no logger plugin loaded")

// New prepares a Server for cfg; it opens no socket and loads no plugin
// yet (Check does). It fails for a malformed Listen address or an unknown
// Driver or Balancing.
func New(cfg Config) (*Server, error) {
	m, empty, err := cfg.model()
	if err != nil {
		return nil, err
	}
	if err := checkDriver(cfg.Driver); err != nil {
		return nil, err
	}
	b, err := cfg.Balancing.server()
	if err != nil {
		return nil, err
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{cfg: cfg, model: m, needRoot: empty, opts: server.Options{
		Logger: logger, Version: cfg.Version, Grace: cfg.Grace, Driver: cfg.Driver, Balancing: b,
	}}
	s.router.init()
	return s, nil
}

// Handle registers h for pattern, a net/http.ServeMux pattern (Go 1.22):
// "[METHOD ][HOST]/path", where a path segment may be a wildcard "{name}",
// the last one "{name...}" (the rest of the path) or "{$}" (the end of a
// path ending in "/"), and a path ending in "/" matches every path below
// it. When several patterns match a request the most specific wins, as
// with ServeMux: a pattern with a host before one without, then one with
// the request's method (GET also serves HEAD), then, segment by segment, a
// literal before "{name}" before "{name...}". A path that matches only
// with other methods is answered 405 with an Allow header, a path that
// matches only with a trailing "/" is redirected there (307, as ServeMux does). Requests no
// pattern matches go on to the configuration's [HANDLERS] rules and then
// to the static files of their virtual host.
//
// Handle panics when the pattern is malformed, when it was registered
// before, or after Check (Listen, Start).
func (s *Server) Handle(pattern string, h Handler) {
	if h == nil {
		panic("gibbon: nil handler for " + pattern)
	}
	s.handle(pattern, &nativeHandler{h: h}, false)
}

// HandleNonBlocking registers h for pattern, as Handle does, for a
// handler that never blocks: on the epoll driver it runs on the event
// loop that read the request, as gibbon's static files and Monkey's
// plugins do, and the connection is not handed to a goroutine of its
// own. It suits a handler that computes its answer from the request and
// memory alone.
//
// The contract: h must not block, that is, do no disk or network I/O,
// wait for no channel, lock or other goroutine, and not sleep; while it
// runs, the worker serves none of its other connections, so a handler
// that blocks stalls every one of them (a panic is still answered 500).
// The answer is held in memory and sent with a Content-Length once h
// returns: Ctx.Flush and Ctx.Hijack return errors.ErrUnsupported and
// Ctx.Trailer nil. Ctx.Context is never cancelled and Ctx.Body is empty:
// a request that announces a body (a Transfer-Encoding, or a
// Content-Length other than 0) is served as Handle serves it, on the
// connection's goroutine, with Body. On a connection a goroutine serves
// already (the goroutine driver, TLS and h2c listeners, a connection
// handed off for an earlier request) h runs on that goroutine, the same
// way.
func (s *Server) HandleNonBlocking(pattern string, h Handler) {
	if h == nil {
		panic("gibbon: nil handler for " + pattern)
	}
	s.handle(pattern, &nativeHandler{h: h}, true)
}

// HandleFunc registers f for pattern, as Handle does.
func (s *Server) HandleFunc(pattern string, f func(c *Ctx)) {
	s.Handle(pattern, HandlerFunc(f))
}

// HandleHTTP registers a net/http handler for pattern (see Handle): any
// http.Handler runs unchanged, a ServeMux, a router or a middleware
// chain. See [Server] for the net/http features served.
func (s *Server) HandleHTTP(pattern string, h http.Handler) {
	if h == nil {
		panic("gibbon: nil handler for " + pattern)
	}
	s.handle(pattern, &httpHandler{h: h}, false)
}

func (s *Server) handle(pattern string, h routeHandler, nonBlocking bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv != nil || s.stopped {
		panic("gibbon: Handle after Check, Listen or Start")
	}
	if err := s.router.add(pattern, h, nonBlocking); err != nil {
		panic(err)
	}
}

// Static serves the files under dir for the paths beginning with prefix,
// which ends in "/": "/static/" serves dir/app.css for /static/app.css,
// with conditional requests, ranges, index files and the host's error
// pages. With the prefix "/" dir becomes the default host's document root
// and is served by the core on the event loops (with sendfile and the
// open-file cache), after every handler; any other prefix is a handler
// (a pattern like Handle's: a method or host may come first) that copies
// the file through the connection's goroutine. Static panics after Check
// (Listen, Start) or when dir is not a directory.
func (s *Server) Static(prefix, dir string) {
	if err := checkDir(dir); err != nil {
		panic(err)
	}
	if prefix == "/" {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.srv != nil || s.stopped {
			panic("gibbon: Static after Check, Listen or Start")
		}
		abs, err := absDir(dir)
		if err != nil {
			panic(err)
		}
		s.model.Hosts[0].DocumentRoot, s.needRoot = abs, false
		return
	}
	h, err := newStaticHandler(prefix, dir, s.model)
	if err != nil {
		panic(err)
	}
	s.Handle(prefix, h)
}

// Check validates the configuration and loads the plugins without
// binding: every document root must be a readable directory, the TLS
// certificates must load, the Driver must run here, and each plugin of
// plugins.load must be registered and accept its configuration. The
// plugins' warnings go to Config.Logger. After Check, Describe answers,
// and Shutdown runs the plugins' Cleanup. Listen and Start call Check
// when it was not called; calling it again does nothing.
func (s *Server) Check() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.checkLocked()
}

func (s *Server) checkLocked() error {
	switch {
	case s.stopped:
		return ErrStopped
	case s.srv != nil:
		return nil
	}
	if s.needRoot {
		dir, err := os.MkdirTemp("", "gibbon-empty-")
		if err != nil {
			return err
		}
		s.tmpRoot, s.model.Hosts[0].DocumentRoot = dir, dir
	}
	opts := s.opts
	if len(s.router.routes) > 0 {
		// Without routes the router would only cost the core a request
		// built for nothing.
		opts.Router = &s.router
	}
	srv, err := server.New(s.model, opts)
	if err != nil {
		s.removeRoot()
		return err
	}
	for _, w := range srv.Pipeline().Warnings() {
		opts.Logger.Warn(w.String())
	}
	s.srv = srv
	return nil
}

// Describe returns the plugin chain Check loaded, stage by stage, one
// line each (what gibbon -t prints), or "" before Check.
func (s *Server) Describe() string {
	s.mu.Lock()
	srv := s.srv
	s.mu.Unlock()
	if srv == nil {
		return ""
	}
	return srv.Pipeline().Describe()
}

// Listen checks the server (see Check) and binds every Listen address
// without serving yet: Addr then answers, and Serve starts accepting. A
// process started as root may drop its privileges between Listen and
// Serve, as the gibbon command does. On error no listener stays open and
// the plugins are cleaned up. Listen returns ErrStarted when the server
// is already bound.
func (s *Server) Listen() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.stopped:
		return ErrStopped
	case s.listening:
		return ErrStarted
	}
	return s.listenLocked()
}

func (s *Server) listenLocked() error {
	if err := s.checkLocked(); err != nil {
		return err
	}
	if err := s.srv.Listen(); err != nil {
		s.srv.Shutdown(context.Background()) // the plugins' Cleanup
		s.srv = nil
		s.removeRoot()
		return err
	}
	s.listening = true
	return nil
}

// Serve serves on the bound listeners (calling Listen first when it was
// not) and blocks until Shutdown, then returns nil, or until a listener
// fails, then returns the error (call Shutdown to run the plugins'
// Cleanup). It returns ErrStarted when the server already serves.
func (s *Server) Serve() error {
	srv, served, err := s.beginServe(false)
	if err != nil {
		return err
	}
	return s.serve(srv, served)
}

// Start checks the server, binds every Listen address and serves in the
// background; it returns once the listeners are bound (Addr then
// answers). ctx bounds the start only: stop the server with Shutdown, or
// use Run. Start returns ErrStarted after Listen, Serve or Start.
func (s *Server) Start(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	srv, served, err := s.beginServe(true)
	if err != nil {
		return err
	}
	go s.serve(srv, served)
	return nil
}

// beginServe binds the listeners when needed (they must not be bound yet
// when unbound is set) and marks the server as serving.
func (s *Server) beginServe(unbound bool) (*server.Server, chan struct{}, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.stopped:
		return nil, nil, ErrStopped
	case s.served != nil, unbound && s.listening:
		return nil, nil, ErrStarted
	}
	if !s.listening {
		if err := s.listenLocked(); err != nil {
			return nil, nil, err
		}
	}
	s.served = make(chan struct{})
	return s.srv, s.served, nil
}

// serve runs srv until it stops and closes served.
func (s *Server) serve(srv *server.Server, served chan struct{}) error {
	err := srv.Serve()
	s.serveErr = err
	close(served)
	return err
}

// Reload swaps in the configuration of cfg, as the gibbon command does on
// SIGHUP (nginx's reload): the virtual hosts with their document roots,
// redirects and error pages, the MIME types, the plugins with their
// configuration and the run-time settings (Timeout, KeepAlive,
// KeepAliveTimeout, MaxKeepAliveRequest, MaxRequestSize, Indexfile,
// HideVersion, Resume, SymLink, DefaultMimeType, UserDir) apply to every
// request that starts afterwards, while the requests in flight finish
// under the configuration they started with. The handlers registered
// with Handle, HandleHTTP and Static stay; a default host without a
// document root keeps the one it has. The TLS certificate files are read
// again (see ReloadCertificates).
//
// A configuration that does not load (a document root that is not a
// readable directory, a plugin that refuses its configuration, with file,
// line and key where there is one) changes nothing: the error is returned
// and the server goes on with the running configuration. The replaced
// plugins are cleaned up once their last request has ended.
//
// What needs a restart keeps its running value, with a warning on
// Config.Logger naming the keys that changed: Listen, Workers,
// Balancing, WorkerCapacity, User, PidFile and the TLS certificate
// files; so do the Logger, Version, Grace, Driver and Balancing New was
// given. Before Check, Reload replaces the configuration Check will use.
// After Shutdown it returns ErrStopped. Stats reports the outcome as
// LastReload.
func (s *Server) Reload(cfg Config) error {
	err := s.reload(cfg)
	s.reloads.note(err)
	return err
}

func (s *Server) reload(cfg Config) error {
	m, empty, err := cfg.model()
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return ErrStopped
	}
	if empty {
		m.Hosts[0].DocumentRoot = s.model.Hosts[0].DocumentRoot
	}
	if s.srv == nil {
		s.model, s.needRoot = m, m.Hosts[0].DocumentRoot == ""
		return nil
	}
	if err := s.srv.Reload(m); err != nil {
		return err
	}
	for _, w := range s.srv.Pipeline().Warnings() {
		s.opts.Logger.Warn(w.String())
	}
	s.model = m
	return nil
}

// ReloadCertificates reads the TLS certificate files again and swaps the
// new certificates in for the next handshakes; on error the current ones
// stay in use. It does nothing without TLS listeners, or before Check.
// The gibbon command calls it on SIGHUP. (During handshakes the files are
// also looked at, at most once a minute, and reloaded when they changed.)
func (s *Server) ReloadCertificates() error {
	s.mu.Lock()
	srv := s.srv
	s.mu.Unlock()
	if srv == nil {
		return nil
	}
	return srv.ReloadCertificates()
}

// ReopenLogs makes the logger plugin close and reopen its log files, so
// that files moved aside by a log rotation are replaced by new ones; the
// gibbon command calls it on SIGUSR1. It returns ErrNoLogger when no
// logger plugin is loaded (or before Check).
func (s *Server) ReopenLogs() error {
	s.mu.Lock()
	srv := s.srv
	s.mu.Unlock()
	if srv == nil {
		return ErrNoLogger
	}
	r, ok := srv.Pipeline().Plugin("logger").(interface{ Reopen() error })
	if !ok {
		return ErrNoLogger
	}
	return r.Reopen()
}

// Addr returns the first bound address (with the port the kernel chose
// for ":0"), or nil before Listen.
func (s *Server) Addr() net.Addr {
	if a := s.Addrs(); len(a) > 0 {
		return a[0]
	}
	return nil
}

// Addrs returns every bound address in Listen order, or nil before
// Listen.
func (s *Server) Addrs() []net.Addr {
	s.mu.Lock()
	srv := s.srv
	s.mu.Unlock()
	if srv == nil {
		return nil
	}
	return srv.Addrs()
}

// Shutdown stops the server gracefully: it closes the listeners and the
// idle connections, lets the requests in flight finish, waits for Serve to
// return, then runs the plugins' Cleanup. When ctx ends first (or, without
// a deadline, after Config.Grace) it closes the remaining connections,
// cancelling their requests' contexts, and returns ctx's error. Shutdown
// is safe to call more than once, and at any step: after Check or Listen
// it runs the Cleanup and closes the listeners.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	srv, served := s.srv, s.served
	s.stopped = true
	s.mu.Unlock()
	if srv == nil {
		return nil
	}
	err := srv.Shutdown(ctx)
	if served != nil {
		<-served
	}
	s.mu.Lock()
	s.removeRoot()
	s.mu.Unlock()
	return err
}

// Run starts the server and serves until ctx is done, then shuts it down
// gracefully (within Config.Grace). It returns nil after a shutdown, or
// the error that stopped the server.
func (s *Server) Run(ctx context.Context) error {
	if err := s.Start(ctx); err != nil {
		return err
	}
	s.mu.Lock()
	served := s.served
	s.mu.Unlock()
	select {
	case <-ctx.Done():
		return s.Shutdown(context.WithoutCancel(ctx))
	case <-served:
		s.Shutdown(context.WithoutCancel(ctx))
		return s.serveErr
	}
}

// removeRoot removes the empty document root Check made (s.mu is held).
func (s *Server) removeRoot() {
	if s.tmpRoot != "" {
		os.Remove(s.tmpRoot)
		s.tmpRoot = ""
	}
}
