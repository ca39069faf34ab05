package engine

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestEcho(t *testing.T) {
	t.Parallel()
	p := newLineProto()
	e, addr := start(t, testConfig(1, Reuseport), p, nil)
	c := dial(t, addr)
	for _, s := range []string{"hello\n", "world\n"} {
		if got := c.roundTrip(s); got != s {
			t.Fatalf("got %q, want %q", got, s)
		}
	}
	if got := c.roundTrip("quit\n"); got != "bye\n" {
		t.Fatalf("quit: got %q", got)
	}
	c.expectClosed(2 * time.Second)
	if ev := p.waitClose(t, 2*time.Second); ev.err != nil {
		t.Fatalf("close after quit: err %v, want nil", ev.err)
	}
	eventually(t, 2*time.Second, "stats", func() bool {
		s := totalStats(e)
		return s.Accepted == 1 && s.Closed == 1 && s.Active == 0
	})
}

// A request sent one byte at a time is kept across reads.
func TestPartialInputKept(t *testing.T) {
	t.Parallel()
	p := newLineProto()
	_, addr := start(t, testConfig(1, Reuseport), p, nil)
	c := dial(t, addr)
	msg := "one byte at a time\n"
	for i := range len(msg) {
		c.send(msg[i : i+1])
		time.Sleep(2 * time.Millisecond) // separate segments, separate reads
	}
	if got := c.line(); got != msg {
		t.Fatalf("got %q, want %q", got, msg)
	}
}

// Pipelined requests in one segment are all answered, in order.
func TestPipelining(t *testing.T) {
	t.Parallel()
	_, addr := start(t, testConfig(1, Reuseport), newLineProto(), nil)
	c := dial(t, addr)
	c.send("a\nb\nc\npart")
	for _, want := range []string{"a\n", "b\n", "c\n"} {
		if got := c.line(); got != want {
			t.Fatalf("got %q, want %q", got, want)
		}
	}
	c.send("ial\n")
	if got := c.line(); got != "partial\n" {
		t.Fatalf("got %q", got)
	}
}

// A response larger than the socket buffers hits EAGAIN; the loop waits
// for EPOLLOUT, does not read meanwhile, and completes it intact.
func TestLargeResponseSlowReader(t *testing.T) {
	t.Parallel()
	p := newLineProto()
	p.big = make([]byte, 16<<20)
	rand.Read(p.big)
	e, addr := start(t, testConfig(1, Reuseport), p, nil)
	c := dial(t, addr)
	c.send("big\nafter\n") // "after" must be answered after all of big
	eventually(t, 5*time.Second, "the output to stall", func() bool { return totalStats(e).Stalls > 0 })

	got := make([]byte, len(p.big))
	if _, err := io.ReadFull(c.r, got); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, p.big) {
		t.Fatal("big response corrupted")
	}
	if l := c.line(); l != "after\n" {
		t.Fatalf("after big: got %q", l)
	}
}

func TestSendFile(t *testing.T) {
	t.Parallel()
	p := newLineProto()
	data := make([]byte, 3<<20+17)
	rand.Read(data)
	path := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p.file, p.fileSize = f, int64(len(data))
	_, addr := start(t, testConfig(1, Reuseport), p, nil)
	c := dial(t, addr)
	for i := range 2 {
		if got := c.roundTrip("file\n"); got != "FILE\n" {
			t.Fatalf("header %q", got)
		}
		got := make([]byte, len(data))
		if _, err := io.ReadFull(c.r, got); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, data) {
			t.Fatalf("file %d corrupted", i)
		}
	}
	if got := c.roundTrip("next\n"); got != "next\n" {
		t.Fatalf("after file: %q", got)
	}
	eventually(t, 2*time.Second, "release", func() bool { return p.released.Load() == 2 })
}

// Connections spread over the workers, in both scheduler modes.
func TestWorkersSpread(t *testing.T) {
	t.Parallel()
	for _, b := range []Balancing{Reuseport, Fair} {
		t.Run(b.String(), func(t *testing.T) {
			t.Parallel()
			const workers, conns = 2, 16
			e, addr := start(t, testConfig(workers, b), newLineProto(), nil)
			seen := map[string]int{}
			for range conns {
				c := dial(t, addr) // kept open: fair mode balances active ones
				seen[c.roundTrip("worker\n")]++
			}
			if len(seen) != workers {
				t.Fatalf("connections went to %v, want %d workers", seen, workers)
			}
			for _, s := range e.Stats() {
				if s.Accepted == 0 || s.Active == 0 {
					t.Fatalf("worker %d idle: %+v", s.Worker, s)
				}
			}
			if b == Fair {
				for _, n := range seen {
					if n != conns/workers {
						t.Fatalf("fair mode split %v, want %d each", seen, conns/workers)
					}
				}
			}
		})
	}
}

