package engine

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"time"
)

// Defaults used for the zero values of [Config].
const (
	DefaultReadTimeout  = 15 * time.Second // Monkey's Timeout
	DefaultIdleTimeout  = 5 * time.Second  // Monkey's KeepAliveTimeout
	DefaultWriteTimeout = 15 * time.Second
	DefaultDeferAccept  = 1 * time.Second
	// MaxInput is how many unconsumed input bytes a connection may hold. A
	// connection whose protocol leaves more unconsumed is closed with
	// ErrInputTooLarge. One read brings at most 64 KiB more.
	MaxInput = 64 << 10
	// LingerTimeout and LingerMax bound a lingering close (see [Close]).
	LingerTimeout = time.Second
	LingerMax     = 256 << 10
)

// Errors passed to [Protocol.OnClose] or returned by the engine.
var (
	ErrUnsupported   = errors.New("engine: not supported on this system")
	ErrServerClosed  = errors.New("engine: server closed")
	ErrShutdown      = errors.New("engine: closed by shutdown")
	ErrInputTooLarge = errors.New("engine: unconsumed input over MaxInput")
	ErrNoListeners   = errors.New("engine: Serve called before Listen")
)

// Balancing is the scheduler mode: how new connections reach workers.
type Balancing uint8

const (
	// Reuseport gives every worker its own SO_REUSEPORT listener per address;
	// the kernel spreads connections and each worker accepts in its own loop.
	// It is the zero value and the default.
	Reuseport Balancing = iota
	// Fair runs one acceptor that gives each connection to the worker with
	// the fewest active connections, through the worker's inbox.
	Fair
)

// String returns "reuseport" or "fair".
func (b Balancing) String() string {
	switch b {
	case Reuseport:
		return "reuseport"
	case Fair:
		return "fair"
	}
	return fmt.Sprintf("Balancing(%d)", uint8(b))
}

// ParseBalancing maps a config value ("", "reuseport", "fair") to a Balancing.
// The empty string means the default, Reuseport.
func ParseBalancing(s string) (Balancing, error) {
	switch s {
	case "", "reuseport":
		return Reuseport, nil
	case "fair":
		return Fair, nil
	}
	return 0, fmt.Errorf("engine: unknown balancing %q (want reuseport or fair)", s)
}

// Action is a protocol's verdict after a callback.
//
// Continue keeps the connection on the loop. Close flushes queued output and
// then closes; when OnData left input unconsumed with it (a request refused
// unread, a pipelined tail), the close lingers: the write side is shut down
// and input is read and dropped until the peer closes, for at most
// [LingerTimeout] and [LingerMax] bytes, so that the peer reads the response
// before it sees the close instead of a reset. Handoff flushes queued output
// and then gives the connection to the hand-off callback (see [Detached]).
// Close and Handoff are final.
type Action uint8

const (
	Continue Action = iota
	Close
	Handoff
)

// String returns the action's name.
func (a Action) String() string {
	switch a {
	case Continue:
		return "continue"
	case Close:
		return "close"
	case Handoff:
		return "handoff"
	}
	return fmt.Sprintf("Action(%d)", uint8(a))
}

// TimeoutKind names the timer a connection is waiting under.
//
// A connection waits under exactly one timer at a time. The engine picks it
// after every callback: Write while output is queued, otherwise Read while
// unconsumed input is held or the protocol asked for it with
// [Conn.SetTimeout], otherwise Idle. A new connection waits under Read.
type TimeoutKind uint8

const (
	TimeoutNone  TimeoutKind = iota // not waiting under any timer (handed off, closed)
	TimeoutRead                     // a request has started and is incomplete
	TimeoutIdle                     // keep-alive: between requests
	TimeoutWrite                    // queued output makes no progress

	timeoutLinger // internal: bounds a lingering close; never reported
)

// String returns the kind's name.
func (k TimeoutKind) String() string {
	switch k {
	case TimeoutNone:
		return "none"
	case TimeoutRead:
		return "read"
	case TimeoutIdle:
		return "idle"
	case TimeoutWrite:
		return "write"
	}
	return fmt.Sprintf("TimeoutKind(%d)", uint8(k))
}

// TimeoutError is the error given to [Protocol.OnClose] when a timer fires.
// Use errors.As to read Kind.
type TimeoutError struct{ Kind TimeoutKind }

func (e *TimeoutError) Error() string { return "engine: " + e.Kind.String() + " timeout" }

// Timeout reports true, so a TimeoutError satisfies net.Error-style checks.
func (e *TimeoutError) Timeout() bool { return true }

// One value per kind, so closing on a timer does not allocate.
var timeoutErrors = [...]*TimeoutError{
	TimeoutRead:  {Kind: TimeoutRead},
	TimeoutIdle:  {Kind: TimeoutIdle},
	TimeoutWrite: {Kind: TimeoutWrite},
}

