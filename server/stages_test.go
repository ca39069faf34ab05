package server

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"gibbon/config"
	"gibbon/stage"
)

// recorder is a test plugin hooking every stage. It records, per
// connection, the stages it sees; a request for /refuse is answered 403
// at stage 20, /drop is closed at stage 20. As a handler it serves
// "Match <re> recorder inline|blocking|stream|echo|redirect|hijack|fail".
type recorder struct {
	mu     sync.Mutex
	events map[uint64][]string
	closed chan uint64
}

func init() {
	stage.Register("recorder", func() stage.Plugin {
		return &recorder{events: make(map[uint64][]string), closed: make(chan uint64, 100)}
	})
}

func (p *recorder) Decode(*stage.PluginConfig) error { return nil }

func (p *recorder) add(id uint64, ev string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.events[id] = append(p.events[id], ev)
}

// log returns the events of the only connection with events, waiting for
// its stage 50.
func (p *recorder) log(t *testing.T) []string {
	t.Helper()
	select {
	case id := <-p.closed:
		p.mu.Lock()
		defer p.mu.Unlock()
		return p.events[id]
	case <-time.After(5 * time.Second):
		t.Fatal("no stage 50")
		return nil
	}
}

func (p *recorder) OnAccept(c stage.ConnInfo) stage.Verdict {
	p.add(c.ID, "10")
	return stage.Continue
}

func (p *recorder) OnRequest(w stage.ResponseWriter, r *stage.Request) stage.Verdict {
	p.add(r.Conn.ID, "20 "+r.Path)
	switch r.Path {
	case "/refuse":
		w.Header().Set("X-Refused", "yes")
		w.Respond(403, "", nil)
		return stage.Handled
	case "/drop":
		return stage.Close
	}
	return stage.Continue
}

func (p *recorder) OnDone(r *stage.Request, o stage.Outcome) {
	p.add(r.Conn.ID, fmt.Sprintf("40 %s %d %d", r.Path, o.Status, o.RefusedAt))
}

func (p *recorder) OnClose(c stage.ConnInfo, err error) {
	p.add(c.ID, "50")
	p.closed <- c.ID
}

func (p *recorder) MakeHandler(params []string) (stage.Handler, error) {
	return &recHandler{p: p, kind: params[0]}, nil
}

type recHandler struct {
	p    *recorder
	kind string
}

func (h *recHandler) Blocking() bool { return h.kind != "inline" }