// Past Capacity a connection is closed at once and counted; the others are
// still served.
func TestCapacity(t *testing.T) {
	t.Parallel()
	for _, b := range []Balancing{Reuseport, Fair} {
		t.Run(b.String(), func(t *testing.T) {
			t.Parallel()
			cfg := testConfig(1, b)
			cfg.Capacity = 2
			e, addr := start(t, cfg, newLineProto(), nil)
			c1, c2 := dial(t, addr), dial(t, addr)
			c1.roundTrip("1\n")
			c2.roundTrip("2\n")
			c3 := dial(t, addr)
			c3.send("3\n")
			c3.expectClosed(2 * time.Second)
			eventually(t, 2*time.Second, "rejection count", func() bool { return totalStats(e).Rejected == 1 })
			for _, c := range []*client{c1, c2} {
				if got := c.roundTrip("still\n"); got != "still\n" {
					t.Fatalf("got %q", got)
				}
			}
			c1.Close()
			eventually(t, 2*time.Second, "a free place", func() bool { return totalStats(e).Active == 1 })
			if got := dial(t, addr).roundTrip("4\n"); got != "4\n" {
				t.Fatalf("after a close: %q", got)
			}
		})
	}
}

func TestTimeouts(t *testing.T) {
	t.Parallel()
	const d = 300 * time.Millisecond
	tests := []struct {
		name  string
		kind  TimeoutKind
		setup func(c *client)
	}{
		{"silent new connection", TimeoutRead, func(c *client) {}},
		{"partial request", TimeoutRead, func(c *client) { c.send("no newline yet") }},
		{"keep-alive idle", TimeoutIdle, func(c *client) { c.roundTrip("x\n") }},
		{"request in progress", TimeoutRead, func(c *client) { c.send("more\n") }},
		{"reader stalls", TimeoutWrite, func(c *client) { c.send("big\n") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := newLineProto()
			p.big = make([]byte, 32<<20)
			cfg := testConfig(1, Reuseport)
			cfg.ReadTimeout, cfg.IdleTimeout, cfg.WriteTimeout = d, d, d
			e, addr := start(t, cfg, p, nil)
			c := dial(t, addr)
			begin := time.Now()
			tt.setup(c)
			ev := p.waitClose(t, 5*time.Second)
			elapsed := time.Since(begin)
			var te *TimeoutError
			if !errors.As(ev.err, &te) || te.Kind != tt.kind {
				t.Fatalf("closed with %v, want a %v timeout", ev.err, tt.kind)
			}
			if elapsed < d-20*time.Millisecond || elapsed > d+time.Second {
				t.Fatalf("timeout after %v, want about %v", elapsed, d)
			}
			if tt.kind != TimeoutWrite {
				c.expectClosed(2 * time.Second)
			}
			if s := totalStats(e); s.Timeouts != 1 {
				t.Fatalf("stats: %+v", s)
			}
		})
	}
}

// A handed-off connection sleeps in its goroutine while another connection
// of the same (single) worker is served promptly.
func TestHandoffDoesNotBlockLoop(t *testing.T) {
	t.Parallel()
	p := newLineProto()
	p.big = []byte("unused")
	handed := make(chan Detached, 1)
	onHandoff := func(d Detached) {
		defer d.Conn.Close()
		handed <- d
		time.Sleep(time.Second)
		buf := make([]byte, 5)
		n := copy(buf, d.Buffered)
		if _, err := io.ReadFull(d.Conn, buf[n:]); err != nil {
			return
		}
		fmt.Fprintf(d.Conn, "late:%s\n", buf)
	}
	e, addr := start(t, testConfig(1, Reuseport), p, onHandoff)
	slow, fast := dial(t, addr), dial(t, addr)
	fast.roundTrip("warm\n")

	slow.send("first\nhandoff\nex") // "ex" is read with the marker
	if got := slow.line(); got != "first\n" {
		t.Fatalf("before hand-off: %q", got)
	}
	var d Detached
	select {
	case d = <-handed:
	case <-time.After(2 * time.Second):
		t.Fatal("no hand-off")
	}
	if string(d.Buffered) != "ex" || d.Worker != 0 {
		t.Fatalf("hand-off buffered %q worker %d", d.Buffered, d.Worker)
	}
	slow.send("tra") // read by the goroutine, not the loop

	for i := range 3 {
		begin := time.Now()
		msg := fmt.Sprintf("ping %d\n", i)
		if got := fast.roundTrip(msg); got != msg {
			t.Fatalf("got %q", got)
		}
		if lat := time.Since(begin); lat > 200*time.Millisecond {
			t.Fatalf("loop blocked: round trip took %v", lat)
		}
	}
	if got := slow.line(); got != "late:extra\n" {
		t.Fatalf("handed-off reply %q", got)
	}
	s := totalStats(e)
	if s.HandedOff != 1 || s.Active != 1 {
		t.Fatalf("stats %+v", s)
	}
	select {
	case ev := <-p.closes:
		t.Fatalf("OnClose called for a handed-off connection: %+v", ev)
	default:
	}
}

