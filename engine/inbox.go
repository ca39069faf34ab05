package engine

import (
	"net/netip"
	"sync/atomic"
)

// inboxItem is an accepted socket on its way to a worker (fair mode), or,
// when run is set, a call to make on the worker's loop ([Engine.Each]).
type inboxItem struct {
	fd    int
	raddr netip.AddrPort
	run   func(w *worker)
}

// inbox is a bounded lock-free queue with many producers and one consumer
// (the worker loop), after Dmitry Vyukov's bounded MPMC queue: each cell
// carries a sequence number that says whose turn it is. Pushing and popping
// allocate nothing. The producer wakes the loop through the worker's
// eventfd after a successful push.
type inbox struct {
	tail  atomic.Uint64 // next position to push (producers)
	_     [56]byte      // keep producers' and consumer's counters on separate cache lines
	head  uint64        // next position to pop (consumer only)
	cells []inboxCell
	mask  uint64
}

type inboxCell struct {
	seq  atomic.Uint64
	item inboxItem
}

// newInbox returns an inbox holding up to size items (a power of two).
func newInbox(size int) *inbox {
	q := &inbox{cells: make([]inboxCell, size), mask: uint64(size - 1)}
	for i := range q.cells {
		q.cells[i].seq.Store(uint64(i))
	}
	return q
}

// push adds it; false means the inbox is full. Safe for concurrent use.
func (q *inbox) push(it inboxItem) bool {
	pos := q.tail.Load()
	for {
		cell := &q.cells[pos&q.mask]
		seq := cell.seq.Load()
		switch dif := int64(seq - pos); {
		case dif == 0:
			if q.tail.CompareAndSwap(pos, pos+1) {
				cell.item = it
				cell.seq.Store(pos + 1)
				return true
			}
			pos = q.tail.Load()
		case dif < 0:
			return false
		default:
			pos = q.tail.Load()
		}
	}
}

// pop removes the oldest item. Only the owning loop may call it.
func (q *inbox) pop() (inboxItem, bool) {
	cell := &q.cells[q.head&q.mask]
	if cell.seq.Load() != q.head+1 {
		return inboxItem{}, false
	}
	it := cell.item
	cell.item = inboxItem{}
	cell.seq.Store(q.head + q.mask + 1)
	q.head++
	return it, true
}
