package proxy

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"syscall"
	"time"

	"gibbon/http1"
	"gibbon/internal/connx"
)

// upConn is one connection to a server with its read buffer: buf[r:w]
// are bytes read and not yet consumed.
type upConn struct {
	net.Conn
	buf    []byte
	r, w   int
	idleAt time.Time
	resp   http1.Response
	dec    http1.ChunkedDecoder

	rc   syscall.RawConn    // nil when Conn has no descriptor
	step func(uintptr) bool // c.rawStep, bound once

	// The exchange in progress; owned by the handler goroutine.
	ctx     context.Context // the request's
	stop    func() bool     // ends the watch on ctx; nil while not watched
	watched bool            // ctx is watched (or has nothing to watch)
	soft    time.Time       // from when reads start the watch
	dl      time.Time       // the read deadline set (read sets one, nothing clears it)
	unsent  []byte          // a request head the next read writes first
	into    []byte          // rawStep's read buffer
	got     int             // what rawStep read
	err     error           // rawStep's failure

	dmu      sync.Mutex // orders deadline changes against cancel
	canceled bool       // the request context ended: deadlines stay in the past
}

// newUpConn wraps a new connection to a server.
func newUpConn(nc net.Conn) *upConn {
	c := &upConn{Conn: nc, buf: make([]byte, upBufSize)}
	if sc, ok := nc.(syscall.Conn); ok {
		if rc, err := sc.SyscallConn(); err == nil {
			c.rc = rc
			c.step = c.rawStep
		}
	}
	return c
}

// watchAfter is how long after its start an exchange with a server
// begins to watch the request's context: a read that waits past
// watchAfter to 2×watchAfter (so that one read deadline serves the
// exchanges of a busy connection for watchAfter) wakes up and starts the
// watch. Watching costs a few microseconds (the server starts a
// background read of the client connection for the context's Done),
// which most exchanges end too soon to need: a client that goes away is
// noticed after at most 2×watchAfter.
const watchAfter = 10 * time.Millisecond

// begin starts an exchange, at now, of the request whose context is ctx
// on c.
func (c *upConn) begin(ctx context.Context, now time.Time) {
	c.ctx, c.stop, c.watched, c.unsent = ctx, nil, false, nil
	c.soft = now.Add(watchAfter)
}

// watch makes the end of the request context wake every Read and Write on
// c (see cancel) from now on.
func (c *upConn) watch() {
	if c.watched {
		return
	}
	c.watched = true
	if c.ctx.Done() != nil {
		c.stop = context.AfterFunc(c.ctx, c.cancel)
	}
}

// end ends the exchange and stops the watch. It reports whether c may be
// reused (the context did not end meanwhile). A read deadline read set
// stays: whoever reads next without read sets or clears it first.
func (c *upConn) end() bool {
	stop := c.stop
	c.ctx, c.stop, c.unsent = nil, nil, nil
	return stop == nil || stop()
}

// alive tells whether the idle c is still open (see connx.Alive).
func (c *upConn) alive() bool {
	c.clearReadDeadline()
	return connx.Alive(c.Conn)
}

// clearReadDeadline clears a read deadline left by read.
func (c *upConn) clearReadDeadline() {
	if !c.dl.IsZero() {
		c.dl = time.Time{}
		c.setReadDeadline(c.dl)
	}
}

// sendWithRead makes the next read write head first (a request without a
// body); see read.
func (c *upConn) sendWithRead(head []byte) error {
	if c.rc == nil {
		_, err := c.Write(head)
		return err
	}
	c.unsent = head
	return nil
}

// read reads from c within the deadline hard (zero: none). Until the
// request context is watched, a read that would wait past the soft
// deadline (see watchAfter) wakes up then, starts the watch and goes on.
// A head left by sendWithRead is written first, and the answer is then
// waited for before it is read: Go's Read would try at once and fail
// (EAGAIN) first. Reads before the response head of a request with a body
// do not come here: the copier sets the deadlines then.
func (c *upConn) read(p []byte, hard time.Time) (int, error) {
	for {
		dl := c.deadline(hard)
		if !dl.Equal(c.dl) {
			c.dl = dl
			c.setReadDeadline(dl)
		}
		var n int
		var err error
		if c.unsent != nil {
			n, err = c.writeRead(p)
		} else {
			n, err = c.Conn.Read(p)
		}
		if n > 0 || c.watched || dl.Equal(hard) || !errors.Is(err, os.ErrDeadlineExceeded) {
			return n, err
		}
		c.watch()
	}
}

// deadline returns the read deadline for read: hard once the context is
// watched or when hard comes first, else a soft one, the one set when it
// is within the window of watchAfter.
func (c *upConn) deadline(hard time.Time) time.Time {
	if c.watched || !hard.IsZero() && !c.soft.Before(hard) {
		return hard
	}
	end := c.soft.Add(watchAfter)
	if !hard.IsZero() && hard.Before(end) {
		end = hard
	}
	if c.dl.Before(c.soft) || c.dl.After(end) {
		return end
	}
	return c.dl
}

// writeRead writes c.unsent, waits for the answer and reads it into p.
// A head the socket does not take at once is finished by Write.
func (c *upConn) writeRead(p []byte) (int, error) {
	c.into, c.got, c.err = p, 0, nil
	err := c.rc.Read(c.step)
	c.into = nil
	switch {
	case err != nil:
		return 0, err // a deadline, or c was closed
	case c.err != nil:
		c.unsent = nil
		return c.got, c.err
	case c.unsent != nil: // the socket took part of the head
		_, err := c.Write(c.unsent)
		c.unsent = nil
		if err != nil {
			return 0, err
		}
		return c.Conn.Read(p)
	}
	return c.got, nil
}

// rawStep is writeRead's step on the descriptor: write the head (then
// wait), or read; true ends the wait.
func (c *upConn) rawStep(fd uintptr) bool {
	for len(c.unsent) > 0 {
		n, err := syscall.Write(int(fd), c.unsent)
		switch {
		case err == syscall.EINTR:
			continue
		case err == syscall.EAGAIN:
			return true
		case err != nil:
			c.err = os.NewSyscallError("write", err)
			return true
		}
		c.unsent = c.unsent[n:]
		if len(c.unsent) > 0 {
			return true
		}
		c.unsent = nil
		return false // written: wait for the answer
	}
	for {
		n, err := syscall.Read(int(fd), c.into)
		switch {
		case err == syscall.EINTR:
			continue
		case err == syscall.EAGAIN:
			return false
		case err != nil:
			c.err = os.NewSyscallError("read", err)
		case n == 0:
			c.err = io.EOF
		}
		c.got = max(n, 0)
		return true
	}
}

// setReadDeadline sets the read deadline unless the exchange was
// canceled.
func (c *upConn) setReadDeadline(t time.Time) {
	c.dmu.Lock()
	if !c.canceled {
		c.SetReadDeadline(t)
	}
	c.dmu.Unlock()
}

// cancel wakes every Read and Write on c for good.
func (c *upConn) cancel() {
	c.dmu.Lock()
	c.canceled = true
	c.SetDeadline(aLongTimeAgo)
	c.dmu.Unlock()
}
