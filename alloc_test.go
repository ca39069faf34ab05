//go:build !race

package gibbon_test

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"gibbon"
	"gibbon/config"
)

// keepAlive is a raw keep-alive client that sends one fixed request and
// reads a response of known length, allocating nothing itself.
type keepAlive struct {
	conn net.Conn
	req  []byte
	buf  []byte
	size int // response length, learnt from the first response
}

func newKeepAlive(t testing.TB, addr, path string) *keepAlive {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	k := &keepAlive{conn: conn, req: []byte("GET " + path + " HTTP/1.1\r\nHost: localhost\r\n\r\n"), buf: make([]byte, 4096)}
	// The first response tells the size (the head and a short body arrive
	// in one read).
	if _, err := conn.Write(k.req); err != nil {
		t.Fatal(err)
	}
	n, err := conn.Read(k.buf)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(k.buf[:n], []byte("HTTP/1.1 200 ")) {
		t.Fatalf("response %q", k.buf[:n])
	}
	k.size = n
	return k
}

func (k *keepAlive) roundTrip(t testing.TB) {
	if _, err := k.conn.Write(k.req); err != nil {
		t.Fatal(err)
	}
	for got := 0; got < k.size; {
		n, err := k.conn.Read(k.buf[got:])
		if err != nil {
			t.Fatal(err)
		}
		got += n
	}
}

func helloServer(t testing.TB) *gibbon.Server {
	m := config.Default("")
	m.Server.MaxKeepAliveRequest = 1 << 30
	srv := newServer(t, gibbon.Config{Model: m})
	srv.HandleFunc("GET /hello", func(c *gibbon.Ctx) {
		c.SetHeader("Content-Type", "text/plain")
		c.WriteString("hello, world\n")
	})
	srv.HandleFunc("GET /users/{id}", func(c *gibbon.Ctx) {
		c.SetHeader("Content-Type", "text/plain")
		c.WriteString(c.Param("id"))
	})
	srv.HandleNonBlocking("GET /loop", gibbon.HandlerFunc(func(c *gibbon.Ctx) {
		c.SetHeader("Content-Type", "text/plain")
		c.WriteString("hello, world\n")
	}))
	return srv
}

// TestHelloDoesNotAllocate checks that a keep-alive hello-world request
// through the native API allocates nothing in the whole process (server and
// client), once the connection was handed to its goroutine, or on the
// event loop for a HandleNonBlocking handler.
func TestHelloDoesNotAllocate(t *testing.T) {
	srv := helloServer(t)
	url := start(t, srv)
	for _, path := range []string{"/hello", "/users/42", "/loop"} {
		k := newKeepAlive(t, strings.TrimPrefix(url, "http://"), path)
		if n := testing.AllocsPerRun(2000, func() { k.roundTrip(t) }); n != 0 {
			t.Errorf("GET %s: %v allocations per request, want 0", path, n)
		}
	}
}

func BenchmarkHelloNative(b *testing.B) { benchKeepAlive(b, helloServer(b), "/hello") }

func BenchmarkHelloNonBlocking(b *testing.B) { benchKeepAlive(b, helloServer(b), "/loop") }

func BenchmarkHelloNetHTTP(b *testing.B) {
	m := config.Default("")
	m.Server.MaxKeepAliveRequest = 1 << 30
	srv := newServer(b, gibbon.Config{Model: m})
	srv.HandleHTTP("GET /hello", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, "hello, world\n")
	}))
	benchKeepAlive(b, srv, "/hello")
}

// benchKeepAlive measures keep-alive GETs of path from srv, started here.
func benchKeepAlive(b *testing.B, srv *gibbon.Server, path string) {
	url := start(b, srv)
	k := newKeepAlive(b, strings.TrimPrefix(url, "http://"), path)
	b.ReportAllocs()
	for b.Loop() {
		k.roundTrip(b)
	}
}
