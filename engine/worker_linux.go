package engine

import (
	"errors"
	"log/slog"
	"net/netip"
	"runtime"
	"time"

	"golang.org/x/sys/unix"
)

// worker is one event loop: a goroutine locked to an OS thread with its own
// epoll instance, connections, buffers and timers. Everything but the
// fields marked otherwise is owned by the loop goroutine.
type worker struct {
	e     *Engine
	id    int
	proto Protocol

	// shared with other goroutines
	poll  *poller     // wake() from any goroutine
	inbox *inbox      // fair mode: pushed by the acceptor
	stats workerStats // atomics

	// owned by the loop
	listeners []int // reuseport mode: this worker's sockets, by address index
	conns     slotTable
	wheel     wheel
	pools     pools
	scratch   []byte   // every read lands here first
	iov       [][]byte // writev scratch
	spare     spareFD
	abuf      acceptBuf
	seq       uint64 // connection counter, for IDs
	ticks     [timeoutLinger + 1]int64
	draining  bool
}

const inboxSize = 4096

func newWorker(e *Engine, id int) (*worker, error) {
	p, err := newPoller()
	if err != nil {
		return nil, err
	}
	w := &worker{
		e:       e,
		id:      id,
		proto:   e.proto,
		poll:    p,
		inbox:   newInbox(inboxSize),
		scratch: make([]byte, 2*MaxInput),
		iov:     make([][]byte, 0, maxIov),
		spare:   openSpare(),
	}
	w.setTimeouts(&e.cfg)
	w.ticks[timeoutLinger] = ticksFor(LingerTimeout)
	return w, nil
}

// setTimeouts takes cfg's timeouts for the timers armed from now on.
func (w *worker) setTimeouts(cfg *Config) {
	w.ticks[TimeoutRead] = timerTicks(cfg.ReadTimeout)
	w.ticks[TimeoutIdle] = timerTicks(cfg.IdleTimeout)
	w.ticks[TimeoutWrite] = timerTicks(cfg.WriteTimeout)
}

// timerTicks converts a configured timeout; 0 means no timer.
func timerTicks(d time.Duration) int64 {
	if d < 0 {
		return 0
	}
	return ticksFor(d)
}

// run is the loop: wait → expire timers → dispatch events → check for
// shutdown. It returns nil once shut down, or the error of a failed wait.
func (w *worker) run() error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	defer w.teardown()
	if err := w.watchListeners(); err != nil {
		return err
	}
	w.wheel.now = w.e.now()
	for {
		n, err := w.poll.wait(w.wheel.waitMillis(w.e.sinceEpoch()))
		if err != nil {
			return err
		}
		w.expireTimers()
		w.dispatch(n)
		if w.e.draining.Load() && w.drain() {
			return nil
		}
	}
}

func (w *worker) watchListeners() error {
	for i, fd := range w.listeners {
		if err := w.poll.add(fd, unix.EPOLLIN, int32(tokenListener0-i), 0); err != nil {
			return err
		}
	}
	return nil
}

// dispatch handles the first n events of the last wait.
func (w *worker) dispatch(n int) {
	for i := range n {
		ev := &w.poll.events[i]
		switch {
		case ev.Fd >= 0:
			w.onConnEvent(uint32(ev.Fd), uint32(ev.Pad))
		case ev.Fd == tokenWake:
			w.onWake()
		default:
			if i := int(tokenListener0 - ev.Fd); i < len(w.listeners) {
				w.acceptFrom(w.listeners[i])
			}
		}
	}
}

// onConnEvent routes a connection's event. An event whose generation no
// longer matches its slot belongs to a connection closed earlier in this
// batch and is dropped.
func (w *worker) onConnEvent(slot, gen uint32) {
	c := w.conns.lookup(slot, gen)
	if c == nil {
		return
	}
	switch {
	case c.state == stateLingering:
		w.dropInput(c)
	case c.blocked:
		w.onWritable(c)
	default:
		w.onReadable(c)
	}
}

// onWake takes new connections (fair mode) and calls ([Engine.Each]) from
// the inbox; Shutdown's wake-up is seen by run after dispatch.
func (w *worker) onWake() {
	w.poll.ackWake()
	for {
		it, ok := w.inbox.pop()
		if !ok {
			return
		}
		if it.run != nil {
			it.run(w)
			continue
		}
		if w.draining {
			unix.Close(it.fd)
			w.stats.active.Add(-1)
			continue
		}
		w.open(it.fd, it.raddr)
	}
}

