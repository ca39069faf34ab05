package websocket_test

import (
	"context"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"gibbon"
	"gibbon/websocket"
)

const page = `<!doctype html><html><body><script>
const echoes = [];
for (const path of ["/ws", "/parked"]) {
  const ws = new WebSocket("ws://" + location.host + path);
  ws.onopen = () => ws.send("hello from chromium");
  ws.onmessage = (e) => {
    ws.close(1000);
    echoes.push(path + " echo: " + e.data);
    if (echoes.length == 2) fetch("/report?" + encodeURIComponent(echoes.sort().join(", ")));
  };
  ws.onerror = () => { fetch("/report?error"); };
}
</script></body></html>`

// TestChromium loads a page whose script opens two WebSockets to gibbon, one
// served by the blocking API and one parked, sends a message on each and
// reports the echoes back with a fetch of /report. The test waits for that
// report rather than dumping the DOM: Chromium's virtual time budget does
// not wait for WebSocket traffic, so a dump could come before the echo.
func TestChromium(t *testing.T) {
	t.Parallel()
	bin := ""
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			bin = p
			break
		}
	}
	if bin == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("chromium not found")
		}
		t.Skip("chromium not found")
	}
	srv, err := gibbon.New(gibbon.Config{Listen: []string{"127.0.0.1:0"}, Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	srv.HandleFunc("GET /{$}", func(c *gibbon.Ctx) { c.Bytes(200, "text/html; charset=utf-8", []byte(page)) })
	reports := make(chan string, 1)
	srv.HandleFunc("GET /report", func(c *gibbon.Ctx) {
		select {
		case reports <- c.Query():
		default:
		}
		c.Bytes(204, "", nil)
	})
	srv.HandleFunc("GET /ws", func(c *gibbon.Ctx) {
		if conn, err := websocket.Accept(c, nil); err == nil {
			echo(conn)
		}
	})
	srv.HandleFunc("GET /parked", func(c *gibbon.Ctx) {
		if conn, err := websocket.Accept(c, &websocket.Options{Compression: true}); err == nil {
			conn.Park(parkedEcho{})
		}
	})
	if err := srv.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown(context.Background())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stderr strings.Builder
	cmd := exec.CommandContext(ctx, bin, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
		"--user-data-dir="+t.TempDir(), "http://"+srv.Addr().String()+"/")
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("chromium: %v", err)
	}
	defer func() {
		cancel()
		cmd.Wait()
	}()
	select {
	case got := <-reports:
		const want = "/parked echo: hello from chromium, /ws echo: hello from chromium"
		if msg, _ := url.QueryUnescape(got); msg != want {
			t.Errorf("page reported %q, want %q", msg, want)
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("no report from the page in 60 s; chromium said:\n%s", stderr.String())
	}
}
