package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// Supported reports whether the engine runs on this system (Linux: yes).
func Supported() bool { return true }

// Engine runs the worker loops. Create it with [New], bind with Listen,
// run with Serve, stop with Shutdown. Listen, Serve, Shutdown, Addrs and
// Stats are safe for concurrent use.
type Engine struct {
	cfg       Config
	capacity  int64
	proto     Protocol
	onHandoff func(Detached)
	log       *slog.Logger
	epoch     time.Time
	workers   []*worker

	mu        sync.Mutex // guards the fields below
	listeners []listenerSet
	acceptor  *acceptor // fair mode, once serving
	serving   bool
	closed    bool

	draining   atomic.Bool   // Shutdown has begun
	force      atomic.Bool   // Shutdown's context ended: close everything
	acceptDone atomic.Bool   // no more connections will reach an inbox
	done       chan struct{} // closed when Serve's loops have all returned
}

// listenerSet is one Listen address: one socket per worker in reuseport
// mode, a single socket in fair mode.
type listenerSet struct {
	addr net.Addr
	fds  []int
}

// New creates an engine: it raises RLIMIT_NOFILE to its hard limit and
// prepares the workers' epoll instances. onHandoff receives connections
// whose protocol returns Handoff, each in a new goroutine; if it is nil a
// Handoff closes the connection instead. Release the engine with Shutdown,
// even if Serve is never called.
func New(cfg Config, p Protocol, onHandoff func(Detached)) (*Engine, error) {
	if p == nil {
		return nil, errors.New("engine: nil Protocol")
	}
	cfg.normalize(runtime.NumCPU())
	nofile := raiseNofile()
	if cfg.Capacity <= 0 {
		cfg.Capacity = capacityFor(nofile, cfg.Workers)
	}
	e := &Engine{
		cfg:       cfg,
		capacity:  int64(cfg.Capacity),
		proto:     p,
		onHandoff: onHandoff,
		log:       cfg.Logger,
		epoch:     time.Now(),
		done:      make(chan struct{}),
	}
	for i := range cfg.Workers {
		w, err := newWorker(e, i)
		if err != nil {
			e.releaseWorkers()
			return nil, fmt.Errorf("engine: worker %d: %w", i, err)
		}
		e.workers = append(e.workers, w)
	}
	return e, nil
}

// Config returns the configuration in effect, defaults filled in.
func (e *Engine) Config() Config {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.cfg
}

// Listen binds the addresses ("host:port"; port 0 picks a free port) before
// Serve, so the caller can drop privileges afterwards. In reuseport mode
// every worker gets its own socket per address, all on the same port. If
// the kernel refuses SO_REUSEPORT the engine falls back to fair mode.
// Listen may be called more than once; on error nothing from that call
// stays bound.
func (e *Engine) Listen(addrs ...string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return ErrServerClosed
	}
	if e.serving {
		return errors.New("engine: Listen after Serve")
	}
	var added []listenerSet
	for _, a := range addrs {
		ls, err := e.listenOne(a)
		if err != nil {
			for _, l := range added {
				l.close()
			}
			return fmt.Errorf("engine: listen %s: %w", a, err)
		}
		added = append(added, ls)
	}
	e.listeners = append(e.listeners, added...)
	return nil
}

// listenOne binds one address: once in fair mode, once per worker in
// reuseport mode (the first socket fixes the port when it is 0).
func (e *Engine) listenOne(addr string) (listenerSet, error) {
	ap, wildcard, err := resolveListen(addr)
	if err != nil {
		return listenerSet{}, err
	}
	opt := listenOptions{reuseport: e.cfg.Balancing == Reuseport, deferAccept: e.cfg.DeferAccept}
	first, err := listenTCP(ap, wildcard, opt)
	if err != nil && opt.reuseport && errors.Is(err, unix.ENOPROTOOPT) {
		e.log.Warn("engine: SO_REUSEPORT unavailable, using fair balancing")
		e.cfg.Balancing = Fair
		opt.reuseport = false
		first, err = listenTCP(ap, wildcard, opt)
	}
	if err != nil {
		return listenerSet{}, err
	}
	bound, err := boundAddr(first)
	if err != nil {
		unix.Close(first)
		return listenerSet{}, err
	}
	ls := listenerSet{addr: net.TCPAddrFromAddrPort(bound), fds: []int{first}}
	if !opt.reuseport {
		return ls, nil
	}
	ap = netip.AddrPortFrom(ap.Addr(), bound.Port())
	for range len(e.workers) - 1 {
		fd, err := listenTCP(ap, wildcard, opt)
		if err != nil {
			ls.close()
			return listenerSet{}, err
		}
		ls.fds = append(ls.fds, fd)
	}
	return ls, nil
}

func (ls *listenerSet) close() {
	for i, fd := range ls.fds {
		if fd >= 0 {
			unix.Close(fd)
			ls.fds[i] = -1
		}
	}
}

// Addrs returns the bound address of every Listen address, in order.
func (e *Engine) Addrs() []net.Addr {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]net.Addr, len(e.listeners))
	for i, l := range e.listeners {
		out[i] = l.addr
	}
	return out
}

// Serve runs the worker loops (and, in fair mode, the acceptor) and blocks
// until they have all stopped. It returns nil after Shutdown, ErrServerClosed
// if Shutdown came first, or the error that stopped a loop.
func (e *Engine) Serve() error {
	e.mu.Lock()
	switch {
	case e.closed:
		e.mu.Unlock()
		return ErrServerClosed
	case e.serving:
		e.mu.Unlock()
		return errors.New("engine: Serve called twice")
	case len(e.listeners) == 0:
		e.mu.Unlock()
		return ErrNoListeners
	}
	e.serving = true
	acc, err := e.assignListeners()
	e.mu.Unlock()
	if err != nil {
		e.draining.Store(true)
	}

	var wg sync.WaitGroup
	errs := make([]error, len(e.workers)+1)
	if acc != nil {
		wg.Go(func() { errs[len(e.workers)] = e.stopOnError(acc.run()) })
	}
	for i, w := range e.workers {
		wg.Go(func() { errs[i] = e.stopOnError(w.run()) })
	}
	wg.Wait()
	close(e.done)
	return errors.Join(append(errs, err)...)
}

