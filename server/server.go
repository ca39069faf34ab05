package server

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"gibbon/config"
	"gibbon/engine"
	"gibbon/http1"
	"gibbon/internal/clock"
	"gibbon/stage"
	"gibbon/static"
	"gibbon/tlsx"
	"gibbon/vhost"
)

// DefaultGrace is how long Shutdown waits for in-flight requests when its
// context has no deadline and Options.Grace is zero.
const DefaultGrace = 10 * time.Second

// MaxHeadBytes caps the request head (request line and header fields) the
// server accepts, whatever MaxRequestSize says: the head limit is
// min(MaxRequestSize, MaxHeadBytes). 32 KiB is Monkey's default
// MaxRequestSize and nginx's default total for large header buffers (4 × 8
// KiB): larger heads are almost always abuse, and the read buffer of a
// connection never grows beyond this (plus one initial buffer).
const MaxHeadBytes = 32 << 10

// ErrServerStarted is returned by Serve when the server is already serving.
var ErrServerStarted = errors.New("server: already serving")

// Options are the settings of a Server that do not come from the config.
type Options struct {
	// Logger receives the server's logs; nil means slog.Default().
	Logger *slog.Logger
	// Version is the version in the Server header ("gibbon/<Version>"); ""
	// or the config's HideVersion gives just "gibbon".
	Version string
	// Grace bounds Shutdown when its context has no deadline; 0 means
	// DefaultGrace.
	Grace time.Duration
	// Driver chooses how connections are served; the zero value,
	// DriverAuto, uses the epoll engine where it runs.
	Driver Driver
	// Balancing, when not "", overrides the config's Balancing
	// ("reuseport" or "fair") for the epoll driver: Monkey's -B is "fair".
	Balancing string
	// Router, when not nil, is a programmatic stage-30 handler source
	// (library mode): it is consulted for every request before the host's
	// [HANDLERS] rules.
	Router Router
}

// Router chooses a content handler for a request before the [HANDLERS]
// rules do. Route returns nil to leave the request to the rules and the
// core. It is called on an event loop (for the loop to decide whether to
// hand the connection off) and again on the connection's goroutine, so it
// must be cheap, must not block, must answer the same for the same
// request and must be safe for concurrent use. r must not be kept.
type Router interface {
	Route(r *stage.Request) *stage.Rule
}

// Server serves the sites of one config over HTTP/1.x and HTTP/2 (h2 on
// TLS listeners, h2c where enabled), plain or over TLS, on the epoll
// engine's worker loops or with one goroutine per connection (see
// [Driver]). Create it with New, bind with Listen, run Serve, stop with
// Shutdown. A Server is a value: several can run in one process.
type Server struct {
	log *slog.Logger
	// cfg is the configuration New was given: its listeners, workers and
	// TLS files stay until a restart (see RestartKeys).
	cfg    *config.Config
	opts   Options
	driver Driver        // DriverEpoll or DriverGoroutine
	engCfg engine.Config // for DriverEpoll
	// gen is the configuration new requests use: New's, then Reload's.
	gen atomic.Pointer[generation]
	// reloadMu serializes Reload and Serve's worker initialisation.
	reloadMu    sync.Mutex
	workers     int // the number of workers the plugins are told
	initialized int // guarded by reloadMu: workers whose plugins InitWorker ran
	// files answers the static requests of the goroutine driver's
	// connections (HTTP/1.x, TLS, HTTP/2, hand-offs), which share it;
	// Shutdown closes it after the last of them.
	files  *static.SharedCache
	connID atomic.Uint64 // last ConnInfo.ID given by the goroutine driver
	clk    atomic.Pointer[clock.Clock]

	// baseCtx is the parent of blocking handlers' request contexts;
	// Shutdown cancels it when it closes the connections still busy.
	baseCtx    context.Context
	cancelBase context.CancelFunc

	// tlsStore holds the certificates of the TLS listeners (nil without
	// any); clientCAs, when set, verifies client certificates.
	tlsStore  *tlsx.Store
	clientCAs *x509.CertPool

	// testHookHandle, when set, runs before each request is handled.
	testHookHandle atomic.Pointer[func(*http1.Request)]
	// testHookBlocking, when set, says which requests go to a blocking
	// handler: the loop driver hands their connection off.
	testHookBlocking atomic.Pointer[func(*http1.Request) bool]

	stats serverStats

	// shutting is set once by Shutdown; connections read it to stop
	// keeping alive.
	shutting atomic.Bool

	cleanupOnce sync.Once
	// replaced are the generations Reload replaced, until Shutdown saw
	// them cleaned up; guarded by mu.
	replaced []*generation

	mu           sync.Mutex
	listeners    []net.Listener              // guarded by mu; goroutine driver
	specs        []listenSpec                // guarded by mu; how each of listeners is served
	eng          *engine.Engine              // guarded by mu; epoll driver, set by Listen
	loop         *loop                       // guarded by mu; epoll driver, set by Listen
	conns        map[*conn]struct{}          // guarded by mu; goroutine driver and hand-offs
	hijacked     map[stage.Hijacked]struct{} // guarded by mu; see hijackRegistry
	clock        *clock.Clock                // guarded by mu; set by Listen, stopped by Shutdown
	serving      bool                        // guarded by mu
	servingSince time.Time                   // guarded by mu; set by Serve
	drained      chan struct{}               // closed when conns and hijacked are empty after shutting is set
	drainOnce    sync.Once
	stopping     chan struct{} // closed when Shutdown begins
	stopOnce     sync.Once
}

