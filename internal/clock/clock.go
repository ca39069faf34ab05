package clock

import (
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// dateLen is the length of an http.TimeFormat date, e.g.
// "Mon, 02 Jan 2006 15:04:05 GMT".
const dateLen = len(http.TimeFormat)

// stamp is one published reading of the clock. It is immutable once
// published.
type stamp struct {
	now  time.Time
	date [dateLen]byte
	n    int
}

// Clock is a coarse clock refreshed once a second. The zero value is not
// usable; call New. Date and Now are safe for concurrent use.
type Clock struct {
	cur atomic.Pointer[stamp] // the published stamp

	stopOnce sync.Once
	stop     chan struct{}
	done     chan struct{}
}

// New returns a running Clock. Call Stop to release its goroutine.
func New() *Clock {
	c := &Clock{stop: make(chan struct{}), done: make(chan struct{})}
	c.publish(time.Now())
	go c.run()
	return c
}

// Date returns the current HTTP date, such as "Mon, 02 Jan 2006 15:04:05
// GMT". The slice is a read-only view of an immutable buffer: callers must
// not modify it (its capacity equals its length, so appending to it copies).
func (c *Clock) Date() []byte {
	s := c.cur.Load()
	return s.date[:s.n:s.n]
}

// Now returns the time of the last refresh: within about a second of the
// real time, never ahead of it.
func (c *Clock) Now() time.Time {
	return c.cur.Load().now
}

// Stop stops the refreshing goroutine and waits for it to exit. After Stop
// the Clock keeps returning its last reading. Stop is idempotent.
func (c *Clock) Stop() {
	c.stopOnce.Do(func() { close(c.stop) })
	<-c.done
}

// run refreshes the clock just after every whole second.
func (c *Clock) run() {
	defer close(c.done)
	t := time.NewTimer(untilNextSecond(time.Now()))
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
			now := time.Now()
			c.publish(now)
			t.Reset(untilNextSecond(now))
		}
	}
}

// publish formats now into a fresh stamp and swaps it in. Only New (before
// the goroutine starts) and run call it.
func (c *Clock) publish(now time.Time) {
	s := &stamp{now: now}
	s.n = len(now.UTC().AppendFormat(s.date[:0], http.TimeFormat))
	c.cur.Store(s)
}

// untilNextSecond returns the delay from now to the next whole second.
func untilNextSecond(now time.Time) time.Duration {
	return now.Truncate(time.Second).Add(time.Second).Sub(now)
}
