package websocket_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	cws "github.com/coder/websocket"

	"gibbon"
	"gibbon/websocket"
)

// echo serves one connection: every message comes back; "close" makes the
// server close with 4000.
func echo(c *websocket.Conn) {
	for {
		t, p, err := c.ReadMessage()
		if err != nil {
			return
		}
		if string(p) == "close" {
			c.Close(4000, "bye")
			return
		}
		if err := c.WriteMessage(t, p); err != nil {
			return
		}
	}
}

// parkedEcho is echo for a parked connection; closed, if not nil,
// receives OnClose's error.
type parkedEcho struct{ closed chan<- error }

func (e parkedEcho) OnMessage(c *websocket.Conn, t websocket.MessageType, p []byte) {
	if string(p) == "close" {
		c.Close(4000, "bye")
		return
	}
	c.WriteMessage(t, p)
}

func (e parkedEcho) OnClose(c *websocket.Conn, err error) {
	if e.closed != nil {
		e.closed <- err
	}
}

var opts = &websocket.Options{MaxMessageSize: 64 << 10, Compression: true, Subprotocols: []string{"chat"}}

// servers returns the WebSocket URLs of the echo handler, with the
// blocking API and parked: gibbon native, gibbon net/http adapter,
// net/http's own server.
func servers(t *testing.T) map[string]string {
	t.Helper()
	srv, err := gibbon.New(gibbon.Config{Listen: []string{"127.0.0.1:0"}, Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	srv.HandleFunc("/native", func(c *gibbon.Ctx) {
		if conn, err := websocket.Accept(c, opts); err == nil {
			echo(conn)
		}
	})
	srv.HandleFunc("/native-parked", func(c *gibbon.Ctx) {
		if conn, err := websocket.Accept(c, opts); err == nil {
			conn.Park(parkedEcho{})
		}
	})
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if conn, err := websocket.Upgrade(w, r, opts); err == nil {
			echo(conn)
		}
	})
	mux.HandleFunc("/parked", func(w http.ResponseWriter, r *http.Request) {
		if conn, err := websocket.Upgrade(w, r, opts); err == nil {
			conn.Park(parkedEcho{})
		}
	})
	srv.HandleHTTP("/nethttp/", http.StripPrefix("/nethttp", mux))
	if err := srv.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Shutdown(context.Background()) })
	ref := httptest.NewServer(mux)
	t.Cleanup(ref.Close)
	base := "ws://" + srv.Addr().String()
	refBase := strings.Replace(ref.URL, "http", "ws", 1)
	return map[string]string{
		"native": base + "/native", "adapter": base + "/nethttp/", "net/http": refBase + "/",
		"native/parked": base + "/native-parked", "adapter/parked": base + "/nethttp/parked", "net/http/parked": refBase + "/parked",
	}
}

func dial(t *testing.T, url string, mode cws.CompressionMode) *cws.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, resp, err := cws.Dial(ctx, url, &cws.DialOptions{CompressionMode: mode, Subprotocols: []string{"chat"}})
	if err != nil {
		t.Fatal(err)
	}
	if p := resp.Header.Get("Sec-WebSocket-Protocol"); p != "chat" {
		t.Errorf("subprotocol %q", p)
	}
	c.SetReadLimit(1 << 20)
	t.Cleanup(func() { c.CloseNow() })
	return c
}

func roundTrip(t *testing.T, c *cws.Conn, typ cws.MessageType, msg []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Write(ctx, typ, msg); err != nil {
		t.Fatal(err)
	}
	gt, got, err := c.Read(ctx)
	if err != nil || gt != typ || string(got) != string(msg) {
		t.Fatalf("echo: %v %d bytes %v", gt, len(got), err)
	}
}

func TestEcho(t *testing.T) {
	t.Parallel()
	for name, url := range servers(t) {
		t.Run(name, func(t *testing.T) {
			for _, mode := range []cws.CompressionMode{cws.CompressionDisabled, cws.CompressionNoContextTakeover, cws.CompressionContextTakeover} {
				c := dial(t, url, mode)
				roundTrip(t, c, cws.MessageText, []byte("hello"))
				roundTrip(t, c, cws.MessageBinary, []byte{0, 1, 2, 255})
				roundTrip(t, c, cws.MessageText, []byte(strings.Repeat("héllo wörld ", 3000)))
				roundTrip(t, c, cws.MessageText, []byte(strings.Repeat("again, compressed or not ", 200)))
				c.Close(cws.StatusNormalClosure, "")
			}
		})
	}
}

func TestFragmentsPingAndClose(t *testing.T) {
	t.Parallel()
	for name, url := range servers(t) {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			c := dial(t, url, cws.CompressionDisabled)
			w, err := c.Writer(ctx, cws.MessageText)
			if err != nil {
				t.Fatal(err)
			}
			for _, part := range []string{"frag", "ment", "ed"} {
				w.Write([]byte(part))
			}
			w.Close()
			if _, got, err := c.Read(ctx); err != nil || string(got) != "fragmented" {
				t.Fatalf("fragmented: %q %v", got, err)
			}
			// Ping needs a concurrent reader to see the pong.
			read := make(chan error, 1)
			go func() {
				_, p, err := c.Read(ctx)
				if err == nil {
					err = errors.New("unexpected message " + string(p))
				}
				read <- err
			}()
			if err := c.Ping(ctx); err != nil {
				t.Fatalf("ping: %v", err)
			}
			c.Write(ctx, cws.MessageText, []byte("close"))
			if err := <-read; cws.CloseStatus(err) != 4000 {
				t.Errorf("server close: %v", err)
			}
		})
	}
}

func TestViolations(t *testing.T) {
	t.Parallel()
	for name, url := range servers(t) {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			c := dial(t, url, cws.CompressionDisabled)
			c.Write(ctx, cws.MessageText, []byte{'a', 0xff, 0xfe})
			if _, _, err := c.Read(ctx); cws.CloseStatus(err) != cws.StatusInvalidFramePayloadData {
				t.Errorf("invalid UTF-8: %v", err)
			}
			c = dial(t, url, cws.CompressionDisabled)
			c.Write(ctx, cws.MessageBinary, make([]byte, 65<<10))
			if _, _, err := c.Read(ctx); cws.CloseStatus(err) != cws.StatusMessageTooBig {
				t.Errorf("too big: %v", err)
			}
			c = dial(t, url, cws.CompressionNoContextTakeover)
			c.Write(ctx, cws.MessageBinary, make([]byte, 200<<10)) // compresses well, inflates over the limit
			if _, _, err := c.Read(ctx); cws.CloseStatus(err) != cws.StatusMessageTooBig {
				t.Errorf("too big once inflated: %v", err)
			}
		})
	}
}

func TestBadHandshake(t *testing.T) {
	t.Parallel()
	for name, url := range servers(t) {
		t.Run(name, func(t *testing.T) {
			resp, err := http.Get(strings.Replace(url, "ws", "http", 1))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 400 {
				t.Errorf("plain GET: %d", resp.StatusCode)
			}
		})
	}
}
