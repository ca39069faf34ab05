//go:build !race

package server

import (
	"io"
	"net"
	"testing"
	"time"

	"gibbon/http1"
	"gibbon/internal/clock"
	"gibbon/stage"
)

// TestRespondAllocs checks that the respond path allocates nothing for a
// keep-alive GET of a cached file, from memory or from an open file, nor
// for a response without the static handler.
func TestRespondAllocs(t *testing.T) {
	rs := newResponder(t, testConfig(t))
	var req http1.Request
	var rsp response
	dst := make([]byte, 0, 1024)
	run := func(raw string) float64 {
		parse(t, raw, &req)
		return testing.AllocsPerRun(200, func() {
			dst = rs.respond(dst[:0], &req, &rsp)
			rsp.release()
		})
	}
	for _, tc := range []struct{ name, req string }{
		{"OPTIONS *", "OPTIONS * HTTP/1.1\r\nHost: localhost\r\n\r\n"},
		{"redirect", "GET /hello.txt HTTP/1.1\r\nHost: old.test\r\n\r\n"},
		{"GET in memory", "GET /hello.txt HTTP/1.1\r\nHost: localhost\r\n\r\n"},
		{"GET open file", "GET /big.bin HTTP/1.1\r\nHost: localhost\r\n\r\n"},
	} {
		if n := run(tc.req); n != 0 {
			t.Errorf("%s: %v allocs, want 0", tc.name, n)
		}
	}
}

// helloRouter routes every request to a blocking handler that answers
// "Hello, World!" as gibbon's native hello does.
type helloRouter struct{ rule stage.Rule }

func (h *helloRouter) Route(*stage.Request) *stage.Rule { return &h.rule }
func (h *helloRouter) Blocking() bool                   { return true }
func (h *helloRouter) ServeGibbon(w stage.ResponseWriter, _ *stage.Request) error {
	w.Header().Set("Content-Type", "text/plain")
	_, err := w.Write(hello)
	return err
}

var hello = []byte("Hello, World!")

// loopbackConn is a net.Conn whose every Read returns one keep-alive GET,
// n times, then io.EOF; writes are counted and dropped.
type loopbackConn struct {
	net.Conn // nil: other methods are not called
	req      []byte
	n        int
	written  int
}

func (c *loopbackConn) Read(p []byte) (int, error) {
	if c.n == 0 {
		return 0, io.EOF
	}
	c.n--
	return copy(p, c.req), nil
}

func (c *loopbackConn) Write(p []byte) (int, error)      { c.written += len(p); return len(p), nil }
func (c *loopbackConn) Close() error                     { return nil }
func (c *loopbackConn) SetDeadline(time.Time) error      { return nil }
func (c *loopbackConn) SetReadDeadline(time.Time) error  { return nil }
func (c *loopbackConn) SetWriteDeadline(time.Time) error { return nil }
func (c *loopbackConn) RemoteAddr() net.Addr {
	return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1}
}
func (c *loopbackConn) LocalAddr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 2} }

// BenchmarkBlockingHello measures the goroutine driver's own work for a
// keep-alive request answered by a blocking handler (read, parse, stages,
// route, context, streamWriter, write), without the system calls: the
// connection is a loopbackConn.
func BenchmarkBlockingHello(b *testing.B) {
	h := &helloRouter{}
	h.rule = stage.Rule{Plugin: "bench", Handler: h}
	cfg := testConfig(b)
	cfg.Server.MaxKeepAliveRequest = 0
	s, err := New(cfg, Options{Driver: DriverGoroutine, Logger: discardLogger(), Router: h})
	if err != nil {
		b.Fatal(err)
	}
	s.setClock(clock.New())
	defer s.clock.Stop()
	lc := &loopbackConn{req: []byte("GET /hello HTTP/1.1\r\nHost: localhost\r\n\r\n"), n: b.N}
	c := newConn(s, lc)
	b.ReportAllocs()
	b.ResetTimer()
	if !c.openStages() || !s.track(c) {
		b.Fatal("connection refused")
	}
	c.serve()
	if lc.written == 0 || c.rs.served != b.N {
		b.Fatalf("%d requests served of %d", c.rs.served, b.N)
	}
}
