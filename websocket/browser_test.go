package websocket_test

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"gibbon"
	"gibbon/websocket"
)

const page = `<!doctype html><html><body><div id="out">waiting</div><script>
const ws = new WebSocket("ws://" + location.host + "/ws");
ws.onopen = () => ws.send("hello from chromium");
ws.onmessage = (e) => { document.getElementById("out").textContent = "echo: " + e.data; ws.close(1000); };
ws.onerror = () => { document.getElementById("out").textContent = "error"; };
</script></body></html>`

// TestChromium loads a page whose script opens a WebSocket to gibbon and
// writes the echo into the DOM.
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
	srv.HandleFunc("GET /ws", func(c *gibbon.Ctx) {
		if conn, err := websocket.Accept(c, nil); err == nil {
			echo(conn)
		}
	})
	if err := srv.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown(context.Background())
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--headless", "--no-sandbox", "--disable-gpu", "--user-data-dir="+t.TempDir(),
		"--virtual-time-budget=5000", "--dump-dom", "http://"+srv.Addr().String()+"/")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium: %v", err)
	}
	if !strings.Contains(string(out), "echo: hello from chromium") {
		t.Errorf("page after the echo:\n%s", out)
	}
}