// settings are the values the respond path reads, derived from one
// configuration (see generation) and never modified afterwards.
type settings struct {
	vhosts           *vhost.Table
	static           static.Options
	mime             map[string]string
	defaultMime      string
	serverName       []byte // Server header value
	keepAlive        bool
	maxKeepAlive     int // <= 0: unlimited
	timeout          time.Duration
	keepAliveTimeout time.Duration
	maxRequestSize   int64 // <= 0: unlimited body (head still capped)
	limits           http1.Limits
}

// New validates cfg and prepares a Server; it opens no socket. Every
// DocumentRoot must be a readable directory, and the certificates of the
// TLS listeners must load.
func New(cfg *config.Config, opts Options) (*Server, error) {
	if cfg == nil {
		return nil, errors.New("server: nil config")
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Grace <= 0 {
		opts.Grace = DefaultGrace
	}
	if len(cfg.Server.Listen) == 0 {
		return nil, errors.New("server: no Listen address")
	}
	driver, err := chooseDriver(opts.Driver, cfg)
	if err != nil {
		return nil, err
	}
	s := &Server{
		log:      opts.Logger,
		cfg:      cfg,
		opts:     opts,
		driver:   driver,
		files:    static.NewSharedCache(static.CacheConfig{}),
		conns:    make(map[*conn]struct{}),
		hijacked: make(map[stage.Hijacked]struct{}),
		drained:  make(chan struct{}),
		stopping: make(chan struct{}),
	}
	s.workers = 1
	if driver == DriverEpoll {
		s.workers = cfg.Server.Workers
		if s.workers <= 0 {
			s.workers = runtime.NumCPU()
		}
	}
	g, err := s.newGeneration(cfg, s.workers, nil)
	if err != nil {
		return nil, err
	}
	if driver == DriverEpoll {
		if s.engCfg, err = engineConfig(cfg, &g.set, &opts); err != nil {
			g.pp.p.Cleanup()
			return nil, err
		}
		s.engCfg.Workers = s.workers
	}
	if s.tlsStore, s.clientCAs, err = s.newTLSStore(cfg); err != nil {
		g.pp.p.Cleanup()
		return nil, err
	}
	s.gen.Store(g)
	s.baseCtx, s.cancelBase = context.WithCancel(context.Background())
	return s, nil
}

// Pipeline returns the plugins of the current configuration (nil-safe:
// an empty Pipeline when plugins.load names none). Package gibbon uses it
// for its warnings, Describe (gibbon -t) and ReopenLogs (the logger's
// Reopen on SIGUSR1).
func (s *Server) Pipeline() *stage.Pipeline { return s.current().pp.p }

// now is the plugins' clock: the server's coarse clock once Listen has
// started it, else time.Now.
func (s *Server) now() time.Time {
	if c := s.clk.Load(); c != nil {
		return c.Now()
	}
	return time.Now()
}

// cleanup runs the plugins' Cleanup once, after the last request (the
// logger writes what it holds and closes its files): the current
// configuration's, and waits for those of replaced ones. It returns the
// current one's error.
func (s *Server) cleanup() error {
	s.reloadMu.Lock() // a Reload in progress ends first; none starts after
	defer s.reloadMu.Unlock()
	g := s.current()
	s.cleanupOnce.Do(func() { s.release(g) })
	<-g.cleaned
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, old := range s.replaced {
		<-old.cleaned
	}
	s.replaced = nil
	return g.cleanErr
}

// Driver returns the driver in use: DriverEpoll or DriverGoroutine.
func (s *Server) Driver() Driver { return s.driver }

func newSettings(cfg *config.Config, vt *vhost.Table, version string) settings {
	sc := &cfg.Server
	name := "gibbon"
	if version != "" && !sc.HideVersion {
		name += "/" + version
	}
	// The head limit is min(MaxRequestSize, MaxHeadBytes), at least 1 KiB;
	// a target too long for the head is refused with 414 rather than 431.
	head := MaxHeadBytes
	if sc.MaxRequestSize > 0 && sc.MaxRequestSize < int64(head) {
		head = max(int(sc.MaxRequestSize), 1<<10)
	}
	return settings{
		vhosts: vt,
		static: static.Options{
			IndexFiles:      sc.IndexFiles,
			Resume:          sc.Resume,
			SymLink:         sc.SymLink,
			DefaultMimeType: sc.DefaultMimeType,
			Mime:            cfg.Mime,
			UserDir:         sc.UserDir,
		},
		mime:             cfg.Mime,
		defaultMime:      sc.DefaultMimeType,
		serverName:       []byte(name),
		keepAlive:        sc.KeepAlive,
		maxKeepAlive:     sc.MaxKeepAliveRequest,
		timeout:          positive(sc.Timeout, config.DefaultTimeout),
		keepAliveTimeout: positive(sc.KeepAliveTimeout, config.DefaultKeepAliveTimeout),
		maxRequestSize:   sc.MaxRequestSize,
		limits:           http1.Limits{MaxHeaderBytes: head, MaxURI: min(http1.DefaultMaxURI, head-256)},
	}
}

func positive(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// checkDocRoot reports an error unless dir is a directory the process may
// list and search.
func checkDocRoot(dir string) error {
	if dir == "" {
		return errors.New("empty DocumentRoot")
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("DocumentRoot: %w", err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("DocumentRoot %s: not a directory", dir)
	}
	const rOK, xOK = 4, 1
	if err := syscall.Access(dir, rOK|xOK); err != nil {
		return fmt.Errorf("DocumentRoot %s: not readable: %w", dir, err)
	}
	return nil
}

// Listen binds every Listen address of the config and starts the clock. It
// lets a caller drop privileges between binding and serving. On error no
// listener stays open; the error names the address.
func (s *Server) Listen() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.listenLocked()
}

func (s *Server) listenLocked() error {
	if s.shutting.Load() {
		return errors.New("server: shut down")
	}
	if s.listeners != nil || s.eng != nil {
		return nil
	}
	if s.driver == DriverEpoll && s.loopListeners() > 0 {
		if err := s.listenEngine(); err != nil {
			return err
		}
	}
	var lns []net.Listener
	var specs []listenSpec
	for _, l := range s.cfg.Server.Listen {
		if s.eng != nil && loopListener(l) {
			continue
		}
		ln, err := net.Listen("tcp", l.Addr)
		if err != nil {
			for _, ln := range lns {
				ln.Close()
			}
			if s.eng != nil {
				s.eng.Shutdown(context.Background()) // not serving: closes at once
				s.eng, s.loop = nil, nil
			}
			return fmt.Errorf("server: listen %s: %w", l.Addr, err)
		}
		lns = append(lns, ln)
		specs = append(specs, s.listenSpecFor(l))
	}
	s.listeners, s.specs = lns, specs
	if s.clock == nil {
		s.setClock(clock.New())
	}
	return nil
}

// setClock starts using c (s.mu is held).
func (s *Server) setClock(c *clock.Clock) {
	s.clock = c
	s.clk.Store(c)
}

// loopListeners counts the listeners the event loops serve.
func (s *Server) loopListeners() int {
	n := 0
	for _, l := range s.cfg.Server.Listen {
		if loopListener(l) {
			n++
		}
	}
	return n
}

// Addrs returns the bound addresses, in config order, after Listen.
func (s *Server) Addrs() []net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	var loopAddrs []net.Addr
	if s.eng != nil {
		loopAddrs = s.eng.Addrs()
	}
	var addrs []net.Addr
	lns := s.listeners
	for _, l := range s.cfg.Server.Listen {
		switch {
		case s.eng != nil && loopListener(l) && len(loopAddrs) > 0:
			addrs, loopAddrs = append(addrs, loopAddrs[0]), loopAddrs[1:]
		case !(s.eng != nil && loopListener(l)) && len(lns) > 0:
			addrs, lns = append(addrs, lns[0].Addr()), lns[1:]
		}
	}
	return addrs
}

// Serve accepts connections on every listener (calling Listen first if
// needed) and serves each on its own goroutine. It blocks until Shutdown,
// then returns nil, or until a listener fails, then it closes the other
// listeners and returns the error. Serve may be called once.
func (s *Server) Serve() error {
	s.mu.Lock()
	if s.shutting.Load() {
		s.mu.Unlock()
		return nil
	}
	if s.serving {
		s.mu.Unlock()
		return ErrServerStarted
	}
	if err := s.listenLocked(); err != nil {
		s.mu.Unlock()
		return err
	}
	s.serving, s.servingSince = true, time.Now()
	lns, specs := s.listeners, s.specs
	e, l := s.eng, s.loop
	s.mu.Unlock()
	workers := 1
	if l != nil {
		workers = len(l.workers)
	}
	if err := s.initWorkers(workers); err != nil {
		return err
	}

	for _, ln := range lns {
		s.log.Info("listening", "addr", ln.Addr().String(), "driver", DriverGoroutine.String())
	}
	errs := make(chan error, len(lns)+1)
	for i, ln := range lns {
		go func() { errs <- s.acceptLoop(ln, specs[i]) }()
	}
	n := len(lns)
	if e != nil {
		n++
		go func() { errs <- s.serveEngine(e, l) }()
	}
	var first error
	for range n {
		if err := <-errs; err != nil && first == nil {
			first = err
			s.closeListeners()
			if e != nil {
				go e.Shutdown(context.Background())
			}
		}
	}
	if s.shutting.Load() {
		return nil
	}
	return first
}

// initWorkers runs the plugins' thread-context hook for each of n workers
// before any serves (connections of the goroutine driver report worker 0).
func (s *Server) initWorkers(n int) error {
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	s.initialized = n
	return s.initGeneration(s.current())
}

// acceptLoop accepts connections on ln until it is closed and serves
// each as spec says.
func (s *Server) acceptLoop(ln net.Listener, spec listenSpec) error {
	var backoff time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			if s.shutting.Load() {
				return nil
			}
			if !retryAccept(err) {
				return fmt.Errorf("server: accept on %s: %w", ln.Addr(), err)
			}
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			s.log.Warn("accept failed; retrying", "addr", ln.Addr().String(), "err", err, "retry_in", backoff)
			time.Sleep(backoff)
			continue
		}
		backoff = 0
		c := newConn(s, nc)
		if spec.tls != nil {
			c.nc = newTLSConn(nc, spec.tls)
		}
		if !s.track(c) {
			nc.Close()
			continue
		}
		s.stats.accepted.Add(1)
		go c.begin(spec)
	}
}

