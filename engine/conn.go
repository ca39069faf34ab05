package engine

import (
	"fmt"
	"net"
	"net/netip"
	"os"
)

// Conn is one client connection on a worker loop.
//
// A Conn is owned by its worker loop: its methods may be called only from
// [Protocol] callbacks for that same connection (the loop goroutine), never
// from another goroutine. A *Conn must not be kept after OnClose returns or
// after a Handoff: the struct is recycled for a later connection.
type Conn struct {
	// set when the slot is created, never changed
	w    *worker
	slot uint32

	// owned by the worker loop
	gen      uint32 // bumped at every release; with slot, the epoll token
	state    connState
	wantRead bool // protocol asked for TimeoutRead for the next wait
	blocked  bool // output waits for EPOLLOUT; reading is paused
	fresh    bool // nothing read yet
	linger   bool // closing with unread input: shut down writes, drain first
	fd       int
	id       uint64
	raddr    netip.AddrPort
	in       []byte  // unconsumed input, from the worker's pool; nil when none
	out      *output // queued output, from the worker's pool; nil when none
	ctx      any
	tag      uint64
	drop     int32 // lingering: input bytes still to read and drop
	opened   int64 // the wheel's tick when accepted
	timer    timerLink
}

// connState is a connection's place in its life.
//
// Transitions: free → open (accept); open → closing (Close action) or
// handingOff (Handoff action) while output drains; closing → lingering
// (Close left input unread: writes shut down, input dropped for a while);
// open|closing|handingOff|lingering → free (closed, handed off).
type connState uint8

const (
	stateFree connState = iota
	stateOpen
	stateClosing
	stateHandingOff
	stateLingering
)

func (s connState) String() string {
	switch s {
	case stateFree:
		return "free"
	case stateOpen:
		return "open"
	case stateClosing:
		return "closing"
	case stateHandingOff:
		return "handing-off"
	case stateLingering:
		return "lingering"
	}
	return fmt.Sprintf("connState(%d)", uint8(s))
}

// ID returns the connection's identifier, unique within the Engine.
func (c *Conn) ID() uint64 { return c.id }

// Worker returns the index of the worker loop that owns the connection.
func (c *Conn) Worker() int { return c.w.id }

// Context returns the value set by SetContext (nil at first).
func (c *Conn) Context() any { return c.ctx }

// SetContext stores the protocol's per-connection state. It is cleared when
// the connection closes and passed along in [Detached].
func (c *Conn) SetContext(v any) { c.ctx = v }

// Tag returns the word set by SetTag (0 at first).
func (c *Conn) Tag() uint64 { return c.tag }

// SetTag stores a word of protocol state (a request count, a few flags)
// that, unlike a value given to SetContext, costs no allocation. It is
// cleared when the connection closes and passed along in [Detached].
func (c *Conn) SetTag(v uint64) { c.tag = v }

// RemoteAddrPort returns the peer's address without allocating.
func (c *Conn) RemoteAddrPort() netip.AddrPort { return c.raddr }

// RemoteAddr returns the peer's address as a *net.TCPAddr (it allocates).
func (c *Conn) RemoteAddr() net.Addr { return net.TCPAddrFromAddrPort(c.raddr) }

// SetTimeout chooses the timer for the connection's next wait for input:
// TimeoutRead says a request is in progress though all its bytes so far were
// consumed (a request body, say); TimeoutIdle says the opposite. It applies
// to the next wait only; the engine chooses by itself after later callbacks.
// Queued output always waits under TimeoutWrite.
func (c *Conn) SetTimeout(k TimeoutKind) { c.wantRead = k == TimeoutRead }

// Write queues a copy of b for sending. Output is flushed after the callback
// returns, in order with WriteNoCopy and SendFile segments.
func (c *Conn) Write(b []byte) {
	if len(b) > 0 {
		c.output().appendCopy(b)
	}
}

// WriteString queues a copy of s for sending.
func (c *Conn) WriteString(s string) {
	if len(s) > 0 {
		c.output().appendCopyString(s)
	}
}

// WriteNoCopy queues b without copying it: b is read until it has been sent
// or the connection closes, so it must not be modified meanwhile. Use it for
// immutable data (cached pages) and large bodies.
func (c *Conn) WriteNoCopy(b []byte) {
	if len(b) > 0 {
		c.output().appendRef(b)
	}
}

// SendFile queues n bytes of f starting at offset off, sent with sendfile.
// The engine does not close f: it calls release(f) on the loop once the
// segment is sent or the connection is closed (release may be nil). f must
// stay open until then. n must be > 0.
func (c *Conn) SendFile(f *os.File, off, n int64, release func(*os.File)) {
	c.output().appendFile(f, off, n, release)
}

// Pending returns the number of bytes queued and not yet sent.
func (c *Conn) Pending() int64 {
	if c.out == nil {
		return 0
	}
	return c.out.pending()
}

// Draining reports whether the engine is shutting down: a protocol should
// end the connection after the current response (HTTP: Connection: close).
func (c *Conn) Draining() bool { return c.w.draining }

// output returns the connection's output queue, taking one from the
// worker's pool if it has none.
func (c *Conn) output() *output {
	if c.out == nil {
		c.out = c.w.pools.getOutput()
	}
	return c.out
}

// idle reports whether the connection is between requests: no input held,
// no output queued, and the protocol did not say a request is in progress.
func (c *Conn) idle() bool {
	return len(c.in) == 0 && c.out == nil && !c.wantRead && c.state == stateOpen
}

// nextTimeout is the timer for the connection's next wait.
func (c *Conn) nextTimeout() TimeoutKind {
	switch {
	case c.out != nil:
		return TimeoutWrite
	case len(c.in) > 0 || c.wantRead || c.fresh:
		return TimeoutRead
	}
	return TimeoutIdle
}
