package websocket_test

import (
	"context"
	"net"
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"

	"gibbon"
	"gibbon/websocket"
)

// TestIdleMemory opens idle WebSocket connections to gibbon and reports
// the memory each costs the process (heap and goroutine stacks, the raw
// client's socket included). GIBBON_WS_IDLE sets how many (default 500;
// BENCHMARKS.md uses 10000).
func TestIdleMemory(t *testing.T) {
	n := 500
	if v, err := strconv.Atoi(os.Getenv("GIBBON_WS_IDLE")); err == nil && v > 0 {
		n = v
	}
	srv, err := gibbon.New(gibbon.Config{Listen: []string{"127.0.0.1:0"}, Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	srv.HandleFunc("GET /ws", func(c *gibbon.Ctx) {
		if conn, err := websocket.Accept(c, nil); err == nil {
			echo(conn)
		}
	})
	if err := srv.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	}()
	addr := srv.Addr().String()
	measure := func() (uint64, int) {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapInuse + m.StackInuse, runtime.NumGoroutine()
	}
	before, g0 := measure()
	conns := make([]net.Conn, 0, n)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	req := []byte("GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
	var buf [512]byte
	for range n {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatalf("after %d connections: %v", len(conns), err)
		}
		conns = append(conns, c)
		if _, err := c.Write(req); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Read(buf[:]); err != nil || string(buf[9:12]) != "101" {
			t.Fatalf("handshake: %q %v", buf[:12], err)
		}
	}
	after, g1 := measure()
	t.Logf("%d idle WebSockets: %d bytes each (heap+stacks, client socket included), %.2f goroutines each",
		n, (after-before)/uint64(n), float64(g1-g0)/float64(n))
}