// begin runs stage 10 for a new connection, then serves it as spec
// says: TLS (HTTP/2 or HTTP/1.x by ALPN), h2c, or HTTP/1.x.
func (c *conn) begin(spec listenSpec) {
	if !c.openStages() {
		c.close()
		return
	}
	switch {
	case spec.tls != nil:
		c.serveTLS(c.nc.(*tlsConn))
	case spec.h2c:
		c.serveH2C()
	default:
		c.serve()
	}
}

// retryAccept reports whether an Accept error is transient: out of file
// descriptors or memory, or a connection aborted before it was accepted.
func retryAccept(err error) bool {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	for _, e := range []error{syscall.EMFILE, syscall.ENFILE, syscall.ENOBUFS, syscall.ENOMEM, syscall.ECONNABORTED, syscall.EINTR} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// track adds c to the connection set; false once Shutdown has begun.
func (s *Server) track(c *conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.shutting.Load() {
		return false
	}
	s.conns[c] = struct{}{}
	return true
}

// untrack removes c from the connection set.
func (s *Server) untrack(c *conn) {
	s.stats.closed.Add(1)
	forget(s, s.conns, c)
}

// forget removes k from m, the connection set or the hijacked set (both
// made once by New and guarded by s.mu), and ends Shutdown's wait when
// neither holds anything more.
func forget[K comparable](s *Server, m map[K]struct{}, k K) {
	s.mu.Lock()
	delete(m, k)
	done := s.drainedLocked()
	s.mu.Unlock()
	if done {
		s.markDrained()
	}
}

// drainedLocked reports whether Shutdown has begun and has no connection
// left to wait for (s.mu is held).
func (s *Server) drainedLocked() bool {
	return s.shutting.Load() && len(s.conns) == 0 && len(s.hijacked) == 0
}

// markDrained ends Shutdown's wait for the connections.
func (s *Server) markDrained() { s.drainOnce.Do(func() { close(s.drained) }) }

func (s *Server) closeListeners() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ln := range s.listeners {
		ln.Close()
	}
}

