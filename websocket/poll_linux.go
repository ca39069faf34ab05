package websocket

import (
	"errors"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// watch is a parked connection's registration in the poller: its slot
// and the slot's generation (the epoll token), and the socket's raw
// connection (nil until registered).
type watch struct {
	rc        syscall.RawConn
	slot, gen uint32
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

// registerInput adds c's socket to the poller, disarmed, unless it is
// there already, and reports whether c can be watched. It runs while c is
// not waiting: no event can come and no other goroutine touches c.watch.
func (c *Conn) registerInput() bool {
	w := &c.watch
	if w.rc != nil {
		return true
	}
	p := getPoller()
	if p == nil {
		return false
	}
	sc, ok := c.nc.(syscall.Conn)
	if !ok {
		return false
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	p.alloc(c)
	// EPOLLONESHOT alone: registered but disarmed, no event at all.
	if err := c.control(rc, unix.EPOLL_CTL_ADD, unix.EPOLLONESHOT); err != nil {
		p.release(c)
		return false
	}
	w.rc = rc
	return true
}

// armInput arms the one-shot watch for input (or the peer's hang-up) on
// c's registered socket and reports whether it could. From the moment it
// succeeds an event may start a goroutine for c: it touches no field of c.
func (c *Conn) armInput() bool {
	return c.control(c.watch.rc, unix.EPOLL_CTL_MOD, unix.EPOLLIN|unix.EPOLLRDHUP|unix.EPOLLONESHOT) == nil
}

// control changes c's registration in the poller's epoll set.
func (c *Conn) control(rc syscall.RawConn, op int, events uint32) error {
	ev := unix.EpollEvent{Events: events, Fd: int32(c.watch.slot), Pad: int32(c.watch.gen)}
	var cerr error
	// Control keeps the descriptor open during the call, so it is never a
	// number reused by another file.
	err := rc.Control(func(fd uintptr) { cerr = unix.EpollCtl(thePoller.epfd, op, int(fd), &ev) })
	if err != nil {
		return err
	}
	return cerr
}

// unwatchInput frees c's slot, once, when c ends. The socket is closed:
// closing it took it out of the epoll set. c.watch is left as it is: a
// park that Close interrupted may still be reading it in armInput.
func (c *Conn) unwatchInput() {
	if c.watch.rc != nil {
		thePoller.release(c)
	}
}
