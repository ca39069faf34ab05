package fastcgi

import (
	"bufio"
	"context"
	"errors"
	"log/slog"
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
	slots          chan struct{} // one token per connection in use, and the held ones (see limit)
	downUntil      atomic.Int64  // unix nanoseconds
	answersValues  atomic.Bool   // a GET_VALUES_RESULT came back: a new connection's first record tells when it was accepted
	owed           atomic.Int32  // slot tokens the pool still has to take (see limit); written under mu
	dialer         net.Dialer
	log            *slog.Logger

	mu         sync.Mutex // guards the fields below
	idle       []*conn
	open       int // connections open, in use or idle
	unaccepted int // new connections with no record back yet
	// limit is how many connections the backend takes at once, as learnt
	// (see starved and rise): maxConns, unless a new connection went
	// unaccepted. The pool keeps maxConns-limit slot tokens for itself:
	// held it holds, owed (above) it takes as requests give them back.
	limit    int
	held     int
	falls    int           // how many times the limit fell
	riseAt   time.Time     // when the limit may rise by one
	riseWait time.Duration // the wait before the next rise after a fall; doubles with each fall
	closed   bool
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
	sentAt   time.Time     // when its first request went out, until a record came back (zero then); written under backend.mu
	checked  bool          // its first request waited starveAfter: backend.starved ran
	falls    int           // backend.falls when it was dialed

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
// waited watchAfter, and when a new connection has had nothing back for
// starveAfter it tells the backend (backend.starved).
func (c *conn) Read(p []byte) (int, error) {
	start := time.Now()
	end := start.Add(c.timeout)
	for {
		dl := end
		watch := c.stop == nil && c.ctx != nil
		if watch {
			dl = earliest(dl, start.Add(watchAfter))
		}
		starving := !c.sentAt.IsZero() && !c.checked
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
			c.checked = true
			c.b.starved(c)
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
// starts watching the client, which a short wait does not need). A
// request that has to wait may raise a learnt limit (rise).
func (b *backend) acquire(ctx context.Context) bool {
	if b.tryAcquire() || b.rise() && b.tryAcquire() {
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

// release gives back a slot; while the pool owes itself tokens (a limit
// that fell below the slots in use) it keeps the slot's token instead.
func (b *backend) release() {
	if b.owed.Load() > 0 && b.hold() {
		return
	}
	<-b.slots
}

// hold keeps a token owed to the pool, if one still is.
func (b *backend) hold() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.owed.Load() == 0 {
		return false
	}
	b.owed.Add(-1)
	b.held++
	return true
}

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
			b.put(c, false)
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
	c := newConn(b, nc)
	b.mu.Lock()
	b.open++
	c.falls = b.falls
	b.mu.Unlock()
	return c, nil
}

// starveAfter is how long a new connection may go without a record back
// before the pool takes it as one the backend has not accepted (starved).
const starveAfter = 100 * time.Millisecond

// The limit rises at most once per riseWait, which starts at
// firstRiseWait and doubles up to maxRiseWait with each fall.
const (
	firstRiseWait = time.Second
	maxRiseWait   = time.Minute
)

// getValues is the content of the FCGI_GET_VALUES record that goes before
// a new connection's first request: the backend answers it as soon as it
// reads the connection, however long the request then takes.
var getValues = appendPair(nil, "FCGI_MPXS_CONNS", "")

// sentFirst notes that c, a new connection, carries its first request.
func (b *backend) sentFirst(c *conn) {
	b.mu.Lock()
	c.sentAt = time.Now()
	b.unaccepted++
	b.mu.Unlock()
}

// answered notes that c, a new connection, got a record back (the answer
// to its GET_VALUES or to its request), or that its request ended.
func (b *backend) answered(c *conn) {
	if c.sentAt.IsZero() {
		return
	}
	b.mu.Lock()
	c.sentAt = time.Time{}
	b.unaccepted--
	b.mu.Unlock()
}

// starved is called when c, a new connection, has had no record back for
// starveAfter. php-fpm's children take a connection from the listen queue
// only when free, then stay with it until it closes; so when the backend
// answers GET_VALUES (as php-fpm does at once, before running the
// request), a connection without that answer is one no child took: the
// backend takes as many connections at once as it has answered and which
// are still open. The limit falls to that; the connections over it close
// as their requests end (put), or at once when idle, and each frees a
// child for a waiting connection. A connection dialed before the last
// fall was counted by it, as waiting: it changes nothing (while the
// connections over the limit close, the open ones taken by the backend
// are one fewer for a moment, until a child takes a waiting one).
func (b *backend) starved(c *conn) {
	if !b.answersValues.Load() {
		return // no telling a connection not taken from a slow request
	}
	b.mu.Lock()
	fell, first := 0, b.limit == b.maxConns
	if n := max(1, b.open-b.unaccepted); n < b.limit && c.falls == b.falls {
		fell = n
		b.falls++
		b.owed.Add(int32(b.limit - n))
		b.limit = n
		for b.owed.Load() > 0 && b.tryAcquire() {
			b.owed.Add(-1)
			b.held++
		}
		b.riseAt = time.Now().Add(b.riseWait)
		b.riseWait = min(2*b.riseWait, maxRiseWait)
	}
	var excess []*conn
	for b.open > b.limit && len(b.idle) > 0 {
		k := len(b.idle) - 1
		excess = append(excess, b.idle[k])
		b.idle[k] = nil
		b.idle = b.idle[:k]
		b.open--
	}
	b.mu.Unlock()
	for _, i := range excess {
		i.nc.Close()
	}
	switch {
	case fell > 0 && first:
		b.log.Info("fastcgi backend takes fewer connections", "server", b.name, "limit", fell, "max_connections", b.maxConns)
	case fell > 0:
		b.log.Debug("fastcgi backend limit falls back", "server", b.name, "limit", fell)
	}
}

// rise raises a learnt limit by one, for a request that found every slot
// taken, when riseAt has come and every new connection was accepted: the
// backend may have more workers now (php-fpm's pm = dynamic starts more
// as the ones it has stay busy). A connection over the backend's capacity
// starves again and the limit falls back, with a longer wait before the
// next rise. It reports whether it freed a slot.
func (b *backend) rise() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.limit == b.maxConns || b.unaccepted > 0 || time.Now().Before(b.riseAt) {
		return false
	}
	b.limit++
	b.riseAt = time.Now().Add(b.riseWait)
	b.log.Debug("fastcgi backend limit rises", "server", b.name, "limit", b.limit)
	if b.owed.Load() > 0 {
		b.owed.Add(-1)
		return false
	}
	b.held--
	<-b.slots
	return true
}

// put gives back a connection after its request: kept when the request
// ended cleanly, keep-alive is on and no more connections are open than
// the limit, else closed.
func (b *backend) put(c *conn, clean bool) {
	keep := clean && b.keepAlive && (b.maxRequests == 0 || c.requests < b.maxRequests)
	if keep {
		c.ctx = nil // keep no request alive while idle
		c.head.Reset(nil)
		c.reused = false
	}
	b.mu.Lock()
	if keep && !b.closed && b.open <= b.limit {
		b.idle = append(b.idle, c)
		b.mu.Unlock()
		return
	}
	b.open--
	b.mu.Unlock()
	c.nc.Close()
}

// closeIdle closes the kept-alive connections and keeps no more.
func (b *backend) closeIdle() {
	b.mu.Lock()
	idle := b.idle
	b.idle, b.closed = nil, true
	b.open -= len(idle)
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
