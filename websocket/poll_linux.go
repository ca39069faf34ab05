package websocket

import (
	"errors"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// watch is a parked connection's registration in the poller: its slot
// and the slot's generation (the epoll token), and the socket's raw
// connection.
type watch struct {
	rc         syscall.RawConn
	slot, gen  uint32
	registered bool
}

// poller is the process's epoll set for parked connections, with one
// goroutine blocked in epoll_wait. A connection is watched one-shot: an
// event disarms it until it parks again, so one event starts at most one
// goroutine. Events carry a slot and generation, never a pointer; an event
// for a slot freed since is dropped.
type poller struct {
	epfd int

	mu    sync.Mutex
	conns []*Conn  // by slot; nil when free
	gens  []uint32 // by slot, bumped when the slot is freed
	free  []uint32
}

var (
	pollerOnce sync.Once
	thePoller  *poller // nil if the epoll set could not be made
)

// getPoller returns the poller, starting it on first use.
func getPoller() *poller {
	pollerOnce.Do(func() {
		epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
		if err != nil {
			return
		}
		thePoller = &poller{epfd: epfd}
		go thePoller.run()
	})
	return thePoller
}

// run waits for events and wakes their connections, for the life of the
// process.
func (p *poller) run() {
	events := make([]unix.EpollEvent, 128)
	for {
		n, err := unix.EpollWait(p.epfd, events, -1)
		if err != nil {
			if errors.Is(err, unix.EINTR) {
				continue
			}
			return
		}
		for _, ev := range events[:n] {
			if c := p.lookup(uint32(ev.Fd), uint32(ev.Pad)); c != nil {
				c.wake()
			}
		}
	}
}

func (p *poller) lookup(slot, gen uint32) *Conn {
	p.mu.Lock()
	defer p.mu.Unlock()
	if int(slot) < len(p.conns) && p.gens[slot] == gen {
		return p.conns[slot]
	}
	return nil
}

// alloc gives c a slot.
func (p *poller) alloc(c *Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if n := len(p.free); n > 0 {
		c.watch.slot = p.free[n-1]
		p.free = p.free[:n-1]
	} else {
		c.watch.slot = uint32(len(p.conns))
		p.conns = append(p.conns, nil)
		p.gens = append(p.gens, 0)
	}
	p.conns[c.watch.slot] = c
	c.watch.gen = p.gens[c.watch.slot]
}

// release frees c's slot; later events for it are dropped.
func (p *poller) release(c *Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := c.watch.slot
	p.conns[s] = nil
	p.gens[s]++
	p.free = append(p.free, s)
}

// watchInput arms the one-shot watch for input (or the peer's hang-up) on
// c's socket and reports whether it could.
func (c *Conn) watchInput() bool {
	p := getPoller()
	if p == nil {
		return false
	}
	w := &c.watch
	if w.rc == nil {
		sc, ok := c.nc.(syscall.Conn)
		if !ok {
			return false
		}
		rc, err := sc.SyscallConn()
		if err != nil {
			return false
		}
		w.rc = rc
	}
	op := unix.EPOLL_CTL_MOD
	if !w.registered {
		p.alloc(c)
		op = unix.EPOLL_CTL_ADD
	}
	ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLRDHUP | unix.EPOLLONESHOT, Fd: int32(w.slot), Pad: int32(w.gen)}
	var cerr error
	// Control keeps the descriptor open during the call, so it is never a
	// number reused by another file.
	err := w.rc.Control(func(fd uintptr) { cerr = unix.EpollCtl(p.epfd, op, int(fd), &ev) })
	if err == nil {
		err = cerr
	}
	if err != nil {
		if !w.registered {
			p.release(c)
		}
		return false
	}
	w.registered = true
	return true
}

// unwatchInput frees c's slot. The socket is closed: closing it took it
// out of the epoll set.
func (c *Conn) unwatchInput() {
	if c.watch.registered {
		thePoller.release(c)
		c.watch.registered = false
	}
}
