package engine

import (
	"net/netip"
	"runtime"
	"sync"
	"testing"
)

func TestInboxFIFOAndFull(t *testing.T) {
	t.Parallel()
	q := newInbox(4)
	for i := range 4 {
		if !q.push(inboxItem{fd: i}) {
			t.Fatalf("push %d failed", i)
		}
	}
	if q.push(inboxItem{fd: 9}) {
		t.Fatal("push into a full inbox succeeded")
	}
	for i := range 4 {
		it, ok := q.pop()
		if !ok || it.fd != i {
			t.Fatalf("pop = %v,%v want %d", it.fd, ok, i)
		}
	}
	if _, ok := q.pop(); ok {
		t.Fatal("pop from an empty inbox succeeded")
	}
	if !q.push(inboxItem{fd: 5}) { // wraps around
		t.Fatal("push after drain failed")
	}
}

func TestInboxConcurrentProducers(t *testing.T) {
	const producers, each = 4, 2000
	q := newInbox(64)
	var wg sync.WaitGroup
	for p := range producers {
		wg.Go(func() {
			for i := range each {
				it := inboxItem{fd: p*each + i, raddr: netip.MustParseAddrPort("127.0.0.1:1")}
				for !q.push(it) {
					runtime.Gosched()
				}
			}
		})
	}
	seen := make([]bool, producers*each)
	last := make([]int, producers)
	for i := range last {
		last[i] = -1
	}
	for got := 0; got < producers*each; {
		it, ok := q.pop()
		if !ok {
			runtime.Gosched()
			continue
		}
		if seen[it.fd] {
			t.Fatalf("item %d popped twice", it.fd)
		}
		seen[it.fd] = true
		p, i := it.fd/each, it.fd%each
		if i <= last[p] {
			t.Fatalf("producer %d: item %d after %d", p, i, last[p])
		}
		last[p] = i
		got++
	}
	wg.Wait()
}