// Config configures an [Engine]. The zero value is valid: one worker per
// CPU, reuseport balancing, capacity from RLIMIT_NOFILE, default timeouts.
type Config struct {
	// Workers is the number of event loops; 0 means one per CPU.
	Workers int
	// Balancing is the scheduler mode; the zero value is Reuseport.
	Balancing Balancing
	// Capacity is the maximum number of connections per worker (Monkey's
	// WorkerCapacity). A connection accepted past it is closed at once and
	// counted in WorkerStats.Rejected. 0 derives it from RLIMIT_NOFILE (after
	// New raises it to the hard limit): (limit − 256) / Workers.
	Capacity int
	// ReadTimeout bounds the wait for the rest of a started request (and for
	// the first bytes of a new connection). 0 → DefaultReadTimeout; < 0 → none.
	ReadTimeout time.Duration
	// IdleTimeout bounds a keep-alive connection's wait between requests.
	// 0 → DefaultIdleTimeout; < 0 → none.
	IdleTimeout time.Duration
	// WriteTimeout bounds how long queued output may make no progress.
	// 0 → DefaultWriteTimeout; < 0 → none.
	WriteTimeout time.Duration
	// DeferAccept sets TCP_DEFER_ACCEPT on listeners: the kernel wakes the
	// accept only when data arrives (or after this long). 0 → DefaultDeferAccept;
	// < 0 → off (for protocols where the server speaks first).
	DeferAccept time.Duration
	// Logger receives the engine's own events (accept errors, loop errors).
	// nil → slog.Default().
	Logger *slog.Logger
}

// Protocol is how the engine reaches a protocol core (HTTP/1 in package
// server). Every method is called on the connection's worker loop, one
// connection at a time per worker, so a Protocol must be safe for use by
// several workers at once but needs no locking per connection. A method must
// never block: blocking work belongs after a Handoff.
type Protocol interface {
	// OnOpen is called once after a connection is accepted. Returning false
	// closes it at once (OnClose is then not called). OnOpen may queue output.
	OnOpen(c *Conn) bool
	// OnData is called with the input available: bytes kept from earlier
	// calls followed by newly read bytes. in is a view valid only during the
	// call; copy what must outlive it. The protocol returns how many bytes it
	// consumed; the rest are kept and presented again, first, on the next
	// call. While the action is Continue and the protocol consumed something
	// and input remains, OnData is called again at once (pipelining), so an
	// implementation may handle one request per call. Consuming nothing means
	// "need more bytes".
	OnData(c *Conn, in []byte) (consumed int, a Action)
	// OnWritten is called after output that could not be written at once
	// (the socket was full) has been flushed entirely. It may queue more.
	OnWritten(c *Conn) Action
	// OnClose is called exactly once for every connection that OnOpen
	// accepted and that is not handed off: on Close (err nil), on end of
	// input (io.EOF), on a timer (*TimeoutError), on a socket error, on
	// ErrInputTooLarge and on shutdown (ErrShutdown). The socket is already
	// closed; c is valid until OnClose returns and must not be kept.
	OnClose(c *Conn, err error)
}

// Detached is a connection handed off: it has left the loop for a goroutine. The hand-off
// callback given to [New] owns every field: it must close Conn.
type Detached struct {
	// Conn is the connection as a *net.TCPConn on Go's own poller: a
	// duplicate of the loop's socket, which the loop closed after removing it
	// from its epoll set. Deadlines, CloseWrite and crypto/tls all work on it.
	Conn net.Conn
	// Buffered holds the bytes read but not consumed by OnData, in order.
	// They come before anything read from Conn.
	Buffered []byte
	// Context and Tag are the values from [Conn.SetContext] and
	// [Conn.SetTag] at the time of hand-off.
	Context any
	Tag     uint64
	// ID and Worker identify the connection as it was on the loop.
	ID     uint64
	Worker int
}

// WorkerStats is a snapshot of one worker's counters.
type WorkerStats struct {
	Worker    int
	Active    int64  // connections open on this loop (fair: includes those in its inbox)
	Accepted  uint64 // connections opened on this loop
	Rejected  uint64 // closed at once: over capacity, inbox full or out of descriptors
	Closed    uint64 // connections closed on this loop (any reason)
	HandedOff uint64 // connections given to the hand-off callback
	Timeouts  uint64 // connections closed by a timer
	Stalls    uint64 // times output waited for EPOLLOUT (the socket was full)
}

// ConnStatus describes a connection open on a worker loop, as
// [Engine.Conns] found it.
type ConnStatus struct {
	ID     uint64
	Worker int
	Remote netip.AddrPort
	// Opened is when the loop accepted the connection, to within a tick
	// of the timing wheel (100ms).
	Opened time.Time
	// Wait is the timer the connection waits under: TimeoutIdle between
	// requests, TimeoutRead while a request is incomplete (a new
	// connection too), TimeoutWrite while output is queued; TimeoutNone
	// once the protocol closed it or handed it off and output drains.
	Wait TimeoutKind
	// Tag is the protocol's word of state (see [Conn.SetTag]).
	Tag uint64
}

// normalize fills in defaults.
func (cfg *Config) normalize(cpus int) {
	if cfg.Workers <= 0 {
		cfg.Workers = cpus
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&cfg.ReadTimeout, DefaultReadTimeout)
	def(&cfg.IdleTimeout, DefaultIdleTimeout)
	def(&cfg.WriteTimeout, DefaultWriteTimeout)
	def(&cfg.DeferAccept, DefaultDeferAccept)
}

// capacityFor derives a per-worker capacity from the descriptor limit,
// keeping a reserve for listeners, files being sent and hand-offs.
func capacityFor(nofile uint64, workers int) int {
	const reserve = 256
	if nofile <= reserve*2 {
		nofile = reserve * 2
	}
	c := int((nofile - reserve) / uint64(workers))
	return max(c, 1)
}
