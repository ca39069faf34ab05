package server

import (
	"context"
	"testing"
)

// TestReqContextReuse: a request context whose Done channel was asked for
// is never reused for the next request (goroutines started by
// context.AfterFunc may still read its Done and Err), one nobody asked is.
func TestReqContextReuse(t *testing.T) {
	c := &conn{srv: &Server{baseCtx: context.Background()}}
	c.rctx = &c.rctxBuf

	quiet := c.rctx.next(c, false)
	quiet.end()
	if quiet.next(c, false) != quiet {
		t.Error("a context nobody asked Done of was not reused")
	}
	quiet.end()

	first := quiet.next(c, false)
	stop := context.AfterFunc(first, func() {})
	first.end()
	second := first.next(c, false)
	if second == first {
		t.Fatal("a context whose Done was asked for is reused")
	}
	if first.Err() != context.Canceled {
		t.Errorf("first request's context Err = %v after the next began, want Canceled", first.Err())
	}
	select {
	case <-first.Done():
	default:
		t.Error("first request's Done not closed after it ended")
	}
	stop()
	second.end()
}