// Shutdown stops the server gracefully: it closes the listeners and every
// connection waiting for a request, lets in-flight requests finish (each
// answered with "Connection: close"), has each hijacked connection
// registered with its [stage.HijackRegistry] go away (a parked WebSocket gets a
// close frame 1001), and returns once all connections are closed; then it
// runs the plugins' Cleanup (also for a server that never
// served: call Shutdown after a successful New). When ctx ends first (or, if ctx has no deadline, after
// Options.Grace) it closes the remaining connections and returns ctx's
// error (context.DeadlineExceeded for the grace period). Calling Shutdown
// more than once is safe.
func (s *Server) Shutdown(ctx context.Context) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.opts.Grace)
		defer cancel()
	}
	s.mu.Lock()
	s.shutting.Store(true)
	s.stopOnce.Do(func() { close(s.stopping) })
	engDone := s.shutdownEngine(ctx)
	for _, ln := range s.listeners {
		ln.Close()
	}
	for c := range s.conns {
		c.closeIfIdle()
	}
	s.goAwayHijackedLocked()
	done := s.drainedLocked()
	s.mu.Unlock()
	if done {
		s.markDrained()
	}

	var err error
	select {
	case <-s.drained:
	case <-ctx.Done():
		err = ctx.Err()
		s.cancelBase()
		s.mu.Lock()
		for c := range s.conns {
			c.forceClose()
		}
		s.closeHijackedLocked()
		done := s.drainedLocked()
		s.mu.Unlock()
		if done {
			s.markDrained()
		}
		<-s.drained
	}
	if e := <-engDone; e != nil && err == nil {
		err = e
	}
	s.files.Close()
	s.cancelBase()
	if e := s.cleanup(); e != nil && err == nil {
		err = fmt.Errorf("server: plugins: %w", e)
	}
	s.mu.Lock()
	if s.clock != nil {
		s.clock.Stop()
	}
	s.mu.Unlock()
	return err
}

// draining reports whether Shutdown has begun.
func (s *Server) draining() bool { return s.shutting.Load() }
