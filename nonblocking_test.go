package gibbon_test

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"testing"

	"gibbon"
)

// onLoop reports whether the calling goroutine is an epoll worker's loop.
func onLoop() bool {
	buf := make([]byte, 64<<10)
	return strings.Contains(string(buf[:runtime.Stack(buf, false)]), "gibbon/engine.(*worker).run")
}

// probe answers what a non-blocking handler saw: where it ran, its body,
// its context, and whether Flush was unsupported.
func probe(c *gibbon.Ctx) {
	body, err := io.ReadAll(c.Body())
	ferr := c.Flush()
	c.SetHeader("Content-Type", "text/plain")
	fmt.Fprintf(c, "loop=%v body=%q err=%v ctx=%v noflush=%v",
		onLoop(), body, err, c.Context().Err(), errors.Is(ferr, errors.ErrUnsupported))
}

// probedBody is what probe answers to a POST of "payload": served on a
// goroutine, which may flush.
const probedBody = `loop=false body="payload" err=<nil> ctx=<nil> noflush=false`

func TestHandleNonBlocking(t *testing.T) {
	t.Parallel()
	forDrivers(t, func(t *testing.T, d gibbon.Driver) {
		srv := newServer(t, gibbon.Config{Driver: d})
		srv.HandleNonBlocking("/probe", gibbon.HandlerFunc(probe))
		srv.HandleNonBlocking("/hijack", gibbon.HandlerFunc(func(c *gibbon.Ctx) {
			_, _, err := c.Hijack()
			fmt.Fprintf(c, "nohijack=%v trailer=%v", errors.Is(err, errors.ErrUnsupported), c.Trailer() == nil)
		}))
		srv.HandleNonBlocking("/panic", gibbon.HandlerFunc(func(*gibbon.Ctx) { panic("boom") }))
		srv.HandleFunc("/blocking", func(c *gibbon.Ctx) { fmt.Fprintf(c, "loop=%v", onLoop()) })
		url := start(t, srv)
		loop := d == gibbon.DriverEpoll
		want := fmt.Sprintf(`loop=%v body="" err=<nil> ctx=<nil> noflush=true`, loop)

		resp, body := get(t, http.DefaultClient, "GET", url+"/probe")
		if resp.StatusCode != 200 || body != want || resp.ContentLength != int64(len(want)) {
			t.Errorf("GET /probe: %d %q (length %d), want 200 %q", resp.StatusCode, body, resp.ContentLength, want)
		}
		resp, body = get(t, http.DefaultClient, "HEAD", url+"/probe")
		if resp.StatusCode != 200 || body != "" || resp.ContentLength != int64(len(want)) {
			t.Errorf("HEAD /probe: %d %q (length %d)", resp.StatusCode, body, resp.ContentLength)
		}
		if _, body := get(t, http.DefaultClient, "GET", url+"/hijack"); body != "nohijack=true trailer=true" {
			t.Errorf("GET /hijack: %q", body)
		}
		resp, _ = get(t, http.DefaultClient, "GET", url+"/panic")
		if resp.StatusCode != 500 {
			t.Errorf("GET /panic: %d, want 500", resp.StatusCode)
		}

		// A body sends the request to the connection's goroutine.
		if _, b := send(t, http.DefaultClient, "POST", url+"/probe", strings.NewReader("payload")); b != probedBody {
			t.Errorf("POST /probe: %q, want %q", b, probedBody)
		}

		// After a blocking handler the connection is a goroutine's: a
		// non-blocking handler runs there, in memory.
		nc, err := net.Dial("tcp", strings.TrimPrefix(url, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		br := bufio.NewReader(nc)
		for _, path := range []string{"/blocking", "/probe", "/probe"} {
			fmt.Fprintf(nc, "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", path)
			resp, err := http.ReadResponse(br, nil)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			if path == "/probe" && string(b) != `loop=false body="" err=<nil> ctx=<nil> noflush=true` {
				t.Errorf("%s after a blocking handler: %q", path, b)
			}
		}
	})
}

// TestHandleNonBlockingPipelined: pipelined requests to a non-blocking
// handler are answered in order, on the loop, through its own response
// writer.
func TestHandleNonBlockingPipelined(t *testing.T) {
	t.Parallel()
	srv := newServer(t, gibbon.Config{})
	srv.HandleNonBlocking("GET /n/{i}", gibbon.HandlerFunc(func(c *gibbon.Ctx) { c.String(200, c.Param("i")) }))
	url := start(t, srv)
	nc, err := net.Dial("tcp", strings.TrimPrefix(url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	var reqs strings.Builder
	for i := range 20 {
		fmt.Fprintf(&reqs, "GET /n/%d HTTP/1.1\r\nHost: x\r\n\r\n", i)
	}
	if _, err := io.WriteString(nc, reqs.String()); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(nc)
	for i := range 20 {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		if string(b) != fmt.Sprint(i) {
			t.Fatalf("response %d: %q", i, b)
		}
	}
}

// TestHandleNonBlockingH2 serves HandleNonBlocking routes over HTTP/2,
// h2c with prior knowledge and TLS, to x/net/http2's client: answers in
// memory with a Content-Length (HEAD too), a panic answered 500 on its
// stream only, on the connection's driver goroutine; and a request with
// a body served on a goroutine of its own that reads it (and may flush).
func TestHandleNonBlockingH2(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"h2c", "tls"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			listen, tr := "127.0.0.1:0 h2c", h2cTransport()
			if mode == "tls" {
				listen, tr = "127.0.0.1:0 tls h2", tlsTransport()
			}
			c := &http.Client{Transport: tr}
			t.Cleanup(c.CloseIdleConnections)
			srv := newServer(t, gibbon.Config{Listen: []string{listen}})
			srv.HandleNonBlocking("/probe", gibbon.HandlerFunc(probe))
			srv.HandleNonBlocking("/panic", gibbon.HandlerFunc(func(*gibbon.Ctx) { panic("boom") }))
			srv.HandleNonBlocking("/where", gibbon.HandlerFunc(func(c *gibbon.Ctx) {
				io.Copy(io.Discard, c.Body())
				buf := make([]byte, 64<<10)
				fmt.Fprintf(c, "driver=%v", strings.Contains(string(buf[:runtime.Stack(buf, false)]), "gibbon/server.(*h2conn).run"))
			}))
			url := start(t, srv)
			if mode == "tls" {
				url = "https://" + strings.TrimPrefix(url, "http://")
			}
			want := `loop=false body="" err=<nil> ctx=<nil> noflush=true`
			for _, method := range []string{"GET", "HEAD"} {
				resp, body := get(t, c, method, url+"/probe")
				wantBody := map[string]string{"GET": want, "HEAD": ""}[method]
				if resp.ProtoMajor != 2 || resp.StatusCode != 200 || body != wantBody || resp.ContentLength != int64(len(want)) {
					t.Errorf("%s /probe: HTTP/%d %d %q (length %d), want 200 %q", method, resp.ProtoMajor, resp.StatusCode, body, resp.ContentLength, wantBody)
				}
			}
			if resp, _ := get(t, c, "GET", url+"/panic"); resp.StatusCode != 500 {
				t.Errorf("GET /panic: %d, want 500", resp.StatusCode)
			}
			for _, body := range []io.Reader{strings.NewReader("payload"), io.MultiReader(strings.NewReader("payload"))} {
				if _, b := send(t, c, "POST", url+"/probe", body); b != probedBody {
					t.Errorf("POST /probe: %q, want %q", b, probedBody)
				}
			}
			if _, body := get(t, c, "GET", url+"/probe"); body != want {
				t.Errorf("GET /probe after the others: %q", body)
			}
			if _, body := get(t, c, "GET", url+"/where"); body != "driver=true" {
				t.Errorf("GET /where: %q", body)
			}
			if _, b := send(t, c, "POST", url+"/where", strings.NewReader("x")); b != "driver=false" {
				t.Errorf("POST /where: %q", b)
			}
		})
	}
}