func (h *recHandler) ServeGibbon(w stage.ResponseWriter, r *stage.Request) error {
	h.p.add(r.Conn.ID, "30 "+r.Path)
	switch h.kind {
	case "inline", "blocking":
		return w.Respond(200, "text/plain", []byte(h.kind+" "+r.Path))
	case "stream":
		for i := range 3 {
			fmt.Fprintf(w, "part %d\n", i)
			w.(stage.Flusher).Flush()
		}
	case "echo":
		b, err := io.ReadAll(r.Body)
		if err != nil {
			return err
		}
		w.Write(b)
	case "redirect":
		return &stage.InternalRedirect{Path: "/hello.txt"}
	case "feed":
		done := make(chan error)
		go func() {
			_, err := io.Copy(io.Discard, r.Body)
			done <- err
		}()
		w.Write([]byte("started\n"))
		w.(stage.Flusher).Flush()
		return <-done
	case "fail":
		w.Header().Set("Retry-After", "1")
		return stage.Error(503, nil)
	case "hijack":
		nc, buf, err := w.(stage.Hijacker).Hijack()
		if err != nil {
			return err
		}
		defer nc.Close()
		fmt.Fprintf(nc, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n")
		nc.Write(buf)
		io.Copy(nc, nc)
	}
	return nil
}

// withRecorder loads the recorder and routes /inline, /blocking, … to it.
func withRecorder(c *config.Config) {
	c.Plugins = &config.Section{Name: "PLUGINS", Entries: []config.Entry{{Key: "Load", Value: "recorder"}}}
	var rules []config.Entry
	for _, k := range []string{"inline", "blocking", "stream", "echo", "redirect", "fail", "hijack"} {
		rules = append(rules, config.Entry{Key: "Match", Value: "^/" + k + " recorder " + k})
	}
	c.Hosts[0].Sections = append(c.Hosts[0].Sections, &config.Section{Name: "HANDLERS", Entries: rules})
}

func recorderOf(ts *testServer) *recorder { return ts.Pipeline().Plugin("recorder").(*recorder) }

// TestStageOrder checks, on a keep-alive connection with two requests
// and a third refused at stage 20, that the stages run exactly: 10 once;
// 20 and 40 once per request; 30 only for the handler's requests; 50
// once, last.
func TestStageOrder(t *testing.T) {
	t.Parallel()
	for _, handler := range []string{"inline", "blocking"} {
		forDrivers(t, func(t *testing.T, d testDriver) {
			ts := start(t, d, withRecorder)
			rc := dial(t, ts.addr)
			rc.send("GET /hello.txt HTTP/1.1\r\nHost: localhost\r\n\r\n")
			if resp, _ := rc.response("GET"); resp.StatusCode != 200 {
				t.Fatalf("/hello.txt: %d", resp.StatusCode)
			}
			rc.send("GET /" + handler + " HTTP/1.1\r\nHost: localhost\r\n\r\n")
			if resp, body := rc.response("GET"); resp.StatusCode != 200 || body != handler+" /"+handler {
				t.Fatalf("/%s: %d %q", handler, resp.StatusCode, body)
			}
			rc.send("GET /refuse HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
			resp, _ := rc.response("GET")
			if resp.StatusCode != 403 || resp.Header.Get("X-Refused") != "yes" {
				t.Fatalf("/refuse: %d %v", resp.StatusCode, resp.Header)
			}
			rc.expectClosed(5 * time.Second)
			got := strings.Join(recorderOf(ts).log(t), "|")
			want := "10|20 /hello.txt|40 /hello.txt 200 0|20 /" + handler + "|30 /" + handler +
				"|40 /" + handler + " 200 0|20 /refuse|40 /refuse 403 20|50"
			if got != want {
				t.Errorf("stages:\n got %s\nwant %s", got, want)
			}
		})
	}
}

// TestStageClose checks a Close verdict: no answer, 40 with status 0,
// then 50.
func TestStageClose(t *testing.T) {
	t.Parallel()
	forDrivers(t, func(t *testing.T, d testDriver) {
		ts := start(t, d, withRecorder)
		rc := dial(t, ts.addr)
		rc.send("GET /drop HTTP/1.1\r\nHost: localhost\r\n\r\n")
		rc.expectClosed(5 * time.Second)
		if got := strings.Join(recorderOf(ts).log(t), "|"); got != "10|20 /drop|40 /drop 0 20|50" {
			t.Errorf("stages: %s", got)
		}
	})
}

// TestStageParseError checks that a head the parser refuses still
// reaches stage 40 (an unknown request) and 50.
func TestStageParseError(t *testing.T) {
	t.Parallel()
	forDrivers(t, func(t *testing.T, d testDriver) {
		ts := start(t, d, withRecorder)
		rc := dial(t, ts.addr)
		rc.send("GET /x HTTP/1.1\r\nBad Header\r\n\r\n")
		if resp, _ := rc.response("GET"); resp.StatusCode != 400 {
			t.Fatalf("status %d", resp.StatusCode)
		}
		if got := strings.Join(recorderOf(ts).log(t), "|"); got != "10|40  400 0|50" {
			t.Errorf("stages: %s", got)
		}
	})
}

// TestBlockingHandlers checks the streaming ResponseWriter: chunked
// streaming with Flush, an HTTP/1.0 close-delimited body, request bodies
// (Content-Length, chunked, 100-continue), internal redirects, error
// pages with the handler's fields, and Hijack.
func TestBlockingHandlers(t *testing.T) {
	t.Parallel()
	forDrivers(t, func(t *testing.T, d testDriver) {
		ts := start(t, d, func(c *config.Config) {
			withRecorder(c)
			c.Server.MaxRequestSize = 1 << 20
		})
		c := client(t)
		resp, body := get(t, c, "GET", ts.url("/stream"))
		if resp.StatusCode != 200 || body != "part 0\npart 1\npart 2\n" || resp.TransferEncoding[0] != "chunked" {
			t.Errorf("/stream: %d %v %q", resp.StatusCode, resp.TransferEncoding, body)
		}
		resp, body = get(t, c, "GET", ts.url("/blocking"))
		if resp.ContentLength != int64(len("blocking /blocking")) || body != "blocking /blocking" {
			t.Errorf("/blocking: length %d %q", resp.ContentLength, body)
		}
		resp, body = get(t, c, "GET", ts.url("/redirect"))
		if resp.StatusCode != 200 || body != testFiles["hello.txt"] {
			t.Errorf("/redirect: %d %q", resp.StatusCode, body)
		}
		resp, _ = get(t, c, "GET", ts.url("/fail"))
		if resp.StatusCode != 503 || resp.Header.Get("Retry-After") != "1" {
			t.Errorf("/fail: %d %v", resp.StatusCode, resp.Header)
		}
		post, err := c.Post(ts.url("/echo"), "text/plain", strings.NewReader(strings.Repeat("x", 100000)))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(post.Body)
		post.Body.Close()
		if len(b) != 100000 {
			t.Errorf("/echo: %d bytes back", len(b))
		}

		rc := dial(t, ts.addr)
		rc.send("POST /echo HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n")
		if resp, _ := rc.response("POST"); resp.StatusCode != 100 {
			t.Fatalf("want 100 Continue, got %d", resp.StatusCode)
		}
		rc.send("5\r\nhello\r\n0\r\n\r\n")
		if resp, body := rc.response("POST"); body != "hello" {
			t.Errorf("chunked echo: %d %q", resp.StatusCode, body)
		}
		rc.send("GET /stream HTTP/1.0\r\n\r\n")
		if resp, body := rc.response("GET"); resp.ContentLength != -1 || !resp.Close || body != "part 0\npart 1\npart 2\n" {
			t.Errorf("HTTP/1.0 stream: %d %v %q", resp.ContentLength, resp.Close, body)
		}

		rc = dial(t, ts.addr)
		rc.send("GET /hijack HTTP/1.1\r\nHost: localhost\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\nearly")
		if resp, err := http.ReadResponse(rc.br, nil); err != nil || resp.StatusCode != 101 {
			t.Fatalf("hijack: %v %v", resp, err)
		}
		rc.send("late")
		got := make([]byte, 9)
		if _, err := io.ReadFull(rc.br, got); err != nil || string(got) != "earlylate" {
			t.Errorf("hijacked echo %q %v", got, err)
		}
	})
}

// TestBlockingBodyLimit checks that MaxRequestSize holds for blocking
// handlers: 413 before reading a long Content-Length, and for a chunked
// body that outgrows it.
func TestBlockingBodyLimit(t *testing.T) {
	t.Parallel()
	forDrivers(t, func(t *testing.T, d testDriver) {
		ts := start(t, d, func(c *config.Config) {
			withRecorder(c)
			c.Server.MaxRequestSize = 4 << 10
		})
		rc := dial(t, ts.addr)
		rc.send("POST /echo HTTP/1.1\r\nHost: localhost\r\nContent-Length: 10000\r\n\r\n")
		if resp, _ := rc.response("POST"); resp.StatusCode != 413 {
			t.Errorf("long Content-Length: %d", resp.StatusCode)
		}
		rc = dial(t, ts.addr)
		rc.send("POST /echo HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n")
		w := bufio.NewWriter(rc.nc)
		for range 10 {
			fmt.Fprintf(w, "400\r\n%s\r\n", strings.Repeat("y", 1024))
		}
		w.Flush()
		if resp, _ := rc.response("POST"); resp.StatusCode != 413 {
			t.Errorf("long chunked body: %d", resp.StatusCode)
		}
	})
}

// TestBodyFromAnotherGoroutine reads Request.Body on a goroutine while the
// handler streams its answer, as CGI's stdin feeder does (run with -race).
func TestBodyFromAnotherGoroutine(t *testing.T) {
	t.Parallel()
	forDrivers(t, func(t *testing.T, d testDriver) {
		ts := start(t, d, func(c *config.Config) {
			withRecorder(c)
			c.Hosts[0].Sections[0].Entries = append(c.Hosts[0].Sections[0].Entries,
				config.Entry{Key: "Match", Value: "^/feed recorder feed"})
		})
		rc := dial(t, ts.addr)
		rc.send("POST /feed HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n")
		rc.send("5\r\nhello\r\n0\r\n\r\n")
		if resp, body := rc.response("POST"); resp.StatusCode != 200 || body != "started\n" {
			t.Fatalf("%d %q", resp.StatusCode, body)
		}
	})
}