// stopOnError stops the whole engine at once when a loop fails (epoll
// itself broke), so that Serve returns the error.
func (e *Engine) stopOnError(err error) error {
	if err != nil {
		e.log.Error("engine: loop failed", slog.Any("err", err))
		e.draining.Store(true)
		e.force.Store(true)
		e.wakeAll()
	}
	return err
}

// assignListeners gives each worker its sockets (reuseport) or builds the
// acceptor (fair). The engine's lock is held.
func (e *Engine) assignListeners() (*acceptor, error) {
	if e.cfg.Balancing == Reuseport {
		e.acceptDone.Store(true)
		for _, w := range e.workers {
			for _, ls := range e.listeners {
				w.listeners = append(w.listeners, ls.fds[w.id])
			}
		}
		return nil, nil
	}
	var fds []int
	for i := range e.listeners {
		ls := &e.listeners[i]
		fds = append(fds, ls.fds[0])
		for _, fd := range ls.fds[1:] { // bound before a fallback to fair
			unix.Close(fd)
		}
		ls.fds = ls.fds[:1]
	}
	acc, err := newAcceptor(e, fds)
	if err != nil {
		e.acceptDone.Store(true)
		return nil, err
	}
	e.acceptor = acc
	return acc, nil
}

// Shutdown stops the engine gracefully: listeners close, idle connections
// close, connections with a request in progress or output queued go on
// until they are idle. When ctx ends first, every remaining connection is
// closed (OnClose gets ErrShutdown) and ctx's error is returned. Handed-off
// connections are not tracked: their goroutines belong to the caller.
func (e *Engine) Shutdown(ctx context.Context) error {
	e.mu.Lock()
	serving, first := e.serving, !e.closed
	e.closed = true
	if !serving && first {
		for i := range e.listeners {
			e.listeners[i].close()
		}
		e.releaseWorkers()
		close(e.done)
	}
	e.mu.Unlock()
	if !serving {
		return nil
	}
	e.draining.Store(true)
	e.wakeAll()
	select {
	case <-e.done:
		return nil
	case <-ctx.Done():
	}
	e.force.Store(true)
	e.wakeAll()
	<-e.done
	return ctx.Err()
}

func (e *Engine) wakeAll() {
	for _, w := range e.workers {
		w.poll.wake()
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.acceptor != nil {
		e.acceptor.poll.wake()
	}
}

// releaseWorkers frees the resources of workers that never ran.
func (e *Engine) releaseWorkers() {
	for _, w := range e.workers {
		w.teardown()
	}
}

// Stats returns a snapshot of every worker's counters.
func (e *Engine) Stats() []WorkerStats {
	out := make([]WorkerStats, len(e.workers))
	for i, w := range e.workers {
		out[i] = w.stats.snapshot(i)
	}
	return out
}

// sinceEpoch is the time on the engine's monotonic clock.
func (e *Engine) sinceEpoch() time.Duration { return time.Since(e.epoch) }

// now is the current tick of the engine's clock.
func (e *Engine) now() int64 { return int64(time.Since(e.epoch) / tick) }

// Each calls fn once for each worker, on that worker's loop between two
// Protocol calls, and returns once every call has returned. After Each no
// loop is still in a Protocol call that began before it: a value the
// Protocol stopped using for new calls before Each (a configuration
// swapped out) is no longer used by any loop, as after RCU's synchronize.
// Before Serve, fn runs on the caller's goroutine for each worker (no loop
// runs yet); a loop that has stopped drops its call. fn must not block.
// Each is safe for concurrent use.
func (e *Engine) Each(fn func(worker int)) {
	e.onLoops(func(w *worker) { fn(w.id) })
}

// SetTimeouts changes the read, idle and write timeouts (as
// Config.ReadTimeout, IdleTimeout and WriteTimeout say) of the timers
// armed from now on; a timer armed before keeps its deadline.
func (e *Engine) SetTimeouts(read, idle, write time.Duration) {
	e.mu.Lock()
	e.cfg.ReadTimeout, e.cfg.IdleTimeout, e.cfg.WriteTimeout = read, idle, write
	e.cfg.normalize(runtime.NumCPU())
	cfg := e.cfg
	e.mu.Unlock()
	e.onLoops(func(w *worker) { w.setTimeouts(&cfg) })
}

// onLoops runs fn for every worker on its loop, through its inbox, and
// waits for the calls (see Each).
func (e *Engine) onLoops(fn func(w *worker)) {
	e.mu.Lock()
	if !e.serving {
		defer e.mu.Unlock() // Serve waits: no loop starts meanwhile
		for _, w := range e.workers {
			fn(w)
		}
		return
	}
	e.mu.Unlock()
	var wg sync.WaitGroup
	for _, w := range e.workers {
		wg.Add(1)
		it := inboxItem{fd: -1, run: func(w *worker) { fn(w); wg.Done() }}
		for !w.inbox.push(it) { // full of connections (fair mode): the loop is taking them
			select {
			case <-e.done:
				return
			case <-time.After(time.Millisecond):
			}
		}
		w.poll.wake()
	}
	ran := make(chan struct{})
	go func() { wg.Wait(); close(ran) }()
	select {
	case <-ran:
	case <-e.done: // the loops stopped: no call is running or will be
	}
}
