package server

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"gibbon/config"
	"gibbon/engine"
	"gibbon/http1"
)

// epollDriver is the epoll test driver with the given balancing.
func epollDriver(t testing.TB, balancing string) testDriver {
	t.Helper()
	if !engine.Supported() {
		t.Skip("no epoll engine on this system")
	}
	return testDriver{"epoll-" + balancing, Options{Driver: DriverEpoll, Balancing: balancing}}
}

// stats returns the engine's per-worker counters.
func (ts *testServer) stats() []engine.WorkerStats {
	ts.mu.Lock()
	e := ts.eng
	ts.mu.Unlock()
	return e.Stats()
}

func (ts *testServer) total() engine.WorkerStats {
	var s engine.WorkerStats
	for _, w := range ts.stats() {
		s.Active += w.Active
		s.Accepted += w.Accepted
		s.Rejected += w.Rejected
		s.HandedOff += w.HandedOff
		s.Timeouts += w.Timeouts
	}
	return s
}

// getHello sends a GET of /hello.txt on rc and checks the answer.
func getHello(t *testing.T, rc *rawConn) {
	t.Helper()
	rc.send("GET /hello.txt HTTP/1.1\r\nHost: a\r\n\r\n")
	if resp, body := rc.response("GET"); resp.StatusCode != 200 || body != testFiles["hello.txt"] {
		t.Fatalf("%d %q", resp.StatusCode, body)
	}
}

// A request routed to a blocking handler is handed off with its
// connection (pipelined bytes included) and sleeps in a goroutine, while
// the single worker loop goes on serving other connections promptly.
func TestHandoffDoesNotBlockLoop(t *testing.T) {
	t.Parallel()
	const sleep = time.Second
	ts := start(t, epollDriver(t, "reuseport"), func(c *config.Config) { c.Server.Workers = 1 })
	slow := func(req *http1.Request) bool { return string(req.Path) == "/hello.txt" && req.Header("X-Slow") != nil }
	ts.testHookBlocking.Store(&slow)
	handle := func(req *http1.Request) {
		if req.Header("X-Slow") != nil {
			time.Sleep(sleep)
		}
	}
	ts.testHookHandle.Store(&handle)

	fast := dial(t, ts.addr)
	getHello(t, fast)
	rc := dial(t, ts.addr)
	begin := time.Now()
	rc.send("GET /hello.txt HTTP/1.1\r\nHost: a\r\nX-Slow: 1\r\n\r\nGET /digits.txt HTTP/1.1\r\nHost: a\r\n\r\n")
	time.Sleep(50 * time.Millisecond)
	for range 5 {
		t0 := time.Now()
		getHello(t, fast)
		if d := time.Since(t0); d > sleep/4 {
			t.Fatalf("the loop was blocked: a request took %v", d)
		}
	}
	if resp, body := rc.response("GET"); resp.StatusCode != 200 || body != testFiles["hello.txt"] {
		t.Fatalf("handed-off request: %d %q", resp.StatusCode, body)
	}
	if d := time.Since(begin); d < sleep {
		t.Fatalf("handed-off request answered after %v, before the handler's sleep", d)
	}
	if resp, body := rc.response("GET"); resp.StatusCode != 200 || body != testFiles["digits.txt"] {
		t.Fatalf("pipelined after the hand-off: %d %q", resp.StatusCode, body)
	}
	getHello(t, rc) // the goroutine serves the rest of the connection
	if s := ts.total(); s.HandedOff != 1 || s.Accepted != 2 {
		t.Fatalf("stats %+v", s)
	}
}

// A body too large to wait for on the loop goes to a goroutine, which
// discards it; the connection stays in step.
func TestLargeBodyHandedOff(t *testing.T) {
	t.Parallel()
	ts := start(t, epollDriver(t, "reuseport"), func(c *config.Config) { c.Server.MaxRequestSize = 0 })
	rc := dial(t, ts.addr)
	body := strings.Repeat("b", 300<<10)
	rc.send("POST /hello.txt HTTP/1.1\r\nHost: a\r\nContent-Length: 307200\r\n\r\n" + body)
	if resp, _ := rc.response("POST"); resp.StatusCode != 405 {
		t.Fatalf("status %d, want 405", resp.StatusCode)
	}
	getHello(t, rc)
	if s := ts.total(); s.HandedOff != 1 {
		t.Fatalf("stats %+v", s)
	}
}