// acceptFrom accepts up to acceptBatch connections from this worker's
// listener (reuseport mode).
func (w *worker) acceptFrom(lfd int) {
	for range acceptBatch {
		fd, raddr, err := w.abuf.accept(lfd)
		if err != nil {
			if !w.acceptFailed(lfd, err) {
				return
			}
			continue
		}
		if w.stats.active.Load() >= w.e.capacity {
			unix.Close(fd)
			w.stats.rejected.Add(1)
			continue
		}
		w.stats.active.Add(1)
		w.open(fd, raddr)
	}
}

// acceptFailed handles an accept error and reports whether to go on.
func (w *worker) acceptFailed(lfd int, err error) bool {
	if errors.Is(err, unix.EAGAIN) {
		return false
	}
	switch classifyAcceptErr(err) {
	case acceptRetry:
		return true
	case acceptShed:
		if w.spare.shed(lfd) {
			w.stats.rejected.Add(1)
		}
		return false
	}
	w.e.log.Error("engine: accept", slog.Int("worker", w.id), slog.Any("err", err))
	return false
}

// open starts a connection the loop now owns: it is counted in active
// already. It allocates nothing once the slab has a free Conn.
func (w *worker) open(fd int, raddr netip.AddrPort) {
	c := w.conns.alloc(w)
	w.seq++
	c.fd, c.raddr, c.fresh, c.opened = fd, raddr, true, w.wheel.now
	c.id = w.seq*uint64(len(w.e.workers)) + uint64(w.id)
	w.stats.accepted.Add(1)
	if err := w.poll.add(fd, unix.EPOLLIN, int32(c.slot), int32(c.gen)); err != nil || !w.proto.OnOpen(c) {
		unix.Close(fd)
		w.free(c)
		w.stats.closed.Add(1)
		return
	}
	w.settle(c)
}

// closeConn closes c's socket, tells the protocol, and recycles c.
func (w *worker) closeConn(c *Conn, err error) {
	w.wheel.stop(c)
	unix.Close(c.fd) // also leaves the epoll set
	c.fd = -1
	w.proto.OnClose(c, err)
	w.free(c)
	w.stats.closed.Add(1)
}

// free returns c's buffers to the pools and c to the slab; c no longer
// counts as active.
func (w *worker) free(c *Conn) {
	w.wheel.stop(c)
	if c.out != nil {
		w.pools.putOutput(c.out)
		c.out = nil
	}
	w.pools.keepInput(c, nil)
	c.ctx, c.tag = nil, 0
	c.blocked, c.wantRead, c.fresh, c.linger = false, false, false, false
	c.raddr = netip.AddrPort{}
	w.conns.release(c)
	w.stats.active.Add(-1)
}

// expireTimers closes the connections whose timer has fired.
func (w *worker) expireTimers() {
	c := w.wheel.advance(w.e.now())
	for c != nil {
		next := c.timer.next
		c.timer.next = nil
		if c.timer.kind == timeoutLinger {
			w.closeConn(c, nil) // the protocol's Close, done lingering
		} else {
			w.stats.timeouts.Add(1)
			w.closeConn(c, timeoutErrors[c.timer.kind])
		}
		c = next
	}
}

// arm sets c's timer of kind k (no timer if that timeout is disabled).
func (w *worker) arm(c *Conn, k TimeoutKind) {
	if t := w.ticks[k]; t > 0 {
		w.wheel.schedule(c, k, t)
	} else {
		w.wheel.stop(c)
	}
}

// drain runs while shutting down; it reports whether the loop may stop.
func (w *worker) drain() bool {
	if !w.draining {
		w.draining = true
		w.closeListeners()
		w.closeWhere(func(c *Conn) bool { return c.idle() || c.fresh })
	}
	if w.e.force.Load() {
		w.closeWhere(func(*Conn) bool { return true })
	}
	if !w.e.acceptDone.Load() {
		return false
	}
	w.onWake() // close what is left in the inbox
	return w.conns.live() == 0
}

// closeWhere closes, with ErrShutdown, the open connections that match.
func (w *worker) closeWhere(match func(*Conn) bool) {
	for _, c := range w.conns.conns {
		if c.state != stateFree && match(c) {
			w.closeConn(c, ErrShutdown)
		}
	}
}

func (w *worker) closeListeners() {
	for i, fd := range w.listeners {
		w.poll.remove(fd)
		unix.Close(fd)
		w.listeners[i] = -1
	}
	w.listeners = nil
}

// teardown releases the loop's descriptors. It runs on the loop as it
// exits, or from Shutdown when the loop never ran.
func (w *worker) teardown() {
	w.closeListeners()
	for {
		it, ok := w.inbox.pop()
		if !ok {
			break
		}
		unix.Close(it.fd)
	}
	w.spare.close()
	w.poll.close()
}
