package engine

// slotTable is a worker's connection table and its slab of Conn structs.
//
// A Conn keeps its slot for life; a closed Conn goes on the free list and is
// reused by a later connection with its generation bumped. The epoll event
// of a connection carries (slot, generation), so lookup is an index, never
// a map, and an event queued for a connection that has since been closed
// (and whose slot or fd may already be reused) is recognised as stale.
type slotTable struct {
	conns []*Conn
	free  []uint32
}

// slabSize is how many Conns one allocation provides.
const slabSize = 64

// alloc returns a free Conn of w, marked open.
func (t *slotTable) alloc(w *worker) *Conn {
	if len(t.free) == 0 {
		t.grow(w)
	}
	slot := t.free[len(t.free)-1]
	t.free = t.free[:len(t.free)-1]
	c := t.conns[slot]
	c.state = stateOpen
	return c
}

// grow adds one slab of Conns to the table.
func (t *slotTable) grow(w *worker) {
	slab := make([]Conn, slabSize)
	base := uint32(len(t.conns))
	for i := range slab {
		slab[i].w = w
		slab[i].slot = base + uint32(i)
		t.conns = append(t.conns, &slab[i])
	}
	// Hand out the lowest slots first.
	for i := slabSize - 1; i >= 0; i-- {
		t.free = append(t.free, base+uint32(i))
	}
}

// release marks c free, bumps its generation and returns its slot to the
// free list. The caller has already cleared c's resources.
func (t *slotTable) release(c *Conn) {
	c.state = stateFree
	c.gen++
	t.free = append(t.free, c.slot)
}

// lookup returns the open Conn in slot with generation gen, or nil if the
// slot is unknown, free, or holds a later connection.
func (t *slotTable) lookup(slot, gen uint32) *Conn {
	if int(slot) >= len(t.conns) {
		return nil
	}
	c := t.conns[slot]
	if c.gen != gen || c.state == stateFree {
		return nil
	}
	return c
}

// live counts the open connections (for tests and shutdown).
func (t *slotTable) live() int { return len(t.conns) - len(t.free) }
