package engine

import (
	"log/slog"
	"net"
	"os"
)

// handoff moves c off the loop: its output has been flushed; its socket
// leaves the epoll set and becomes a *net.TCPConn on Go's poller (a
// duplicate descriptor; the loop's own is closed), and the hand-off
// callback runs in a new goroutine with the unconsumed input and the
// protocol's context. OnClose is not called for c: the callback owns the
// connection from here on.
func (w *worker) handoff(c *Conn) {
	w.wheel.stop(c)
	if err := w.poll.remove(c.fd); err != nil {
		w.closeConn(c, err)
		return
	}
	f := os.NewFile(uintptr(c.fd), "")
	nc, err := net.FileConn(f) // dups the descriptor
	f.Close()
	c.fd = -1
	if err != nil {
		w.e.log.Warn("engine: hand-off", slog.Int("worker", w.id), slog.Any("err", err))
		w.proto.OnClose(c, err)
		w.free(c)
		w.stats.closed.Add(1)
		return
	}
	h := Detached{
		Conn:     nc,
		Buffered: append([]byte(nil), c.in...),
		Context:  c.ctx,
		Tag:      c.tag,
		ID:       c.id,
		Worker:   w.id,
	}
	w.stats.handedOff.Add(1)
	w.free(c)
	go w.e.onHandoff(h)
}
