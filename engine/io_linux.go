package engine

import (
	"errors"
	"fmt"
	"io"

	"golang.org/x/sys/unix"
)

// maxIov bounds the buffers of one writev; unix.Writev builds up to 8
// iovecs on the stack.
const maxIov = 8

// maxSendfile bounds one sendfile call.
const maxSendfile = 1 << 30

// errShortWrite marks a write the kernel took only in part: the socket
// buffer is full, so the loop waits for EPOLLOUT instead of trying again.
var errShortWrite = unix.EAGAIN

// onReadable is the read path: read → protocol → keep leftover → settle.
func (w *worker) onReadable(c *Conn) {
	in, err := w.read(c)
	if err != nil {
		if err != unix.EAGAIN {
			w.closeConn(c, err)
		}
		return
	}
	c.fresh = false
	rest, act := w.deliver(c, in)
	switch {
	case act == Close:
		c.linger = len(rest) > 0
		rest = nil
	case act == Continue && len(rest) > MaxInput:
		w.closeConn(c, ErrInputTooLarge)
		return
	}
	w.pools.keepInput(c, rest)
	w.apply(c, act)
}

// read returns c's input: the bytes it kept, then what the socket has, all
// in the worker's scratch buffer. End of input is io.EOF.
func (w *worker) read(c *Conn) ([]byte, error) {
	k := copy(w.scratch, c.in)
	n, err := unix.Read(c.fd, w.scratch[k:])
	switch {
	case err != nil:
		return nil, err
	case n == 0:
		return nil, io.EOF
	}
	return w.scratch[:k+n], nil
}

// deliver gives in to the protocol, again and again while it consumes
// whole requests and wants to go on, and returns what is left.
func (w *worker) deliver(c *Conn, in []byte) ([]byte, Action) {
	for {
		c.wantRead = false
		n, act := w.proto.OnData(c, in)
		if n < 0 || n > len(in) {
			panic(fmt.Sprintf("engine: OnData consumed %d of %d bytes", n, len(in)))
		}
		in = in[n:]
		if act != Continue || n == 0 || len(in) == 0 {
			return in, act
		}
	}
}

// apply records a protocol's final action and settles the connection.
func (w *worker) apply(c *Conn, act Action) {
	switch act {
	case Close:
		c.state = stateClosing
	case Handoff:
		c.state = stateHandingOff
		if w.e.onHandoff == nil {
			c.state = stateClosing
		}
	}
	w.settle(c)
}

// settle flushes c's output and decides what c waits for next: EPOLLOUT
// if output is left, else the end its state asks for (close, hand-off) or
// more input.
func (w *worker) settle(c *Conn) {
	if c.out != nil {
		progress, err := w.flush(c)
		if err != nil {
			w.closeConn(c, err)
			return
		}
		if c.out != nil {
			w.awaitWritable(c, progress)
			return
		}
	}
	switch c.state {
	case stateClosing:
		if c.linger {
			w.startLinger(c)
			return
		}
		w.closeConn(c, nil)
	case stateHandingOff:
		w.handoff(c)
	default:
		w.awaitInput(c)
	}
}

// awaitInput makes c wait for input under the right timer. While shutting
// down an idle connection is closed instead.
func (w *worker) awaitInput(c *Conn) {
	if w.draining && c.idle() {
		w.closeConn(c, ErrShutdown)
		return
	}
	if c.blocked {
		if err := w.poll.modify(c.fd, unix.EPOLLIN, int32(c.slot), int32(c.gen)); err != nil {
			w.closeConn(c, err)
			return
		}
		c.blocked = false
	}
	w.arm(c, c.nextTimeout())
}

// awaitWritable makes c wait for EPOLLOUT, not reading meanwhile. The
// write timer restarts whenever some output went out.
func (w *worker) awaitWritable(c *Conn, progress bool) {
	if !c.blocked {
		if err := w.poll.modify(c.fd, unix.EPOLLOUT, int32(c.slot), int32(c.gen)); err != nil {
			w.closeConn(c, err)
			return
		}
		c.blocked = true
		progress = true
		w.stats.stalls.Add(1)
	}
	if progress || !c.timer.armed {
		w.arm(c, TimeoutWrite)
	}
}

// onWritable continues blocked output. Once it is all gone the protocol
// hears of it (OnWritten) unless the connection is ending anyway.
func (w *worker) onWritable(c *Conn) {
	progress, err := w.flush(c)
	if err != nil {
		w.closeConn(c, err)
		return
	}
	if c.out != nil {
		w.awaitWritable(c, progress)
		return
	}
	if c.state == stateOpen {
		c.wantRead = false
		w.apply(c, w.proto.OnWritten(c))
		return
	}
	w.settle(c)
}

// flush writes as much of c's output as the socket takes, and returns the
// output to the pool when it is all sent. progress reports whether any byte
// went out; a full socket is not an error.
func (w *worker) flush(c *Conn) (progress bool, err error) {
	o := c.out
	for !o.empty() {
		var n int
		if o.segs[o.head].kind == segFile {
			n, err = sendFile(c.fd, o)
		} else {
			n, err = w.writeMem(c.fd, o)
		}
		progress = progress || n > 0
		if err == unix.EAGAIN {
			return progress, nil
		}
		if err != nil {
			return progress, err
		}
	}
	w.pools.putOutput(o)
	c.out = nil
	return progress, nil
}

// writeMem writes the memory segments at the head of o with one write or
// writev. When a file follows, MSG_MORE lets the header share a packet with
// the first file bytes (sendfile then pushes the packet out).
func (w *worker) writeMem(fd int, o *output) (int, error) {
	bufs := w.iov[:0]
	want := 0
	j := o.head
	for ; j < len(o.segs) && len(bufs) < maxIov && o.segs[j].kind != segFile; j++ {
		b := o.bytes(&o.segs[j])
		bufs = append(bufs, b)
		want += len(b)
	}
	var n int
	var err error
	switch {
	case j < len(o.segs) && o.segs[j].kind == segFile:
		// One buffer at a time, each with MSG_MORE, so that the memory
		// before a file leaves in one packet with the file's first bytes.
		want = len(bufs[0])
		n, err = unix.SendmsgN(fd, bufs[0], nil, nil, unix.MSG_MORE|unix.MSG_NOSIGNAL)
	case len(bufs) > 1:
		n, err = unix.Writev(fd, bufs)
	default:
		n, err = unix.Write(fd, bufs[0])
	}
	clear(bufs)
	if n > 0 {
		o.advance(n)
	}
	if err == nil && n < want {
		err = errShortWrite
	}
	return max(n, 0), err
}

// sendFile sends (part of) the file segment at the head of o.
func sendFile(fd int, o *output) (int, error) {
	s := &o.segs[o.head]
	want := int(min(s.n, maxSendfile))
	n, err := unix.Sendfile(fd, s.fd, &s.off, want)
	if n > 0 {
		s.n -= int64(n)
		if s.n == 0 {
			o.done(s)
		}
	}
	switch {
	case err != nil:
		return max(n, 0), err
	case n == 0:
		return 0, errFileShort
	case n < want:
		return n, errShortWrite
	}
	return n, nil
}

// errFileShort is the close reason when a file ends before the length
// given to SendFile.
var errFileShort = errors.New("engine: file shorter than the SendFile length")
