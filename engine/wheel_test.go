package engine

import (
	"testing"
	"time"
)

func expiredSet(c *Conn) map[*Conn]TimeoutKind {
	m := map[*Conn]TimeoutKind{}
	for ; c != nil; c = c.timer.next {
		m[c] = c.timer.kind
	}
	return m
}

func TestWheelFiresInOrder(t *testing.T) {
	t.Parallel()
	var wh wheel
	a, b, c := &Conn{}, &Conn{}, &Conn{}
	wh.schedule(a, TimeoutRead, 2)
	wh.schedule(b, TimeoutIdle, 5)
	wh.schedule(c, TimeoutWrite, 5)
	if wh.count != 3 {
		t.Fatalf("count = %d", wh.count)
	}
	if got := expiredSet(wh.advance(1)); len(got) != 0 {
		t.Fatalf("tick 1 fired %v", got)
	}
	if got := expiredSet(wh.advance(2)); len(got) != 1 || got[a] != TimeoutRead {
		t.Fatalf("tick 2 fired %v, want a", got)
	}
	wh.stop(c)
	if got := expiredSet(wh.advance(10)); len(got) != 1 || got[b] != TimeoutIdle {
		t.Fatalf("tick 10 fired %v, want b only", got)
	}
	if wh.count != 0 {
		t.Fatalf("count = %d after all fired", wh.count)
	}
}

func TestWheelReschedule(t *testing.T) {
	t.Parallel()
	var wh wheel
	a := &Conn{}
	wh.schedule(a, TimeoutRead, 2)
	wh.schedule(a, TimeoutIdle, 4) // replaces
	if wh.count != 1 {
		t.Fatalf("count = %d", wh.count)
	}
	if got := expiredSet(wh.advance(3)); len(got) != 0 {
		t.Fatalf("old timer fired: %v", got)
	}
	if got := expiredSet(wh.advance(4)); got[a] != TimeoutIdle {
		t.Fatalf("tick 4 fired %v", got)
	}
	wh.stop(a) // stopping a disarmed timer is a no-op
	if wh.count != 0 {
		t.Fatalf("count = %d", wh.count)
	}
}

// A timer longer than a turn of the wheel waits for its own turn.
func TestWheelLongTimer(t *testing.T) {
	t.Parallel()
	var wh wheel
	a := &Conn{}
	wh.schedule(a, TimeoutIdle, wheelSize+3)
	for now := int64(1); now < wheelSize+3; now++ {
		if got := wh.advance(now); got != nil {
			t.Fatalf("fired at tick %d", now)
		}
	}
	if got := wh.advance(wheelSize + 3); got != a {
		t.Fatalf("did not fire at its tick")
	}
}

// A jump over more than a turn (the loop slept long) visits every slot.
func TestWheelJump(t *testing.T) {
	t.Parallel()
	var wh wheel
	conns := make([]*Conn, 10)
	for i := range conns {
		conns[i] = &Conn{}
		wh.schedule(conns[i], TimeoutRead, int64(1+i*97))
	}
	if got := expiredSet(wh.advance(5 * wheelSize)); len(got) != len(conns) {
		t.Fatalf("fired %d of %d", len(got), len(conns))
	}
}

func TestWheelWaitMillis(t *testing.T) {
	t.Parallel()
	var wh wheel
	if got := wh.waitMillis(0); got != -1 {
		t.Fatalf("empty wheel waits %d, want -1", got)
	}
	wh.advance(10)
	wh.schedule(&Conn{}, TimeoutRead, 3)
	if got := wh.waitMillis(10*tick + 30*time.Millisecond); got != 70 {
		t.Fatalf("waitMillis = %d, want 70", got)
	}
	if got := wh.waitMillis(20 * tick); got != 0 {
		t.Fatalf("late waitMillis = %d, want 0", got)
	}
}

func TestTicksForNeverEarly(t *testing.T) {
	t.Parallel()
	for _, d := range []time.Duration{1, tick - 1, tick, tick + 1, 5 * time.Second} {
		n := ticksFor(d)
		// The timer is set somewhere inside the current tick; it fires at
		// the start of tick now+n, at least (n-1) ticks later.
		if time.Duration(n-1)*tick < d {
			t.Errorf("ticksFor(%v) = %d fires early", d, n)
		}
		if time.Duration(n-1)*tick >= d+tick {
			t.Errorf("ticksFor(%v) = %d fires a tick late", d, n)
		}
	}
}
