package proxy_test

import (
	"bufio"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gibbon/internal/wstest"
)

// pattern is an endless deterministic byte stream: byte i is i*7 mod 251.
type pattern struct {
	off, n int64
}

func (p *pattern) Read(b []byte) (int, error) {
	if p.off >= p.n {
		return 0, io.EOF
	}
	if rem := p.n - p.off; int64(len(b)) > rem {
		b = b[:rem]
	}
	for i := range b {
		b[i] = byte((p.off + int64(i)) * 7 % 251)
	}
	p.off += int64(len(b))
	return len(b), nil
}

// checker verifies that what it is given is the pattern.
type checker struct {
	off int64
	bad bool
}

func (c *checker) Write(b []byte) (int, error) {
	for i, x := range b {
		if x != byte((c.off+int64(i))*7%251) {
			c.bad = true
		}
	}
	c.off += int64(len(b))
	return len(b), nil
}

// TestStreamOneGiB echoes 1 GiB through the proxy, request and response
// bodies at the same time, and checks the heap stays small.
func TestStreamOneGiB(t *testing.T) {
	const size = 1 << 30
	echo := newBackend(t, "echo", func(w http.ResponseWriter, r *http.Request) {
		http.NewResponseController(w).EnableFullDuplex()
		w.Header().Set("Content-Type", "application/octet-stream")
		buf := make([]byte, 64<<10)
		io.CopyBuffer(w, r.Body, buf)
	})
	p, px := load(t, upstream("", "echo "+echo.addr))
	addr := startFront(t, p)

	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapInuse
	var peak atomic.Uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				if ms.HeapInuse > peak.Load() {
					peak.Store(ms.HeapInuse)
				}
			}
		}
	})

	tr := &http.Transport{DisableCompression: true}
	defer tr.CloseIdleConnections()
	req, _ := http.NewRequest("POST", "http://"+addr+"/echo", &pattern{n: size})
	req.ContentLength = size
	start := time.Now()
	resp, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	var c checker
	n, err := io.Copy(&c, resp.Body)
	resp.Body.Close()
	close(done)
	wg.Wait()
	if err != nil || n != size || c.bad || resp.StatusCode != 200 {
		t.Fatalf("echoed %d bytes (status %d, err %v, corrupt %v), want %d", n, resp.StatusCode, err, c.bad, size)
	}
	growth := int64(peak.Load()) - int64(base)
	t.Logf("1 GiB both ways in %v; heap in use %d MiB at start, peak growth %d KiB",
		time.Since(start).Round(time.Millisecond), base>>20, growth>>10)
	if growth > 16<<20 {
		t.Errorf("heap grew by %d MiB while streaming, want constant memory", growth>>20)
	}
	s := serverStats(t, px, "echo")
	if s.BytesIn != size || s.BytesOut != size {
		t.Errorf("stats bytes in %d out %d, want %d each", s.BytesIn, s.BytesOut, size)
	}
}

// TestStreamFlush shows each piece of a streamed response reaches the
// client before the upstream finishes.
func TestStreamFlush(t *testing.T) {
	t.Parallel()
	next := make(chan struct{})
	sse := newBackend(t, "sse", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		for i := range 3 {
			fmt.Fprintf(w, "data: %d\n\n", i)
			w.(http.Flusher).Flush()
			<-next
		}
	})
	p, _ := load(t, upstream("", "sse "+sse.addr))
	addr := startFront(t, p)
	resp, err := http.Get("http://" + addr + "/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	for i := range 3 {
		line, err := br.ReadString('\n')
		if err != nil || line != fmt.Sprintf("data: %d\n", i) {
			t.Fatalf("event %d: %q %v", i, line, err)
		}
		br.ReadString('\n')
		next <- struct{}{}
	}
}

// wsBackend is a WebSocket echo server (wstest.Echo) that names itself in
// its 101 answer.
func wsBackend(t *testing.T) *backend {
	return newBackend(t, "ws", func(w http.ResponseWriter, r *http.Request) {
		wstest.Echo(w, r, "X-Backend: ws")
	})
}

func TestWebSocketEcho(t *testing.T) {
	t.Parallel()
	ws := wsBackend(t)
	p, px := load(t, upstream("", "ws "+ws.addr))
	addr := startFront(t, p)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	key := base64.StdEncoding.EncodeToString([]byte("0123456789abcdef"))
	// The first frame travels right behind the handshake, in the same
	// write: the proxy must pass on what the server had buffered.
	hello := "GET /chat HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\n" +
		"Sec-WebSocket-Key: " + key + "\r\nSec-WebSocket-Version: 13\r\n\r\n"
	if _, err := c.Write(append([]byte(hello), wstest.Frame(1, []byte("early"), true)...)); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 101 || resp.Header.Get("Sec-WebSocket-Accept") != wstest.AcceptKey(key) ||
		!strings.EqualFold(resp.Header.Get("Upgrade"), "websocket") || resp.Header.Get("Via") != "1.1 gibbon" {
		t.Fatalf("handshake answer %d %v", resp.StatusCode, resp.Header)
	}
	msgs := []string{"early", "hello", strings.Repeat("big", 30000)}
	for i, m := range msgs {
		if i > 0 {
			if _, err := c.Write(wstest.Frame(1, []byte(m), true)); err != nil {
				t.Fatal(err)
			}
		}
		op, payload, err := wstest.ReadFrame(br)
		if err != nil || op != 1 || string(payload) != m {
			t.Fatalf("echo %d: op %d len %d %v", i, op, len(payload), err)
		}
	}
	c.Write(wstest.Frame(8, nil, true)) // close: the backend hangs up, the tunnel ends
	if _, err := br.ReadByte(); err != io.EOF {
		t.Errorf("after close: %v, want EOF", err)
	}
	waitFor(t, "tunnel closed", 5*time.Second, func() bool { return serverStats(t, px, "ws").Active == 0 })
	if s := serverStats(t, px, "ws"); s.BytesIn < 90000 || s.BytesOut < 90000 {
		t.Errorf("tunnel bytes in %d out %d", s.BytesIn, s.BytesOut)
	}
}

// TestUpgradeWithoutHijacker: a ResponseWriter that cannot hand its
// connection over gets a plain request (Upgrade dropped).
func TestUpgradeWithoutHijacker(t *testing.T) {
	t.Parallel()
	ws := wsBackend(t)
	p, _ := load(t, upstream("", "ws "+ws.addr))
	w, err := call(t, p, "", "GET", "/chat", nil, "Upgrade: websocket", "Connection: Upgrade",
		"Sec-WebSocket-Key: x", "Sec-WebSocket-Version: 13")
	if err != nil || w.Code != 400 {
		t.Errorf("got %d %v, want the backend's 400 for a non-upgrade request", w.Code, err)
	}
}
