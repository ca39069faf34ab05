package engine

import "time"

// Timer granularity and span of the per-worker timing wheel. A timer fires
// between its duration and its duration plus one tick after it was set.
// Longer timers stay in their slot for extra turns of the wheel.
const (
	tick      = 100 * time.Millisecond
	wheelSize = 1024 // a power of two: about 100 s per turn
	wheelMask = wheelSize - 1
)

// timerLink is a Conn's place in the wheel: an intrusive doubly linked list
// per slot, so arming, moving and stopping a timer are O(1) and allocate
// nothing.
type timerLink struct {
	prev, next *Conn
	deadline   int64 // tick at or after which the timer fires
	kind       TimeoutKind
	armed      bool
}

// wheel is a hashed timing wheel owned by one worker loop.
type wheel struct {
	slots [wheelSize]*Conn
	now   int64 // the last tick advanced to
	count int   // armed timers
}

// ticksFor converts a duration to whole ticks, rounded up, plus one so that
// a timer never fires early whatever the phase of the current tick.
func ticksFor(d time.Duration) int64 {
	return int64((d+tick-1)/tick) + 1
}

// schedule arms c's timer to fire after ticks ticks with the given kind,
// replacing any timer c had.
func (wh *wheel) schedule(c *Conn, kind TimeoutKind, ticks int64) {
	wh.stop(c)
	t := &c.timer
	t.kind = kind
	t.deadline = wh.now + ticks
	head := &wh.slots[t.deadline&wheelMask]
	t.prev, t.next = nil, *head
	if *head != nil {
		(*head).timer.prev = c
	}
	*head = c
	t.armed = true
	wh.count++
}

// stop disarms c's timer if it is armed.
func (wh *wheel) stop(c *Conn) {
	t := &c.timer
	if !t.armed {
		return
	}
	if t.prev != nil {
		t.prev.timer.next = t.next
	} else {
		wh.slots[t.deadline&wheelMask] = t.next
	}
	if t.next != nil {
		t.next.timer.prev = t.prev
	}
	t.prev, t.next, t.armed = nil, nil, false
	wh.count--
}

// advance moves the wheel to tick to and returns the connections whose
// timers fired, disarmed, as a list linked through timer.next. Their
// timer.kind tells which timer it was.
func (wh *wheel) advance(to int64) (expired *Conn) {
	if to <= wh.now {
		return nil
	}
	from := wh.now + 1
	if to-from >= wheelSize {
		from = to - wheelSize + 1 // every slot is visited once
	}
	wh.now = to
	if wh.count == 0 {
		return nil
	}
	for t := from; t <= to; t++ {
		for c := wh.slots[t&wheelMask]; c != nil; {
			next := c.timer.next
			if c.timer.deadline <= to {
				wh.stop(c)
				c.timer.next = expired
				expired = c
			}
			c = next
		}
	}
	return expired
}

// waitMillis is how long the loop may sleep in epoll_wait: until the next
// tick if any timer is armed, else for ever (-1). elapsed is the time since
// the wheel's epoch.
func (wh *wheel) waitMillis(elapsed time.Duration) int {
	if wh.count == 0 {
		return -1
	}
	next := time.Duration(wh.now+1) * tick
	ms := int((next - elapsed + time.Millisecond - 1) / time.Millisecond)
	return max(ms, 0)
}
