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
// one process. Register handlers before Start; the methods that start and
// stop the server are safe for concurrent use.
type Server struct {
	cfg      Config
	model    *config.Config
	needRoot bool // the default host has no document root: Start makes an empty one
	router   router

	mu       sync.Mutex
	srv      *server.Server // set by Start
	tmpRoot  string         // the empty document root Start made, removed by Shutdown
	served   chan struct{}  // closed when Serve returned
	serveErr error          // Serve's error, read after served is closed
	stopped  bool
}

// ErrStarted is what Start returns for a Server already started.
var ErrStarted = errors.New("gibbon: server already started")

// ErrStopped is what Start returns after Shutdown.
var ErrStopped = errors.New("gibbon: server shut down")

// New prepares a Server for cfg; it opens no socket and loads no plugin
// yet (Start does). It fails for a malformed Listen address.
func New(cfg Config) (*Server, error) {
	m, empty, err := cfg.model()
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, model: m, needRoot: empty}
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
// before, or after Start.
func (s *Server) Handle(pattern string, h Handler) {
	if h == nil {
		panic("gibbon: nil handler for " + pattern)
	}
	s.handle(pattern, &nativeHandler{h: h})
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
	s.handle(pattern, &httpHandler{h: h})
}

func (s *Server) handle(pattern string, h routeHandler) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv != nil || s.stopped {
		panic("gibbon: Handle after Start")
	}
	if err := s.router.add(pattern, h); err != nil {
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
// the file through the connection's goroutine. Static panics after Start
// or when dir is not a directory.
func (s *Server) Static(prefix, dir string) {
	if err := checkDir(dir); err != nil {
		panic(err)
	}
	if prefix == "/" {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.srv != nil || s.stopped {
			panic("gibbon: Static after Start")
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

// Start loads the plugins, binds every Listen address and starts serving
// in the background; it returns once the listeners are bound (Addr then
// answers). ctx bounds the start only: stop the server with Shutdown, or
// use Run. Start may be called once.
func (s *Server) Start(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.stopped:
		return ErrStopped
	case s.srv != nil:
		return ErrStarted
	}
	if s.needRoot {
		dir, err := os.MkdirTemp("", "gibbon-empty-")
		if err != nil {
			return err
		}
		s.tmpRoot, s.model.Hosts[0].DocumentRoot = dir, dir
	}
	logger := s.cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	srv, err := server.New(s.model, server.Options{
		Logger: logger, Version: s.cfg.Version, Grace: s.cfg.Grace, Router: &s.router,
	})
	if err == nil {
		if err = srv.Listen(); err != nil {
			srv.Shutdown(ctx) // the plugins' Cleanup
		}
	}
	if err != nil {
		s.removeRoot()
		return err
	}
	s.srv, s.served = srv, make(chan struct{})
	go func() {
		s.serveErr = srv.Serve()
		close(s.served)
	}()
	return nil
}

// Addr returns the first bound address (with the port the kernel chose
// for ":0"), or nil before Start.
func (s *Server) Addr() net.Addr {
	if a := s.Addrs(); len(a) > 0 {
		return a[0]
	}
	return nil
}

// Addrs returns every bound address in Listen order, or nil before Start.
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
// idle connections, lets the requests in flight finish, then runs the
// plugins' Cleanup. When ctx ends first (or, without a deadline, after
// Config.Grace) it closes the remaining connections, cancelling their
// requests' contexts, and returns ctx's error. Shutdown is safe to call
// more than once, and before Start.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	srv, served := s.srv, s.served
	s.stopped = true
	s.mu.Unlock()
	if srv == nil {
		return nil
	}
	err := srv.Shutdown(ctx)
	<-served
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
	select {
	case <-ctx.Done():
		return s.Shutdown(context.WithoutCancel(ctx))
	case <-s.served:
		s.Shutdown(context.WithoutCancel(ctx))
		return s.serveErr
	}
}

// removeRoot removes the empty document root Start made (s.mu is held).
func (s *Server) removeRoot() {
	if s.tmpRoot != "" {
		os.Remove(s.tmpRoot)
		s.tmpRoot = ""
	}
}
