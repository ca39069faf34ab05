package fastcgi

import (
	"context"
	"net"
	"sync"
	"sync/atomic"
	"time"

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
	mu             sync.Mutex    // guards idle and closed
	idle           []*conn
	closed         bool
	dialer         net.Dialer
}

// conn is one connection to a backend. It carries one request at a time.
type conn struct {
	nc       net.Conn
	rr       *recordReader
	rw       *recordWriter
	requests int  // requests sent on it
	reused   bool // taken from the idle list

	mu        sync.Mutex // guards cancelled
	cancelled bool       // the request's context ended: deadlines stay in the past
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

// acquire takes a slot, waiting up to queueTimeout.
func (b *backend) acquire(ctx context.Context) bool {
	if b.tryAcquire() {
		return true
	}
	t := time.NewTimer(b.queueTimeout)
	defer t.Stop()
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
// holds a slot.
func (b *backend) get(ctx context.Context, fresh bool) (*conn, error) {
	for !fresh {
		b.mu.Lock()
		if n := len(b.idle); n > 0 {
			c := b.idle[n-1]
			b.idle[n-1] = nil
			b.idle = b.idle[:n-1]
			b.mu.Unlock()
			if connx.Alive(c.nc) {
				c.reused = true
				return c, nil
			}
			c.nc.Close()
			continue
		}
		b.mu.Unlock()
		break
	}
	dctx, cancel := context.WithTimeout(ctx, b.connectTimeout)
	defer cancel()
	nc, err := b.dialer.DialContext(dctx, b.network, b.addr)
	if err != nil {
		b.downUntil.Store(time.Now().Add(downFor).UnixNano())
		return nil, err
	}
	b.downUntil.Store(0)
	return &conn{nc: nc, rr: newRecordReader(nc), rw: newRecordWriter(nc)}, nil
}

// put gives back a connection after its request: kept when the request
// ended cleanly and keep-alive is on, else closed.
func (b *backend) put(c *conn, clean bool) {
	keep := clean && b.keepAlive && (b.maxRequests == 0 || c.requests < b.maxRequests)
	if keep {
		c.nc.SetDeadline(time.Time{})
		b.mu.Lock()
		if !b.closed && len(b.idle) < b.maxConns {
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