// Workers N makes N loops, and fair balancing spreads connections over
// them.
func TestWorkersAreLoops(t *testing.T) {
	t.Parallel()
	for _, b := range []string{"reuseport", "fair"} {
		t.Run(b, func(t *testing.T) {
			t.Parallel()
			ts := start(t, epollDriver(t, b), func(c *config.Config) { c.Server.Workers = 3 })
			for range 6 {
				getHello(t, dial(t, ts.addr))
			}
			st := ts.stats()
			if len(st) != 3 {
				t.Fatalf("%d workers, want 3", len(st))
			}
			var sum uint64
			for _, w := range st {
				sum += w.Accepted
				if b == "fair" && w.Accepted != 2 {
					t.Errorf("fair: worker %d accepted %d, want 2: %+v", w.Worker, w.Accepted, st)
				}
			}
			if sum != 6 {
				t.Fatalf("accepted %d, want 6", sum)
			}
		})
	}
}

// Past WorkerCapacity a new connection is closed at once and counted;
// the connections already open keep being served.
func TestWorkerCapacity(t *testing.T) {
	t.Parallel()
	ts := start(t, epollDriver(t, "reuseport"), func(c *config.Config) {
		c.Server.Workers = 1
		c.Server.WorkerCapacity = 2
	})
	a, b := dial(t, ts.addr), dial(t, ts.addr)
	getHello(t, a)
	getHello(t, b)
	extra := dial(t, ts.addr)
	extra.nc.Write([]byte("GET /hello.txt HTTP/1.1\r\nHost: a\r\n\r\n"))
	extra.expectClosed(2 * time.Second)
	getHello(t, a)
	getHello(t, b)
	if s := ts.total(); s.Rejected != 1 {
		t.Fatalf("stats %+v", s)
	}
}

// Options.Balancing overrides the config's.
func TestBalancingOverride(t *testing.T) {
	t.Parallel()
	ts := start(t, epollDriver(t, "fair"), func(c *config.Config) { c.Server.Balancing = "reuseport" })
	ts.mu.Lock()
	got := ts.eng.Config().Balancing
	ts.mu.Unlock()
	if got != engine.Fair {
		t.Fatalf("balancing %v, want fair", got)
	}
	if _, err := New(testConfig(t), Options{Driver: DriverEpoll, Balancing: "random"}); err == nil {
		t.Fatal("New accepted balancing \"random\"")
	}
}

func TestDriver(t *testing.T) {
	t.Parallel()
	for d, want := range map[Driver]string{DriverAuto: "auto", DriverEpoll: "epoll", DriverGoroutine: "goroutine", 9: "Driver(9)"} {
		if d.String() != want {
			t.Errorf("Driver(%d).String() = %q, want %q", uint8(d), d.String(), want)
		}
	}
	s, err := New(testConfig(t), Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := DriverGoroutine
	if engine.Supported() {
		want = DriverEpoll
	}
	if s.Driver() != want {
		t.Fatalf("auto chose %v, want %v", s.Driver(), want)
	}
}

// A refused request with its body still coming is answered, and the
// client reads the answer rather than a reset while it goes on sending.
func TestRefusalLingers(t *testing.T) {
	t.Parallel()
	forDrivers(t, func(t *testing.T, d testDriver) {
		ts := start(t, d, func(c *config.Config) { c.Server.MaxRequestSize = 1 << 10 })
		rc := dial(t, ts.addr)
		rc.send("POST /hello.txt HTTP/1.1\r\nHost: a\r\nContent-Length: 200000\r\n\r\n" + strings.Repeat("x", 64<<10))
		time.Sleep(50 * time.Millisecond)
		rc.nc.Write([]byte(strings.Repeat("y", 64<<10))) // may fail once the server gave up
		resp, _ := rc.response("POST")
		if resp.StatusCode != 413 || !resp.Close {
			t.Fatalf("%d close=%v", resp.StatusCode, resp.Close)
		}
	})
}

// Listen errors read as with net.Listen, naming the address.
func TestEngineListenError(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	cfg := testConfig(t)
	cfg.Server.Listen = []config.Listen{{Addr: "127.0.0.1:0"}, {Addr: ln.Addr().String()}}
	s, err := New(cfg, epollDriver(t, "reuseport").options(discardLogger()))
	if err != nil {
		t.Fatal(err)
	}
	err = s.Listen()
	var op *net.OpError
	if err == nil || !strings.Contains(err.Error(), ln.Addr().String()) || !errors.As(err, &op) || op.Op != "listen" {
		t.Fatalf("Listen: %v, want a listen *net.OpError naming %s", err, ln.Addr())
	}
	if len(s.Addrs()) != 0 {
		t.Fatalf("Addrs after a failed Listen: %v", s.Addrs())
	}
	if err := s.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
}
