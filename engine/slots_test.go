package engine

import "testing"

// A stale event carries the (slot, generation) of a connection that has
// been closed, possibly with its slot (and fd) already reused: lookup must
// drop it.
func TestSlotStaleGeneration(t *testing.T) {
	t.Parallel()
	var tab slotTable
	w := &worker{}
	c := tab.alloc(w)
	slot, gen := c.slot, c.gen
	if got := tab.lookup(slot, gen); got != c {
		t.Fatalf("lookup(live) = %p, want %p", got, c)
	}

	tab.release(c)
	if got := tab.lookup(slot, gen); got != nil {
		t.Fatalf("lookup after release = %p, want nil", got)
	}

	c2 := tab.alloc(w) // the slot is reused
	if c2.slot != slot {
		t.Fatalf("reused slot %d, want %d", c2.slot, slot)
	}
	if got := tab.lookup(slot, gen); got != nil {
		t.Fatalf("old generation found the new connection")
	}
	if got := tab.lookup(slot, c2.gen); got != c2 {
		t.Fatalf("lookup(new generation) = %p, want %p", got, c2)
	}
	if got := tab.lookup(slot+1000, 0); got != nil {
		t.Fatalf("lookup(unknown slot) = %p, want nil", got)
	}
}

func TestSlotSlabGrowth(t *testing.T) {
	t.Parallel()
	var tab slotTable
	w := &worker{}
	seen := map[uint32]bool{}
	var conns []*Conn
	for range 3*slabSize + 1 {
		c := tab.alloc(w)
		if seen[c.slot] {
			t.Fatalf("slot %d handed out twice", c.slot)
		}
		seen[c.slot] = true
		conns = append(conns, c)
	}
	if got := tab.live(); got != len(conns) {
		t.Fatalf("live = %d, want %d", got, len(conns))
	}
	for _, c := range conns {
		tab.release(c)
	}
	if got := tab.live(); got != 0 {
		t.Fatalf("live after release = %d", got)
	}
	if got := len(tab.conns); got != 4*slabSize {
		t.Fatalf("table size %d, want %d", got, 4*slabSize)
	}
}

func TestSlotAllocReuseDoesNotAllocate(t *testing.T) {
	var tab slotTable
	w := &worker{}
	tab.release(tab.alloc(w))
	allocs := testing.AllocsPerRun(100, func() { tab.release(tab.alloc(w)) })
	if allocs != 0 {
		t.Fatalf("alloc/release allocates %v times", allocs)
	}
}
