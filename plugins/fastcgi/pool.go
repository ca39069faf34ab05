package fastcgi

import (
	"bufio"
	"context"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"gibbon/internal/cgihead"
	"gibbon/internal/connx"
)

// downFor is how long a backend that refused a connection is tried last.
const downFor = 2 * time.Second

// backend is one [FASTCGI_SERVER]: its settings, its connection slots and
// its kept-alive connections. Safe for concurrent use.
type backend struct {
	name           string
	network, addr  string // "tcp" host:port or "unix" path
	maxConns       int
	keepAlive      bool
	maxRequests    int // per connection, 0: no limit
	connectTimeout time.Duration
	readTimeout    time.Duration
	queueTimeout   time.Duration
	exts           []string      // script name endings this backend runs
	slots          chan struct{} // one token per connection in use
	downUntil      atomic.Int64  // unix nanoseconds
	mu             sync.Mutex    // guards idle, unanswered and closed
	idle           []*conn
	unanswered     []*conn // new connections whose first request has no answer yet
	closed         bool
	dialer         net.Dialer
}

// conn is one connection to a backend. It carries one request at a time;
// its buffers serve request after request.
type conn struct {
	b        *backend
	nc       net.Conn
	rr       *recordReader // reads through the conn's Read
	rw       *recordWriter
	head     *bufio.Reader // the response head is parsed through it
	vars     []cgihead.Var // the request's meta-variables
	params   []byte        // the request's PARAMS, encoded
	requests int           // requests sent on it
	reused   bool          // taken from the idle list
	sentAt   time.Time     // when its first request went out, while in backend.unanswered (zero after); written under backend.mu
	unpinned bool          // its first request starved: backend.unpin ran

	// the request in flight, set by watchFrom
	timeout time.Duration   // the backend's ReadTimeout
	ctx     context.Context // the request's context
	stop    func() bool     // undoes the AfterFunc on ctx; nil while not watched

	mu        sync.Mutex // guards cancelled
	cancelled bool       // the request's context ended: deadlines stay in the past
}

func newConn(b *backend, nc net.Conn) *conn {
	c := &conn{b: b, nc: nc, rw: newRecordWriter(nc)}
	c.rr = newRecordReader(c)
	c.head = bufio.NewReaderSize(nil, 4<<10)
	return c
}

// watchAfter is how long a request may wait for a connection slot and
// then for the backend's answer before its context is watched: a client
// that goes away is noticed from then on. Watching costs a goroutine and
// a read on the client's connection, which a request answered at once
// does not need.
const watchAfter = 20 * time.Millisecond

// watchFrom starts a request on c: a read from the backend fails after
// timeout of silence, and the request's context ctx is watched once a read
// waited watchAfter (see Read).
func (c *conn) watchFrom(ctx context.Context, timeout time.Duration) {
	c.ctx, c.timeout, c.stop = ctx, timeout, nil
}

// watch makes the end of the request's context cancel c.
func (c *conn) watch() {
	if c.stop == nil {
		c.stop = context.AfterFunc(c.ctx, c.cancel)
	}
}

// unwatch undoes watch; it reports false when the context ended and
// cancelled c (or is doing so).
func (c *conn) unwatch() bool {
	if c.stop == nil {
		return true
	}
	return c.stop()
}

// Read reads from the backend: a read that waits longer than timeout
// fails. On the way it starts watching the request's context once it
// waited watchAfter, and when the connection's first request has waited
// starveAfter it unpins the backend's workers (backend.unpin).
func (c *conn) Read(p []byte) (int, error) {
	start := time.Now()
	end := start.Add(c.timeout)
	for {
		dl := end
		watch := c.stop == nil && c.ctx != nil
		if watch {
			dl = earliest(dl, start.Add(watchAfter))
		}
		starving := !c.sentAt.IsZero() && !c.unpinned
		if starving {
			dl = earliest(dl, c.sentAt.Add(starveAfter))
		}
		if err := c.setReadDeadline(dl); err != nil {
			return 0, err
		}
		n, err := c.nc.Read(p)
		if dl.Equal(end) || n > 0 || !isTimeout(err) {
			return n, err
		}
		now := time.Now()
		if watch && !now.Before(start.Add(watchAfter)) {
			c.watch()
		}
		if starving && !now.Before(c.sentAt.Add(starveAfter)) {
			c.unpinned = true
			c.b.unpin()
		}
	}
}

