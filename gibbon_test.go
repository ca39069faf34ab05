package gibbon_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"gibbon"
)

// start runs srv on 127.0.0.1:0 until the test ends and returns its base
// URL.
func start(t testing.TB, srv *gibbon.Server) string {
	t.Helper()
	if err := srv.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return "http://" + srv.Addr().String()
}

// forDrivers runs f as a parallel subtest on each driver, epoll and
// goroutine.
func forDrivers(t *testing.T, f func(t *testing.T, d gibbon.Driver)) {
	t.Helper()
	for _, d := range []gibbon.Driver{gibbon.DriverEpoll, gibbon.DriverGoroutine} {
		t.Run(d.String(), func(t *testing.T) {
			t.Parallel()
			f(t, d)
		})
	}
}

func newServer(t testing.TB, cfg gibbon.Config) *gibbon.Server {
	t.Helper()
	if cfg.Listen == nil {
		cfg.Listen = []string{"127.0.0.1:0"}
	}
	if cfg.Workers == 0 {
		cfg.Workers = 1
	}
	srv, err := gibbon.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return srv
}

func get(t testing.TB, c *http.Client, method, url string) (*http.Response, string) {
	t.Helper()
	return send(t, c, method, url, nil)
}

// send requests url with body (nil for none) and returns the response
// and its body.
func send(t testing.TB, c *http.Client, method, url string, body io.Reader) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

func TestNativeHandlers(t *testing.T) {
	t.Parallel()
	srv := newServer(t, gibbon.Config{})
	srv.HandleFunc("/hello", func(c *gibbon.Ctx) { c.String(200, "hello, world\n") })
	srv.HandleFunc("GET /users/{id}/files/{path...}", func(c *gibbon.Ctx) {
		c.JSON(200, map[string]string{"id": c.Param("id"), "path": c.Param("path"), "q": c.QueryValue("q")})
	})
	srv.HandleFunc("/stream", func(c *gibbon.Ctx) {
		for i := range 3 {
			c.WriteString(strings.Repeat("x", i+1))
			c.Flush()
		}
	})
	srv.HandleFunc("/dir/", func(c *gibbon.Ctx) { c.String(200, "dir") })
	url := start(t, srv)
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, body := get(t, c, "GET", url+"/hello")
	if resp.StatusCode != 200 || body != "hello, world\n" || resp.ContentLength != 13 {
		t.Errorf("/hello: %d %d %q", resp.StatusCode, resp.ContentLength, body)
	}
	resp, body = get(t, c, "GET", url+"/users/7/files/a/b.txt?q=x%20y")
	if resp.StatusCode != 200 || body != `{"id":"7","path":"a/b.txt","q":"x y"}`+"\n" {
		t.Errorf("/users: %d %q", resp.StatusCode, body)
	}
	resp, _ = get(t, c, "POST", url+"/users/7/files/a")
	if resp.StatusCode != 405 || resp.Header.Get("Allow") != "GET, HEAD" {
		t.Errorf("POST /users: %d %q", resp.StatusCode, resp.Header.Get("Allow"))
	}
	resp, body = get(t, c, "GET", url+"/stream")
	if resp.StatusCode != 200 || body != "xxxxxx" || resp.TransferEncoding == nil {
		t.Errorf("/stream: %d %v %q", resp.StatusCode, resp.TransferEncoding, body)
	}
	resp, _ = get(t, c, "GET", url+"/dir?x=1")
	if resp.StatusCode != 307 || resp.Header.Get("Location") != "/dir/?x=1" {
		t.Errorf("/dir: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, _ = get(t, c, "GET", url+"/nothing")
	if resp.StatusCode != 404 {
		t.Errorf("/nothing: %d", resp.StatusCode)
	}
}

// TestTwoServers runs two servers with different handlers in one process.
func TestTwoServers(t *testing.T) {
	t.Parallel()
	a, b := newServer(t, gibbon.Config{}), newServer(t, gibbon.Config{})
	a.HandleFunc("/", func(c *gibbon.Ctx) { c.String(200, "a") })
	b.HandleHTTP("/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "b") }))
	ua, ub := start(t, a), start(t, b)
	for i := range 3 {
		if _, body := get(t, http.DefaultClient, "GET", ua+"/x"); body != "a" {
			t.Errorf("round %d: server a answered %q", i, body)
		}
		if _, body := get(t, http.DefaultClient, "GET", ub+"/x"); body != "b" {
			t.Errorf("round %d: server b answered %q", i, body)
		}
	}
	if err := a.Start(context.Background()); err != gibbon.ErrStarted {
		t.Errorf("second Start: %v", err)
	}
}
