package server

import (
	"context"
	"errors"
	"net"
	"os"
	"testing"
	"time"
)

// fakeHijacked is a registered hijacked connection; goAway runs as its
// GoAway.
type fakeHijacked struct {
	nc     net.Conn
	goAway func()
}

func (f *fakeHijacked) NetConn() net.Conn { return f.nc }
func (f *fakeHijacked) GoAway()           { f.goAway() }

// TestShutdownHijacked registers hijacked connections the way a parked
// WebSocket does: Shutdown calls each one's GoAway and waits for its
// Untrack; one that is never untracked is closed when the grace period
// ends.
func TestShutdownHijacked(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		answers bool // GoAway closes the connection and untracks it
		want    error
	}{
		{"goes away", true, nil},
		{"stalls", false, context.DeadlineExceeded},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, err := New(testConfig(t), Options{Driver: DriverGoroutine, Logger: discardLogger()})
			if err != nil {
				t.Fatal(err)
			}
			reg := hijackRegistry{s}
			nc, peer := net.Pipe()
			defer peer.Close()
			called := make(chan struct{})
			h := &fakeHijacked{nc: nc}
			h.goAway = func() {
				close(called)
				if tc.answers {
					nc.Close()
					reg.Untrack(h)
				}
			}
			reg.Track(h)
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			if err := s.Shutdown(ctx); !errors.Is(err, tc.want) {
				t.Errorf("Shutdown: %v, want %v", err, tc.want)
			}
			<-called
			peer.SetReadDeadline(time.Now().Add(5 * time.Second))
			if _, err := peer.Read(make([]byte, 1)); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
				t.Errorf("the hijacked connection is open after Shutdown: %v", err)
			}
			reg.Untrack(h) // again, and after Shutdown: harmless

			late, _ := net.Pipe()
			lateCalled := make(chan struct{})
			reg.Track(&fakeHijacked{nc: late, goAway: func() { close(lateCalled) }})
			select {
			case <-lateCalled:
			case <-time.After(5 * time.Second):
				t.Error("a connection registered after Shutdown began was not sent away")
			}
		})
	}
}