func earliest(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// tryAcquire takes a slot without waiting.
func (b *backend) tryAcquire() bool {
	select {
	case b.slots <- struct{}{}:
		return true
	default:
		return false
	}
}

// acquire takes a slot, waiting up to queueTimeout; after watchAfter
// the request's context ends the wait too (asking for its Done channel
// starts watching the client, which a short wait does not need).
func (b *backend) acquire(ctx context.Context) bool {
	if b.tryAcquire() {
		return true
	}
	first := min(watchAfter, b.queueTimeout)
	t := time.NewTimer(first)
	defer t.Stop()
	select {
	case b.slots <- struct{}{}:
		return true
	case <-t.C:
	}
	if first == b.queueTimeout {
		return false
	}
	t.Reset(b.queueTimeout - first)
	select {
	case b.slots <- struct{}{}:
		return true
	case <-t.C:
	case <-ctx.Done():
	}
	return false
}

func (b *backend) release() { <-b.slots }

// down reports whether the backend refused a connection lately.
func (b *backend) down(now time.Time) bool { return now.UnixNano() < b.downUntil.Load() }

// get returns a kept-alive connection, or dials a new one. The caller
// holds a slot. With check, a kept-alive connection is first checked with
// a peek (connx.Alive), for a request that cannot be retried on a new
// connection once its body was read; without, a connection the backend
// closed fails the request's first read or write, and the caller retries.
// Dialing is bounded by connectTimeout, not by the request's context:
// asking for the context's Done channel starts watching the client,
// which a connection that is there at once does not need.
func (b *backend) get(fresh, check bool) (*conn, error) {
	for !fresh {
		b.mu.Lock()
		if n := len(b.idle); n > 0 {
			c := b.idle[n-1]
			b.idle[n-1] = nil
			b.idle = b.idle[:n-1]
			b.mu.Unlock()
			if !check || c.nc.SetReadDeadline(time.Time{}) == nil && connx.Alive(c.nc) {
				c.reused = true
				return c, nil
			}
			c.nc.Close()
			continue
		}
		b.mu.Unlock()
		break
	}
	nc, err := b.dialer.Dial(b.network, b.addr)
	if err != nil {
		b.downUntil.Store(time.Now().Add(downFor).UnixNano())
		return nil, err
	}
	b.downUntil.Store(0)
	return newConn(b, nc), nil
}

// starveAfter is how long the first request of a new connection may go
// unanswered before the pool stops keeping connections (see put).
const starveAfter = 200 * time.Millisecond

// sentFirst notes that c, a new connection, carries its first request.
func (b *backend) sentFirst(c *conn) {
	b.mu.Lock()
	c.sentAt = time.Now()
	b.unanswered = append(b.unanswered, c)
	b.mu.Unlock()
}

// answered notes that c's first request got an answer or ended.
func (b *backend) answered(c *conn) {
	if c.sentAt.IsZero() {
		return
	}
	b.mu.Lock()
	c.sentAt = time.Time{}
	for i, u := range b.unanswered {
		if u == c {
			b.unanswered = append(b.unanswered[:i], b.unanswered[i+1:]...)
			break
		}
	}
	b.mu.Unlock()
}

// starvingLocked reports whether the first request of a new connection
// has waited starveAfter for an answer. A backend such as php-fpm, whose
// workers each stay with a kept-alive connection and take a new one from
// the listen queue only when it closes, leaves a connection made while
// all workers are taken unanswered until a kept one closes: then the pool
// closes connections as their requests end instead of keeping them.
func (b *backend) starvingLocked() bool {
	if len(b.unanswered) == 0 {
		return false
	}
	now := time.Now()
	for _, u := range b.unanswered {
		if now.Sub(u.sentAt) > starveAfter {
			return true
		}
	}
	return false
}

// unpin is called when the first request of a new connection has waited
// starveAfter: it closes the idle connections, whose workers then go back
// to the listen queue, where that connection waits; and until it is
// answered the pool keeps no connection (see put).
func (b *backend) unpin() {
	b.mu.Lock()
	idle := b.idle
	b.idle = nil
	b.mu.Unlock()
	for _, i := range idle {
		i.nc.Close()
	}
}

// put gives back a connection after its request: kept when the request
// ended cleanly and keep-alive is on, unless a new connection's first
// request starves (starvingLocked), else closed.
func (b *backend) put(c *conn, clean bool) {
	keep := clean && b.keepAlive && (b.maxRequests == 0 || c.requests < b.maxRequests)
	if keep {
		c.ctx = nil // keep no request alive while idle
		c.head.Reset(nil)
		b.mu.Lock()
		if !b.closed && len(b.idle) < b.maxConns && !b.starvingLocked() {
			c.reused = false
			b.idle = append(b.idle, c)
			b.mu.Unlock()
			return
		}
		b.mu.Unlock()
	}
	c.nc.Close()
}

// closeIdle closes the kept-alive connections and keeps no more.
func (b *backend) closeIdle() {
	b.mu.Lock()
	idle := b.idle
	b.idle, b.closed = nil, true
	b.mu.Unlock()
	for _, c := range idle {
		c.nc.Close()
	}
}

// cancel makes every pending and future I/O on c fail at once.
func (c *conn) cancel() {
	c.mu.Lock()
	c.cancelled = true
	c.nc.SetDeadline(time.Unix(1, 0))
	c.mu.Unlock()
}

// setReadDeadline sets the read deadline unless c was cancelled.
func (c *conn) setReadDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cancelled {
		return context.Canceled
	}
	return c.nc.SetReadDeadline(t)
}

// setWriteDeadline sets the write deadline unless c was cancelled.
func (c *conn) setWriteDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cancelled {
		return context.Canceled
	}
	return c.nc.SetWriteDeadline(t)
}
