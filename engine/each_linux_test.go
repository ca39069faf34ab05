package engine

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"
)

// holdProto is lineProto whose OnData, for a line "hold", stays in the
// call until released: a loop busy in a Protocol call.
type holdProto struct {
	*lineProto
	inside  chan int      // the worker of the held call, once in it
	release chan struct{} // ends the held call
	mu      sync.Mutex
	log     []string // guarded by mu
}

func (p *holdProto) OnData(c *Conn, in []byte) (int, Action) {
	if !bytes.HasPrefix(in, []byte("hold\n")) {
		return p.lineProto.OnData(c, in)
	}
	p.inside <- c.Worker()
	<-p.release
	p.record(fmt.Sprintf("call on %d ended", c.Worker()))
	c.WriteString("held\n")
	return len("hold\n"), Continue
}

func (p *holdProto) record(s string) {
	p.mu.Lock()
	p.log = append(p.log, s)
	p.mu.Unlock()
}

// TestEachBeforeServe checks that Each runs its function for every
// worker on the caller's goroutine when no loop runs yet.
func TestEachBeforeServe(t *testing.T) {
	t.Parallel()
	e, err := New(testConfig(2, Reuseport), newLineProto(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Shutdown(context.Background())
	var ran []int
	e.Each(func(w int) { ran = append(ran, w) })
	if slices.Sort(ran); !slices.Equal(ran, []int{0, 1}) {
		t.Errorf("Each ran for workers %v, want [0 1]", ran)
	}
}

// TestEachWaitsForCalls checks that Each, while serving, runs its
// function once on every worker's loop and returns only after a Protocol
// call in progress when it began has returned: what Reload relies on to
// retire a configuration.
func TestEachWaitsForCalls(t *testing.T) {
	t.Parallel()
	p := &holdProto{lineProto: newLineProto(), inside: make(chan int, 1), release: make(chan struct{})}
	e, addr := start(t, testConfig(2, Reuseport), p, nil)
	c := dial(t, addr)
	c.send("hold\n")
	var held int
	select {
	case held = <-p.inside:
	case <-time.After(5 * time.Second):
		t.Fatal("the hold call did not begin")
	}
	returned := make(chan struct{})
	go func() {
		e.Each(func(w int) { p.record(fmt.Sprintf("each on %d", w)) })
		close(returned)
	}()
	select {
	case <-returned:
		t.Fatal("Each returned while a loop was in a Protocol call")
	case <-time.After(50 * time.Millisecond):
	}
	close(p.release)
	select {
	case <-returned:
	case <-time.After(5 * time.Second):
		t.Fatal("Each did not return once the call ended")
	}
	if got := c.line(); got != "held\n" {
		t.Fatalf("held call answered %q", got)
	}
	p.mu.Lock()
	log := slices.Clone(p.log)
	p.mu.Unlock()
	end := slices.Index(log, fmt.Sprintf("call on %d ended", held))
	mine := slices.Index(log, fmt.Sprintf("each on %d", held))
	other := slices.Index(log, fmt.Sprintf("each on %d", 1-held))
	if end < 0 || mine < end || other < 0 || len(log) != 3 {
		t.Errorf("events %q: want Each once per worker, on worker %d after its call ended", log, held)
	}
}