// Shutdown closes idle connections at once, lets a connection with output
// queued and one with a request in progress finish, then returns.
func TestShutdownGraceful(t *testing.T) {
	t.Parallel()
	p := newLineProto()
	p.big = make([]byte, 8<<20)
	rand.Read(p.big)
	e, err := New(testConfig(2, Fair), p, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Listen("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	addr := e.Addrs()[0].String()
	served := make(chan error, 1)
	go func() { served <- e.Serve() }()

	idle, writing, reading := dial(t, addr), dial(t, addr), dial(t, addr)
	idle.roundTrip("hi\n")
	writing.send("big\n")
	reading.send("half a ")
	eventually(t, 5*time.Second, "big output to stall", func() bool { return totalStats(e).Stalls > 0 })

	shut := make(chan error, 1)
	go func() { shut <- e.Shutdown(context.Background()) }()
	idle.expectClosed(2 * time.Second)

	reading.send("request\n")
	if got := reading.line(); got != "half a request\n" {
		t.Fatalf("in-progress request: %q", got)
	}
	reading.expectClosed(2 * time.Second) // idle again, so closed

	got := make([]byte, len(p.big))
	if _, err := io.ReadFull(writing.r, got); err != nil || !bytes.Equal(got, p.big) {
		t.Fatalf("queued output not delivered intact: %v", err)
	}
	if err := <-shut; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if err := <-served; err != nil {
		t.Fatalf("Serve: %v", err)
	}
	if _, err := dialErr(addr); err == nil {
		t.Fatal("listener still accepting after Shutdown")
	}
	if err := e.Serve(); !errors.Is(err, ErrServerClosed) {
		t.Fatalf("Serve after Shutdown: %v", err)
	}
}

// When Shutdown's context ends, what is left is closed with ErrShutdown.
func TestShutdownForced(t *testing.T) {
	t.Parallel()
	p := newLineProto()
	e, err := New(testConfig(1, Reuseport), p, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Listen("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- e.Serve() }()
	c := dial(t, e.Addrs()[0].String())
	c.send("never finished")
	eventually(t, 2*time.Second, "the request to start", func() bool { return totalStats(e).Accepted == 1 })
	time.Sleep(50 * time.Millisecond) // let the loop read the partial line

	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if err := e.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shutdown = %v, want DeadlineExceeded", err)
	}
	if ev := p.waitClose(t, time.Second); !errors.Is(ev.err, ErrShutdown) {
		t.Fatalf("closed with %v, want ErrShutdown", ev.err)
	}
	c.expectClosed(time.Second)
	if err := <-served; err != nil {
		t.Fatalf("Serve: %v", err)
	}
}

func TestShutdownBeforeServe(t *testing.T) {
	t.Parallel()
	e, err := New(testConfig(2, Reuseport), newLineProto(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Listen("127.0.0.1:0", "127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	if n := len(e.Addrs()); n != 2 {
		t.Fatalf("%d addrs", n)
	}
	if err := e.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := e.Serve(); !errors.Is(err, ErrServerClosed) {
		t.Fatalf("Serve = %v", err)
	}
}

func TestListenErrors(t *testing.T) {
	t.Parallel()
	e, err := New(testConfig(1, Reuseport), newLineProto(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Shutdown(context.Background())
	if err := e.Serve(); !errors.Is(err, ErrNoListeners) {
		t.Fatalf("Serve without Listen = %v", err)
	}
	if err := e.Listen("127.0.0.1:bogus"); err == nil || !strings.Contains(err.Error(), "bogus") {
		t.Fatalf("Listen(bad port) = %v", err)
	}
}

func TestParseBalancing(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]Balancing{"": Reuseport, "reuseport": Reuseport, "fair": Fair} {
		if got, err := ParseBalancing(in); err != nil || got != want {
			t.Errorf("ParseBalancing(%q) = %v, %v", in, got, err)
		}
	}
	if _, err := ParseBalancing("roundrobin"); err == nil {
		t.Error("ParseBalancing(roundrobin) succeeded")
	}
}

func TestCapacityFromRlimit(t *testing.T) {
	t.Parallel()
	if got := capacityFor(20000, 2); got != (20000-256)/2 {
		t.Fatalf("capacityFor = %d", got)
	}
	if got := capacityFor(10, 4); got < 1 {
		t.Fatalf("capacityFor small = %d", got)
	}
}

// Output queued before a Handoff is flushed first; the goroutine's reply
// comes after it.
func TestHandoffAfterOutputDrains(t *testing.T) {
	t.Parallel()
	p := newLineProto()
	p.big = make([]byte, 8<<20)
	rand.Read(p.big)
	onHandoff := func(d Detached) {
		defer d.Conn.Close()
		io.WriteString(d.Conn, "handed\n")
	}
	e, addr := start(t, testConfig(1, Reuseport), p, onHandoff)
	c := dial(t, addr)
	c.send("big\nhandoff\n")
	eventually(t, 5*time.Second, "the output to stall", func() bool { return totalStats(e).Stalls > 0 })
	got := make([]byte, len(p.big))
	if _, err := io.ReadFull(c.r, got); err != nil || !bytes.Equal(got, p.big) {
		t.Fatalf("queued output: %v", err)
	}
	if l := c.line(); l != "handed\n" {
		t.Fatalf("after hand-off: %q", l)
	}
}

// A protocol that refuses a connection in OnOpen gets no OnClose for it.
func TestOnOpenRefuses(t *testing.T) {
	t.Parallel()
	p := newLineProto()
	p.reject = true
	e, addr := start(t, testConfig(1, Fair), p, nil)
	c := dial(t, addr)
	c.send("x\n")
	c.expectClosed(2 * time.Second)
	eventually(t, 2*time.Second, "stats", func() bool {
		s := totalStats(e)
		return s.Accepted == 1 && s.Closed == 1 && s.Active == 0
	})
	select {
	case ev := <-p.closes:
		t.Fatalf("OnClose for a refused connection: %+v", ev)
	default:
	}
}

// A wildcard address listens on IPv4 and, where it exists, IPv6.
func TestListenWildcardDualStack(t *testing.T) {
	t.Parallel()
	_, addr := startOn(t, ":0", Config{Workers: 1, DeferAccept: -1}, newLineProto(), nil)
	_, port, _ := net.SplitHostPort(addr)
	hosts := []string{"127.0.0.1"}
	if ipv6Available() {
		if ln, err := net.Listen("tcp", "[::1]:0"); err == nil {
			ln.Close()
			hosts = append(hosts, "::1")
		}
	}
	for _, h := range hosts {
		c := dial(t, net.JoinHostPort(h, port))
		if got, want := c.roundTrip("addr\n"), c.LocalAddr().String()+" "+c.RemoteAddr().String()+"\n"; got != want {
			t.Fatalf("%s: peer address %q, want %q", h, got, want)
		}
	}
}

// Close with input left unread lingers: the peer reads the whole response
// and then the end of the stream, not a reset, while what it still sends
// is dropped; OnClose then gets nil.
func TestLingeringClose(t *testing.T) {
	t.Parallel()
	p := newLineProto()
	_, addr := start(t, testConfig(1, Reuseport), p, nil)
	c := dial(t, addr)
	junk := bytes.Repeat([]byte("j"), 200<<10)
	c.send("quit\n" + string(junk[:64<<10]))
	if got := c.line(); got != "bye\n" {
		t.Fatalf("got %q", got)
	}
	c.send(string(junk)) // dropped by the lingering loop, not refused
	var buf [16]byte
	if n, err := c.r.Read(buf[:]); err != io.EOF {
		t.Fatalf("after the response: %d bytes, %v; want EOF", n, err)
	}
	c.Close()
	if ev := p.waitClose(t, 3*time.Second); ev.err != nil {
		t.Fatalf("OnClose(%v), want nil", ev.err)
	}
}

// A lingering close ends after LingerTimeout when the peer neither sends
// nor closes.
func TestLingerTimeout(t *testing.T) {
	t.Parallel()
	p := newLineProto()
	e, addr := start(t, testConfig(1, Reuseport), p, nil)
	c := dial(t, addr)
	begin := time.Now()
	c.send("quit\nrest")
	if got := c.line(); got != "bye\n" {
		t.Fatalf("got %q", got)
	}
	if ev := p.waitClose(t, 3*time.Second); ev.err != nil {
		t.Fatalf("OnClose(%v), want nil", ev.err)
	}
	if d := time.Since(begin); d < LingerTimeout-100*time.Millisecond || d > LingerTimeout+time.Second {
		t.Fatalf("lingered %v, want about %v", d, LingerTimeout)
	}
	if s := totalStats(e); s.Timeouts != 0 {
		t.Fatalf("a lingering close counted as a timeout: %+v", s)
	}
}

// The tag set on the loop goes with the connection to the hand-off.
func TestTagHandedOff(t *testing.T) {
	t.Parallel()
	p := newLineProto()
	handed := make(chan Detached, 1)
	_, addr := start(t, testConfig(1, Reuseport), p, func(d Detached) { d.Conn.Close(); handed <- d })
	c := dial(t, addr)
	c.send("tag\nhandoff\n")
	select {
	case d := <-handed:
		if d.Tag != 42 {
			t.Fatalf("Tag %d, want 42", d.Tag)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("no hand-off")
	}
}
