package engine

import (
	"errors"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// Tokens in the 64-bit user data of an epoll event. A connection's event
// carries its slot in the Fd half and its generation in the Pad half, both
// non-negative; negative Fd values name the loop's own descriptors.
const (
	tokenWake      = -1 // the eventfd
	tokenListener0 = -2 // listener i has token tokenListener0 - i
)

// poller is one epoll instance plus an eventfd that other goroutines use to
// wake its loop. It is the only epoll code in the engine; workers and the
// fair-mode acceptor each own one.
type poller struct {
	epfd   int
	wakefd int
	events []unix.EpollEvent
	// woken is set by the first wake after the loop last drained its wake-ups,
	// so a burst of wake-ups costs one eventfd write.
	woken atomic.Bool

	mu     sync.Mutex // guards closed and the wakefd against close during wake
	closed bool
}

const maxEvents = 256

func newPoller() (*poller, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, err
	}
	wakefd, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		unix.Close(epfd)
		return nil, err
	}
	p := &poller{epfd: epfd, wakefd: wakefd, events: make([]unix.EpollEvent, maxEvents)}
	if err := p.add(wakefd, unix.EPOLLIN, tokenWake, 0); err != nil {
		p.close()
		return nil, err
	}
	return p, nil
}

// add registers fd for events with the token (a, b).
func (p *poller) add(fd int, events uint32, a, b int32) error {
	ev := unix.EpollEvent{Events: events, Fd: a, Pad: b}
	return unix.EpollCtl(p.epfd, unix.EPOLL_CTL_ADD, fd, &ev)
}

// modify changes the events fd is registered for, keeping the token (a, b).
func (p *poller) modify(fd int, events uint32, a, b int32) error {
	ev := unix.EpollEvent{Events: events, Fd: a, Pad: b}
	return unix.EpollCtl(p.epfd, unix.EPOLL_CTL_MOD, fd, &ev)
}

// remove deregisters fd.
func (p *poller) remove(fd int) error {
	return unix.EpollCtl(p.epfd, unix.EPOLL_CTL_DEL, fd, nil)
}

// wait blocks until events arrive or msec passes (-1: no limit) and returns
// how many of p.events are filled. An interrupted wait returns 0.
func (p *poller) wait(msec int) (int, error) {
	n, err := unix.EpollWait(p.epfd, p.events, msec)
	if errors.Is(err, unix.EINTR) {
		return 0, nil
	}
	return n, err
}

// wake makes the loop's wait return. Safe for concurrent use.
func (p *poller) wake() {
	if p.woken.Swap(true) {
		return
	}
	one := [8]byte{1}
	p.mu.Lock()
	if !p.closed {
		unix.Write(p.wakefd, one[:])
	}
	p.mu.Unlock()
}

// ackWake consumes the wake-ups; the loop calls it before it looks at what
// the wakers left for it, so a wake after that point is not lost.
func (p *poller) ackWake() {
	var buf [8]byte
	unix.Read(p.wakefd, buf[:])
	p.woken.Store(false)
}

// close releases the descriptors; later wakes do nothing. Idempotent.
func (p *poller) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	p.closed = true
	unix.Close(p.wakefd)
	unix.Close(p.epfd)
}
