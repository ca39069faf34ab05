package engine

import (
	"golang.org/x/sys/unix"
)

// startLinger begins the lingering close of c, whose protocol returned
// Close with input unread and whose output is all sent: the write side is
// shut down (the peer sees the end of the response), and input is read and
// dropped until the peer closes, LingerMax bytes have come or LingerTimeout
// has passed. Then c closes as the protocol asked (OnClose gets nil).
// Without this, closing a socket with unread input sends a reset, which
// can destroy the response before the peer has read it.
func (w *worker) startLinger(c *Conn) {
	c.linger = false
	if unix.Shutdown(c.fd, unix.SHUT_WR) != nil {
		w.closeConn(c, nil)
		return
	}
	if c.blocked {
		if w.poll.modify(c.fd, unix.EPOLLIN, int32(c.slot), int32(c.gen)) != nil {
			w.closeConn(c, nil)
			return
		}
		c.blocked = false
	}
	c.state = stateLingering
	c.drop = LingerMax
	w.arm(c, timeoutLinger)
}

// dropInput reads and drops a lingering connection's input, and closes it
// at the end of input, on an error or once LingerMax bytes are dropped.
func (w *worker) dropInput(c *Conn) {
	for {
		n, err := unix.Read(c.fd, w.scratch)
		switch {
		case err == unix.EAGAIN:
			return
		case err != nil || n == 0:
			w.closeConn(c, nil)
			return
		}
		if c.drop -= int32(n); c.drop <= 0 {
			w.closeConn(c, nil)
			return
		}
	}
}
