//go:build !race

package server

import (
	"bytes"
	"io"
	"net"
	"sync/atomic"
	"testing"

	"gibbon/config"
	"gibbon/stage"
)

// keepAliveClient sends the same request again and again on one
// connection and reads each response into a reused buffer: it allocates
// nothing per request, so that allocations counted around it are the
// server's.
type keepAliveClient struct {
	nc   net.Conn
	req  []byte
	resp []byte // the first response; later ones have the same length
	buf  []byte
}

func newKeepAliveClient(tb testing.TB, addr, req string) *keepAliveClient {
	tb.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { nc.Close() })
	k := &keepAliveClient{nc: nc, req: []byte(req), buf: make([]byte, 4096)}
	k.resp = k.first(tb)
	return k
}

// first reads the first response whole: head and Content-Length body.
func (k *keepAliveClient) first(tb testing.TB) []byte {
	tb.Helper()
	if _, err := k.nc.Write(k.req); err != nil {
		tb.Fatal(err)
	}
	var got []byte
	for {
		n, err := k.nc.Read(k.buf)
		if err != nil {
			tb.Fatal(err)
		}
		got = append(got, k.buf[:n]...)
		if i := bytes.Index(got, []byte("\r\n\r\n")); i >= 0 && bytes.HasSuffix(got, []byte(testFiles["hello.txt"])) {
			return got
		}
	}
}

func (k *keepAliveClient) roundTrip(tb testing.TB) {
	if _, err := k.nc.Write(k.req); err != nil {
		tb.Fatal(err)
	}
	if _, err := io.ReadFull(k.nc, k.buf[:len(k.resp)]); err != nil {
		tb.Fatal(err)
	}
}

// unlimitedKeepAlive lifts MaxKeepAliveRequest for long runs.
func unlimitedKeepAlive(c *config.Config) { c.Server.MaxKeepAliveRequest = 0 }

const helloRequest = "GET /hello.txt HTTP/1.1\r\nHost: localhost\r\n\r\n"

// TestLoopKeepAliveDoesNotAllocate checks that a keep-alive GET of a
// cached file served from an event loop allocates nothing, in the server
// or the engine.
func TestLoopKeepAliveDoesNotAllocate(t *testing.T) {
	ts := start(t, epollDriver(t, "reuseport"), unlimitedKeepAlive)
	k := newKeepAliveClient(t, ts.addr, helloRequest)
	for range 100 { // warm up: cache entry, pools, buffers
		k.roundTrip(t)
	}
	if n := testing.AllocsPerRun(2000, func() { k.roundTrip(t) }); n != 0 {
		t.Fatalf("%v allocations per request, want 0", n)
	}
}

// BenchmarkLoopKeepAlive measures a keep-alive GET of a small file on the
// epoll driver, client included (run with -benchmem).
func BenchmarkLoopKeepAlive(b *testing.B) {
	for _, d := range []testDriver{epollDriver(b, "reuseport"), {"goroutine", Options{Driver: DriverGoroutine}}} {
		for _, plugins := range []struct {
			name   string
			mutate func(*config.Config)
		}{{"", unlimitedKeepAlive}, {"+observer", withCounter}} {
			b.Run(d.name+plugins.name, func(b *testing.B) {
				ts := start(b, d, plugins.mutate)
				k := newKeepAliveClient(b, ts.addr, helloRequest)
				b.ReportAllocs()
				b.ResetTimer()
				for b.Loop() {
					k.roundTrip(b)
				}
			})
		}
	}
}

// counter is a test plugin observing stage 40 without allocating: it
// measures what the server adds per request when a plugin observes.
type counter struct{ n atomic.Int64 }

func init() { stage.Register("counter", func() stage.Plugin { return new(counter) }) }

func (p *counter) Decode(*stage.PluginConfig) error         { return nil }
func (p *counter) OnDone(r *stage.Request, o stage.Outcome) { p.n.Add(1) }

// withCounter loads the counter plugin.
func withCounter(c *config.Config) {
	unlimitedKeepAlive(c)
	c.Plugins = &config.Section{Name: "PLUGINS", Entries: []config.Entry{{Key: "Load", Value: "counter"}}}
}

// TestLoopObserverDoesNotAllocate checks that with a stage-40 observer
// loaded the keep-alive GET still allocates nothing per request: the
// stage.Request is the worker's, its strings are cached per target.
func TestLoopObserverDoesNotAllocate(t *testing.T) {
	ts := start(t, epollDriver(t, "reuseport"), withCounter)
	k := newKeepAliveClient(t, ts.addr, helloRequest)
	for range 100 {
		k.roundTrip(t)
	}
	if n := testing.AllocsPerRun(2000, func() { k.roundTrip(t) }); n != 0 {
		t.Fatalf("%v allocations per request, want 0", n)
	}
	if c := ts.Pipeline().Plugin("counter").(*counter); c.n.Load() < 2000 {
		t.Fatalf("observer saw %d requests", c.n.Load())
	}
}
