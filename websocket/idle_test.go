package websocket_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"gibbon"
	"gibbon/websocket"
)

// idleServerEnv, when set to a path, makes TestIdleMemory the server side
// of the measurement, in a child process the test starts.
const idleServerEnv = "GIBBON_WS_IDLE_SERVER"

// TestIdleMemory measures what an idle WebSocket costs the server. For
// each API it starts a server process (this test binary again, so that
// nothing from another measurement is freed meanwhile), opens the
// connections, sends one message on each and reads the echo, then leaves
// them idle; the server reports, per connection, the growth of its heap
// and goroutine stacks, of its RSS, and of its goroutines. The APIs: the
// blocking one (a handler looping on ReadMessage) and parked (Conn.Park),
// natively and through the net/http adapter. GIBBON_WS_IDLE sets how many
// connections (default 500; BENCHMARKS.md uses 10000).
func TestIdleMemory(t *testing.T) {
	if path := os.Getenv(idleServerEnv); path != "" {
		idleServer(t, path)
		return
	}
	n := 500
	if v, err := strconv.Atoi(os.Getenv("GIBBON_WS_IDLE")); err == nil && v > 0 {
		n = v
	}
	for _, path := range []string{"/blocking", "/parked", "/nethttp/blocking", "/nethttp/parked"} {
		t.Run(strings.TrimPrefix(path, "/"), func(t *testing.T) {
			heap, rss, g := idleCost(t, path, n)
			t.Logf("%d idle WebSockets: %.1f KiB heap+stacks, %.1f KiB RSS, %.2f goroutines each (server process)",
				n, float64(heap)/1024/float64(n), float64(rss)/1024/float64(n), float64(g)/float64(n))
			if strings.HasSuffix(path, "parked") && g*10 > int64(n) {
				t.Errorf("parked: %d more goroutines for %d idle connections", g, n)
			}
		})
	}
}

// idleCost starts the server process, holds n idle connections to path
// and returns what the server reported: the growth of heap+stacks, RSS
// and goroutines.
func idleCost(t *testing.T, path string, n int) (heap, rss, goroutines int64) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestIdleMemory$")
	cmd.Env = append(os.Environ(), idleServerEnv+"="+path)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	defer stdin.Close() // the server exits
	lines := bufio.NewReader(out)
	var addr string
	if _, err := fmt.Fscanln(lines, &addr); err != nil {
		t.Fatalf("server address: %v", err)
	}
	req := append(fmt.Appendf(nil, upgradeRequest, path), frame(true, 1, []byte("hi"))...)
	want := []byte("\r\n\r\n\x81\x02hi")
	buf := make([]byte, 512)
	for i := range n {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatalf("after %d connections: %v", i, err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(time.Minute))
		if _, err := c.Write(req); err != nil {
			t.Fatal(err)
		}
		got := 0
		for !bytes.HasSuffix(buf[:got], want) {
			m, err := c.Read(buf[got:])
			if err != nil {
				t.Fatalf("handshake and echo: %q %v", buf[:got], err)
			}
			got += m
		}
	}
	io.WriteString(stdin, "measure\n")
	if _, err := fmt.Fscanln(lines, &heap, &rss, &goroutines); err != nil {
		t.Fatalf("server's measurement: %v", err)
	}
	return heap, rss, goroutines
}

// idleServer is the child: it serves the echo handlers, prints its
// address, measures, and when asked measures again and prints the growth;
// it returns when its standard input closes.
func idleServer(t *testing.T, path string) {
	srv, err := gibbon.New(gibbon.Config{Listen: []string{"127.0.0.1:0"}, Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	native := func(c *gibbon.Ctx) {
		if conn, err := websocket.Accept(c, nil); err == nil {
			echo(conn)
		}
	}
	nativeParked := func(c *gibbon.Ctx) {
		if conn, err := websocket.Accept(c, nil); err == nil {
			conn.Park(parkedEcho{})
		}
	}
	adapter := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if conn, err := websocket.Upgrade(w, r, nil); err == nil {
			echo(conn)
		}
	})
	adapterParked := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if conn, err := websocket.Upgrade(w, r, nil); err == nil {
			conn.Park(parkedEcho{})
		}
	})
	switch path {
	case "/blocking":
		srv.HandleFunc("GET "+path, native)
	case "/parked":
		srv.HandleFunc("GET "+path, nativeParked)
	case "/nethttp/blocking":
		srv.HandleHTTP("GET "+path, adapter)
	case "/nethttp/parked":
		srv.HandleHTTP("GET "+path, adapterParked)
	}
	if err := srv.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	h0, r0, g0 := usage(t)
	fmt.Println(srv.Addr())
	in := bufio.NewReader(os.Stdin)
	if _, err := in.ReadString('\n'); err != nil {
		return
	}
	settle()
	h1, r1, g1 := usage(t)
	fmt.Println(h1-h0, r1-r0, g1-g0)
	io.Copy(io.Discard, in)
}

// settle waits (at most 10 s) until the goroutine count stops changing:
// the handlers have answered and parked, or wait in a read.
func settle() {
	last, same := -1, 0
	for deadline := time.Now().Add(10 * time.Second); same < 5 && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
		if g := runtime.NumGoroutine(); g != last {
			last, same = g, 0
		} else {
			same++
		}
	}
}

// usage returns the process's heap and stack bytes in use, its resident
// set and its goroutine count, after two collections (the second empties
// the pools' victim caches) that return freed memory to the system.
func usage(t *testing.T) (heap, rss, goroutines int64) {
	runtime.GC()
	debug.FreeOSMemory()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	statm, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		t.Fatal(err)
	}
	var size, pages int64
	fmt.Sscan(string(statm), &size, &pages)
	return int64(m.HeapInuse + m.StackInuse), pages * int64(os.Getpagesize()), int64(runtime.NumGoroutine())
}
