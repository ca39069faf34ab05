package engine

import (
	"errors"
	"log/slog"
	"net/netip"
	"runtime"

	"golang.org/x/sys/unix"
)

// acceptor is fair mode's single accepting loop: it takes every connection
// and gives it to the worker with the fewest active connections through
// that worker's inbox, then wakes the worker.
type acceptor struct {
	e         *Engine
	poll      *poller
	listeners []int
	spare     spareFD
	abuf      acceptBuf
	next      int // where leastLoaded starts scanning
}

func newAcceptor(e *Engine, listeners []int) (*acceptor, error) {
	p, err := newPoller()
	if err != nil {
		return nil, err
	}
	a := &acceptor{e: e, poll: p, listeners: listeners, spare: openSpare()}
	for i, fd := range listeners {
		if err := p.add(fd, unix.EPOLLIN, int32(tokenListener0-i), 0); err != nil {
			a.close()
			return nil, err
		}
	}
	return a, nil
}

// run accepts until Shutdown, then closes the listeners and tells the
// workers that their inboxes will get nothing more.
func (a *acceptor) run() error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	defer func() {
		a.close()
		a.e.acceptDone.Store(true)
		for _, w := range a.e.workers {
			w.poll.wake()
		}
	}()
	for !a.e.draining.Load() {
		n, err := a.poll.wait(-1)
		if err != nil {
			return err
		}
		for i := range n {
			ev := &a.poll.events[i]
			if ev.Fd == tokenWake {
				a.poll.ackWake()
				continue
			}
			a.acceptFrom(a.listeners[tokenListener0-ev.Fd])
		}
	}
	return nil
}

func (a *acceptor) acceptFrom(lfd int) {
	for range acceptBatch {
		fd, raddr, err := a.abuf.accept(lfd)
		if err == nil {
			a.assign(fd, raddr)
			continue
		}
		if errors.Is(err, unix.EAGAIN) {
			return
		}
		switch classifyAcceptErr(err) {
		case acceptRetry:
			continue
		case acceptShed:
			if a.spare.shed(lfd) {
				a.leastLoaded().stats.rejected.Add(1)
			}
			return
		}
		a.e.log.Error("engine: accept", slog.Any("err", err))
		return
	}
}

// assign queues fd on the least loaded worker, or closes it at once when
// that worker is at capacity or its inbox is full.
func (a *acceptor) assign(fd int, raddr netip.AddrPort) {
	w := a.leastLoaded()
	if w.stats.active.Add(1) > a.e.capacity {
		w.stats.active.Add(-1)
		w.stats.rejected.Add(1)
		unix.Close(fd)
		return
	}
	if !w.inbox.push(inboxItem{fd: fd, raddr: raddr}) {
		w.stats.active.Add(-1)
		w.stats.rejected.Add(1)
		unix.Close(fd)
		return
	}
	w.poll.wake()
}

// leastLoaded returns the worker with the fewest active connections (the
// first of equals, scanning from a rotating start so ties spread out).
func (a *acceptor) leastLoaded() *worker {
	ws := a.e.workers
	a.next = (a.next + 1) % len(ws)
	best := ws[a.next]
	bestN := best.stats.active.Load()
	for i := 1; i < len(ws); i++ {
		w := ws[(a.next+i)%len(ws)]
		if n := w.stats.active.Load(); n < bestN {
			best, bestN = w, n
		}
	}
	return best
}

func (a *acceptor) close() {
	for i, fd := range a.listeners {
		if fd >= 0 {
			unix.Close(fd)
			a.listeners[i] = -1
		}
	}
	a.spare.close()
	a.poll.close()
}
