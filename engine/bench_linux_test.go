package engine

import (
	"context"
	"io"
	"net"
	"net/netip"
	"testing"

	"golang.org/x/sys/unix"
)

var httpRequest = []byte("GET / HTTP/1.1\r\nHost: bench\r\n\r\n")

// keepAliveClient runs one request/response exchange per call on a single
// keep-alive connection.
type keepAliveClient struct {
	nc  net.Conn
	buf []byte
}

func newKeepAliveClient(tb testing.TB, addr string) *keepAliveClient {
	tb.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { nc.Close() })
	return &keepAliveClient{nc: nc, buf: make([]byte, len(httpResponse))}
}

func (k *keepAliveClient) roundTrip(tb testing.TB) {
	if _, err := k.nc.Write(httpRequest); err != nil {
		tb.Fatal(err)
	}
	if _, err := io.ReadFull(k.nc, k.buf); err != nil {
		tb.Fatal(err)
	}
}

// A keep-alive request costs no allocation in the whole process: the loop's
// read → OnData → write path allocates nothing (nor does the client).
func TestKeepAliveRequestDoesNotAllocate(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	_, addr := start(t, testConfig(1, Reuseport), newLineProto(), nil)
	k := newKeepAliveClient(t, addr)
	k.roundTrip(t) // the connection's first request warms the pools
	if allocs := testing.AllocsPerRun(500, func() { k.roundTrip(t) }); allocs != 0 {
		t.Fatalf("%v allocations per keep-alive request", allocs)
	}
}

// BenchmarkKeepAlive measures one keep-alive request/response over
// loopback through the loop (client included).
func BenchmarkKeepAlive(b *testing.B) {
	_, addr := start(b, testConfig(1, Reuseport), newLineProto(), nil)
	k := newKeepAliveClient(b, addr)
	k.roundTrip(b)
	b.ReportAllocs()
	for b.Loop() {
		k.roundTrip(b)
	}
}

// loopHarness drives one worker's read → OnData → write path directly,
// without epoll_wait: the engine's end of a socket pair is opened on a
// worker of an engine that is not serving.
type loopHarness struct {
	w    *worker
	c    *Conn
	peer int
	buf  []byte
}

func newLoopHarness(tb testing.TB) *loopHarness {
	tb.Helper()
	e, err := New(testConfig(1, Reuseport), newLineProto(), nil)
	if err != nil {
		tb.Fatal(err)
	}
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		tb.Fatal(err)
	}
	w := e.workers[0]
	w.stats.active.Add(1)
	w.open(fds[0], netip.AddrPort{})
	h := &loopHarness{w: w, c: w.conns.conns[0], peer: fds[1], buf: make([]byte, len(httpResponse))}
	tb.Cleanup(func() {
		w.closeConn(h.c, nil)
		unix.Close(h.peer)
		e.Shutdown(context.Background())
	})
	return h
}

func (h *loopHarness) request(tb testing.TB) {
	if _, err := unix.Write(h.peer, httpRequest); err != nil {
		tb.Fatal(err)
	}
	h.w.onReadable(h.c)
	if n, err := unix.Read(h.peer, h.buf); err != nil || n != len(httpResponse) {
		tb.Fatalf("read %d, %v", n, err)
	}
}

// The loop's per-request path allocates nothing, measured without a client.
func TestLoopPathDoesNotAllocate(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	h := newLoopHarness(t)
	h.request(t)
	if allocs := testing.AllocsPerRun(1000, func() { h.request(t) }); allocs != 0 {
		t.Fatalf("%v allocations per request on the loop path", allocs)
	}
}

// BenchmarkLoopPath measures read → OnData → writev → timer for one
// keep-alive request, without epoll_wait or a Go client.
func BenchmarkLoopPath(b *testing.B) {
	h := newLoopHarness(b)
	h.request(b)
	b.ReportAllocs()
	for b.Loop() {
		h.request(b)
	}
}

// Accepting a connection allocates nothing once the worker's slab has a
// free Conn (the issue allows one): the peer address lands in the worker's
// accept buffer and the buffers come from the pools.
func TestAcceptDoesNotAllocate(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	e, err := New(testConfig(1, Reuseport), newLineProto(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Shutdown(context.Background())
	lfd, err := listenTCP(netip.MustParseAddrPort("127.0.0.1:0"), false, listenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(lfd)
	bound, err := boundAddr(lfd)
	if err != nil {
		t.Fatal(err)
	}
	sa := &unix.SockaddrInet4{Port: int(bound.Port()), Addr: bound.Addr().As4()}
	w := e.workers[0]
	cycle := func() {
		cfd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		if err := unix.Connect(cfd, sa); err != nil {
			t.Fatal(err)
		}
		w.acceptFrom(lfd)
		for _, c := range w.conns.conns {
			if c.state != stateFree {
				w.closeConn(c, nil)
			}
		}
		unix.Close(cfd)
	}
	cycle()
	if allocs := testing.AllocsPerRun(200, cycle); allocs != 0 {
		t.Fatalf("%v allocations per accepted connection", allocs)
	}
	if s := w.stats.snapshot(0); s.Accepted != 202 || s.Active != 0 {
		t.Fatalf("stats %+v", s)
	}
}
