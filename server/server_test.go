package server

import (
	"context"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptrace"
	"strings"
	"testing"
	"time"

	"gibbon/config"
	"gibbon/http1"
)

func TestGetFile(t *testing.T) {
	t.Parallel()
	forDrivers(t, func(t *testing.T, d testDriver) {
		ts := start(t, d, nil)
		c := client(t)
		tests := []struct {
			path, body, ctype string
		}{
			{"/hello.txt", testFiles["hello.txt"], "text/plain"},
			{"/", testFiles["index.html"], "text/html"},
			{"/dir/", testFiles["dir/index.html"], "text/html"},
			{"/big.bin", string(bigContent()), ""},
		}
		for _, tc := range tests {
			t.Run(tc.path, func(t *testing.T) {
				resp, body := get(t, c, "GET", ts.url(tc.path))
				if resp.StatusCode != 200 || body != tc.body {
					t.Fatalf("status %d, body %d bytes; want 200, %d bytes", resp.StatusCode, len(body), len(tc.body))
				}
				h := resp.Header
				if !strings.HasPrefix(h.Get("Content-Type"), tc.ctype) {
					t.Errorf("Content-Type %q, want %q", h.Get("Content-Type"), tc.ctype)
				}
				if resp.ContentLength != int64(len(tc.body)) {
					t.Errorf("Content-Length %d, want %d", resp.ContentLength, len(tc.body))
				}
				if h.Get("Server") != "gibbon/0.1" {
					t.Errorf("Server %q", h.Get("Server"))
				}
				if d, err := http.ParseTime(h.Get("Date")); err != nil || time.Since(d) > time.Minute {
					t.Errorf("Date %q: %v", h.Get("Date"), err)
				}
				for _, k := range []string{"Last-Modified", "ETag"} {
					if h.Get(k) == "" {
						t.Errorf("no %s", k)
					}
				}
				if h.Get("Accept-Ranges") != "bytes" {
					t.Errorf("Accept-Ranges %q", h.Get("Accept-Ranges"))
				}
				if len(resp.TransferEncoding) > 0 || h.Get("Connection") != "" {
					t.Errorf("Transfer-Encoding %v, Connection %q", resp.TransferEncoding, h.Get("Connection"))
				}
			})
		}
	})
}

func TestHideVersion(t *testing.T) {
	t.Parallel()
	forDrivers(t, func(t *testing.T, d testDriver) {
		ts := start(t, d, func(c *config.Config) { c.Server.HideVersion = true; c.Server.Resume = false })
		resp, _ := get(t, client(t), "GET", ts.url("/hello.txt"))
		if got := resp.Header.Get("Server"); got != "gibbon" {
			t.Errorf("Server %q, want gibbon", got)
		}
		if got := resp.Header.Get("Accept-Ranges"); got != "" {
			t.Errorf("Accept-Ranges %q with Resume off", got)
		}
	})
}

func TestKeepAliveReuse(t *testing.T) {
	t.Parallel()
	forDrivers(t, func(t *testing.T, d testDriver) {
		ts := start(t, d, nil)
		c := client(t)
		var reused []bool
		for range 3 {
			trace := &httptrace.ClientTrace{GotConn: func(i httptrace.GotConnInfo) { reused = append(reused, i.Reused) }}
			req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), "GET", ts.url("/hello.txt"), nil)
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		if len(reused) != 3 || reused[0] || !reused[1] || !reused[2] {
			t.Fatalf("reused = %v, want [false true true]", reused)
		}
	})
}

func TestPipelining(t *testing.T) {
	t.Parallel()
	forDrivers(t, func(t *testing.T, d testDriver) {
		ts := start(t, d, nil)
		rc := dial(t, ts.addr)
		rc.send("GET /hello.txt HTTP/1.1\r\nHost: localhost\r\n\r\n" +
			"HEAD /digits.txt HTTP/1.1\r\nHost: localhost\r\n\r\n" +
			"GET /missing HTTP/1.1\r\nHost: localhost\r\n\r\n" +
			"GET /digits.txt HTTP/1.1\r\nHost: localhost\r\nRange: bytes=2-4\r\n\r\n")
		want := []struct {
			method string
			status int
			body   string
		}{
			{"GET", 200, testFiles["hello.txt"]},
			{"HEAD", 200, ""},
			{"GET", 404, testFiles["errors/404.html"]},
			{"GET", 206, "234"},
		}
		for i, w := range want {
			resp, body := rc.response(w.method)
			if resp.StatusCode != w.status || body != w.body {
				t.Fatalf("response %d: %d %q, want %d %q", i, resp.StatusCode, body, w.status, w.body)
			}
		}
		// The connection stays usable.
		rc.send("GET /hello.txt HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
		if resp, _ := rc.response("GET"); resp.StatusCode != 200 || !resp.Close {
			t.Fatalf("last response %d close=%v", resp.StatusCode, resp.Close)
		}
		rc.expectClosed(2 * time.Second)
	})
}

// TestPipelinedBigFiles mixes sendfile and inline bodies in one batch.
func TestPipelinedBigFiles(t *testing.T) {
	t.Parallel()
	forDrivers(t, func(t *testing.T, d testDriver) {
		ts := start(t, d, nil)
		rc := dial(t, ts.addr)
		req := "GET /big.bin HTTP/1.1\r\nHost: localhost\r\n\r\nGET /hello.txt HTTP/1.1\r\nHost: localhost\r\n\r\n"
		rc.send(req + req)
		big := string(bigContent())
		for i := range 4 {
			want := big
			if i%2 == 1 {
				want = testFiles["hello.txt"]
			}
			if _, body := rc.response("GET"); body != want {
				t.Fatalf("response %d: %d bytes, want %d", i, len(body), len(want))
			}
		}
	})
}

func TestHTTP10(t *testing.T) {
	t.Parallel()
	forDrivers(t, func(t *testing.T, d testDriver) {
		ts := start(t, d, nil)
		t.Run("close", func(t *testing.T) {
			rc := dial(t, ts.addr)
			rc.send("GET /hello.txt HTTP/1.0\r\n\r\n")
			resp, body := rc.response("GET")
			if resp.StatusCode != 200 || body != testFiles["hello.txt"] {
				t.Fatalf("%d %q", resp.StatusCode, body)
			}
			if !resp.Close {
				t.Error("no Connection: close")
			}
			rc.expectClosed(2 * time.Second)
		})
		t.Run("keep-alive", func(t *testing.T) {
			rc := dial(t, ts.addr)
			for range 2 {
				rc.send("GET /hello.txt HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
				resp, _ := rc.response("GET")
				if resp.StatusCode != 200 || resp.Header.Get("Connection") != "keep-alive" {
					t.Fatalf("%d Connection %q", resp.StatusCode, resp.Header.Get("Connection"))
				}
			}
		})
	})
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	forDrivers(t, func(t *testing.T, d testDriver) {
		ts := start(t, d, func(c *config.Config) { c.Server.MaxRequestSize = 4 << 10 })
		tests := []struct {
			name, req string
			status    int
		}{
			{"garbage", "hello\r\n\r\n", 400},
			{"no host", "GET / HTTP/1.1\r\n\r\n", 400},
			{"two hosts", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400},
			{"http/0.9", "GET /\r\n\r\n", 400},
			{"version", "GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505},
			{"unknown method", "BREW / HTTP/1.1\r\nHost: a\r\n\r\n", 501},
			{"obs-fold", "GET / HTTP/1.1\r\nHost: a\r\nX: 1\r\n 2\r\n\r\n", 400},
			{"cl and te", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", 400},
			{"bad cl", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", 400},
			{"uri too long", "GET /" + strings.Repeat("a", 9000) + " HTTP/1.1\r\nHost: a\r\n\r\n", 414},
			{"head too large", "GET / HTTP/1.1\r\nHost: a\r\nX: " + strings.Repeat("b", 5000) + "\r\n\r\n", 431},
			{"head too large, incomplete", "GET / HTTP/1.1\r\nHost: a\r\nX: " + strings.Repeat("b", 5000), 431},
			{"bad chunked", "POST /hello.txt HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				rc := dial(t, ts.addr)
				rc.send(tc.req)
				resp, _ := rc.response("GET")
				if resp.StatusCode != tc.status {
					t.Fatalf("status %d, want %d", resp.StatusCode, tc.status)
				}
				if !resp.Close {
					t.Error("no Connection: close")
				}
				rc.expectClosed(3 * time.Second)
			})
		}
	})
}

func TestRequestBodies(t *testing.T) {
	t.Parallel()
	forDrivers(t, func(t *testing.T, d testDriver) {
		ts := start(t, d, func(c *config.Config) {
			c.Server.MaxRequestSize = 1 << 10
			c.Hosts[0].ErrorPages[405] = "missing.html" // unreadable: built-in page
		})
		const next = "GET /digits.txt HTTP/1.1\r\nHost: a\r\n\r\n"
		tests := []struct {
			name, req string
			status    int
			cont      bool // a 100 Continue comes first
			closed    bool
		}{
			{"post with body", "POST /hello.txt HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nabcde", 405, false, false},
			{"chunked", "POST /hello.txt HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\nT: v\r\n\r\n", 405, false, false},
			{"expect continue", "POST /hello.txt HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n", 405, true, false},
			{"too large", "POST /hello.txt HTTP/1.1\r\nHost: a\r\nContent-Length: 2000\r\n\r\n", 413, false, true},
			{"too large, expect", "POST /hello.txt HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 2000\r\n\r\n", 413, false, true},
			{"chunked too large", "POST /hello.txt HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n800\r\n" + strings.Repeat("x", 2048) + "\r\n0\r\n\r\n", 413, false, true},
			{"unknown expectation", "GET /hello.txt HTTP/1.1\r\nHost: a\r\nExpect: tea\r\n\r\n", 417, false, true},
			{"get with body", "GET /digits.txt HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nxyz", 200, false, false},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				rc := dial(t, ts.addr)
				rc.send(tc.req)
				if tc.cont {
					resp, _ := rc.response("POST")
					if resp.StatusCode != 100 {
						t.Fatalf("first response %d, want 100", resp.StatusCode)
					}
					rc.send("abcde")
				}
				resp, body := rc.response("POST")
				if resp.StatusCode != tc.status {
					t.Fatalf("status %d, want %d (body %q)", resp.StatusCode, tc.status, body)
				}
				if tc.status == 405 {
					if resp.Header.Get("Allow") != "GET, HEAD, OPTIONS" {
						t.Errorf("Allow %q", resp.Header.Get("Allow"))
					}
					if !strings.Contains(body, "405 Method Not Allowed") {
						t.Errorf("body %q, want the built-in page", body)
					}
				}
				if tc.closed {
					if !resp.Close {
						t.Error("no Connection: close")
					}
					rc.expectClosed(3 * time.Second)
					return
				}
				rc.send(next)
				if resp, body := rc.response("GET"); resp.StatusCode != 200 || body != testFiles["digits.txt"] {
					t.Fatalf("next request: %d %q", resp.StatusCode, body)
				}
			})
		}
	})
}

func TestMethods(t *testing.T) {
	t.Parallel()
	forDrivers(t, func(t *testing.T, d testDriver) {
		ts := start(t, d, nil)
		tests := []struct {
			name, req string
			status    int
			allow     string
			clen      string
		}{
			{"options star", "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n", 200, "GET, HEAD, OPTIONS", "0"},
			{"options file", "OPTIONS /hello.txt HTTP/1.1\r\nHost: a\r\n\r\n", 200, "GET, HEAD, OPTIONS", "0"},
			{"delete", "DELETE /hello.txt HTTP/1.1\r\nHost: a\r\n\r\n", 405, "GET, HEAD, OPTIONS", ""},
			{"connect", "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n", 405, "GET, HEAD, OPTIONS", ""},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				rc := dial(t, ts.addr)
				rc.send(tc.req)
				resp, _ := rc.response("GET")
				if resp.StatusCode != tc.status || resp.Header.Get("Allow") != tc.allow {
					t.Fatalf("%d Allow %q, want %d %q", resp.StatusCode, resp.Header.Get("Allow"), tc.status, tc.allow)
				}
				if tc.clen != "" && resp.Header.Get("Content-Length") != tc.clen {
					t.Errorf("Content-Length %q, want %q", resp.Header.Get("Content-Length"), tc.clen)
				}
			})
		}
	})
}

func TestHead(t *testing.T) {
	t.Parallel()
	forDrivers(t, func(t *testing.T, d testDriver) {
		ts := start(t, d, nil)
		rc := dial(t, ts.addr)
		// A HEAD answer followed directly by the next response proves it has no body.
		rc.send("HEAD /big.bin HTTP/1.1\r\nHost: a\r\n\r\nHEAD /nope HTTP/1.1\r\nHost: a\r\n\r\nGET /digits.txt HTTP/1.1\r\nHost: a\r\n\r\n")
		resp, _ := rc.response("HEAD")
		if resp.StatusCode != 200 || resp.Header.Get("Content-Length") != "307200" {
			t.Fatalf("HEAD: %d Content-Length %q", resp.StatusCode, resp.Header.Get("Content-Length"))
		}
		resp, _ = rc.response("HEAD")
		if resp.StatusCode != 404 || resp.Header.Get("Content-Length") != "26" {
			t.Fatalf("HEAD 404: %d Content-Length %q", resp.StatusCode, resp.Header.Get("Content-Length"))
		}
		if resp, body := rc.response("GET"); resp.StatusCode != 200 || body != testFiles["digits.txt"] {
			t.Fatalf("GET after HEAD: %d %q", resp.StatusCode, body)
		}
	})
}

func TestRanges(t *testing.T) {
	t.Parallel()
	forDrivers(t, func(t *testing.T, d testDriver) {
		ts := start(t, d, nil)
		c := client(t)
		big := string(bigContent())

		resp, body := get(t, c, "GET", ts.url("/digits.txt"), "Range", "bytes=3-5")
		if resp.StatusCode != 206 || body != "345" || resp.Header.Get("Content-Range") != "bytes 3-5/10" {
			t.Fatalf("single: %d %q %q", resp.StatusCode, body, resp.Header.Get("Content-Range"))
		}
		resp, body = get(t, c, "GET", ts.url("/big.bin"), "Range", "bytes=100000-250000")
		if resp.StatusCode != 206 || body != big[100000:250001] {
			t.Fatalf("single big: %d, %d bytes", resp.StatusCode, len(body))
		}
		resp, _ = get(t, c, "GET", ts.url("/digits.txt"), "Range", "bytes=50-")
		if resp.StatusCode != 416 || resp.Header.Get("Content-Range") != "bytes */10" {
			t.Fatalf("unsatisfiable: %d %q", resp.StatusCode, resp.Header.Get("Content-Range"))
		}

		resp, body = get(t, c, "GET", ts.url("/big.bin"), "Range", "bytes=0-1,200000-299999")
		mt, params, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
		if resp.StatusCode != 206 || err != nil || mt != "multipart/byteranges" {
			t.Fatalf("multi: %d %q %v", resp.StatusCode, resp.Header.Get("Content-Type"), err)
		}
		if int64(len(body)) != resp.ContentLength {
			t.Fatalf("multi: body %d bytes, Content-Length %d", len(body), resp.ContentLength)
		}
		mr := multipart.NewReader(strings.NewReader(body), params["boundary"])
		wantParts := []struct{ rng, body string }{
			{"bytes 0-1/307200", big[:2]},
			{"bytes 200000-299999/307200", big[200000:300000]},
		}
		for i, w := range wantParts {
			p, err := mr.NextPart()
			if err != nil {
				t.Fatalf("part %d: %v", i, err)
			}
			b, _ := io.ReadAll(p)
			if p.Header.Get("Content-Range") != w.rng || string(b) != w.body {
				t.Fatalf("part %d: %q, %d bytes", i, p.Header.Get("Content-Range"), len(b))
			}
		}
		if _, err := mr.NextPart(); err != io.EOF {
			t.Fatalf("after the parts: %v", err)
		}
	})
}

func TestNotModified(t *testing.T) {
	t.Parallel()
	forDrivers(t, func(t *testing.T, d testDriver) {
		ts := start(t, d, nil)
		c := client(t)
		resp, _ := get(t, c, "GET", ts.url("/hello.txt"))
		etag := resp.Header.Get("ETag")
		resp, body := get(t, c, "GET", ts.url("/hello.txt"), "If-None-Match", etag)
		if resp.StatusCode != 304 || body != "" || resp.Header.Get("ETag") != etag {
			t.Fatalf("%d %q ETag %q", resp.StatusCode, body, resp.Header.Get("ETag"))
		}
		if resp.Header.Get("Content-Length") != "" {
			t.Errorf("304 with Content-Length %q", resp.Header.Get("Content-Length"))
		}
		// The connection is still in step after a 304.
		if resp, _ := get(t, c, "GET", ts.url("/hello.txt")); resp.StatusCode != 200 {
			t.Fatalf("after 304: %d", resp.StatusCode)
		}
	})
}

func TestErrorPages(t *testing.T) {
	t.Parallel()
	forDrivers(t, func(t *testing.T, d testDriver) {
		ts := start(t, d, nil)
		c := client(t)
		resp, body := get(t, c, "GET", ts.url("/no/such/file"))
		if resp.StatusCode != 404 || body != testFiles["errors/404.html"] || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
			t.Fatalf("custom 404: %d %q %q", resp.StatusCode, resp.Header.Get("Content-Type"), body)
		}
		// The redirect host has no error pages; traversal is refused by static.
		resp, body = get(t, c, "GET", ts.url("/%2e%2e/%2e%2e/etc/passwd"))
		if resp.StatusCode != 400 && resp.StatusCode != 404 {
			t.Fatalf("traversal: %d", resp.StatusCode)
		}
		if !strings.Contains(body, "<h1>") {
			t.Fatalf("built-in page missing: %q", body)
		}
	})
}

func TestRedirect(t *testing.T) {
	t.Parallel()
	forDrivers(t, func(t *testing.T, d testDriver) {
		ts := start(t, d, nil)
		c := client(t)
		resp, body := get(t, c, "GET", ts.url("/a/b.html?x=1&y=2"), "Host", "old.test")
		if resp.StatusCode != 301 || resp.Header.Get("Location") != "http://new.test/a/b.html?x=1&y=2" {
			t.Fatalf("redirect: %d Location %q", resp.StatusCode, resp.Header.Get("Location"))
		}
		if !strings.Contains(body, "http://new.test/a/b.html?x=1&amp;y=2") {
			t.Errorf("body %q", body)
		}
		resp, _ = get(t, c, "GET", ts.url("/dir?q=1"))
		if resp.StatusCode != 301 || resp.Header.Get("Location") != "/dir/?q=1" {
			t.Fatalf("directory: %d Location %q", resp.StatusCode, resp.Header.Get("Location"))
		}
		resp, _ = get(t, c, "GET", ts.url("/dir"))
		if resp.Header.Get("Location") != "/dir/" {
			t.Fatalf("directory without query: Location %q", resp.Header.Get("Location"))
		}
	})
}

func TestTimeouts(t *testing.T) {
	t.Parallel()
	forDrivers(t, func(t *testing.T, d testDriver) {
		ts := start(t, d, func(c *config.Config) {
			c.Server.Timeout = 300 * time.Millisecond
			c.Server.KeepAliveTimeout = 300 * time.Millisecond
		})
		t.Run("partial head", func(t *testing.T) {
			t.Parallel()
			rc := dial(t, ts.addr)
			rc.send("GET /hello.txt HTTP/1.1\r\nHost: a\r\n")
			rc.expectClosed(3 * time.Second)
		})
		t.Run("trickled head", func(t *testing.T) {
			t.Parallel()
			rc := dial(t, ts.addr)
			deadline := time.Now().Add(3 * time.Second)
			for time.Now().Before(deadline) {
				if _, err := rc.nc.Write([]byte("X")); err != nil {
					return // closed by the server
				}
				time.Sleep(50 * time.Millisecond)
			}
			rc.expectClosed(time.Second)
		})
		t.Run("partial body", func(t *testing.T) {
			t.Parallel()
			rc := dial(t, ts.addr)
			rc.send("POST /hello.txt HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc")
			rc.expectClosed(3 * time.Second)
		})
		t.Run("idle keep-alive", func(t *testing.T) {
			t.Parallel()
			rc := dial(t, ts.addr)
			rc.send("GET /hello.txt HTTP/1.1\r\nHost: a\r\n\r\n")
			if resp, _ := rc.response("GET"); resp.StatusCode != 200 || resp.Close {
				t.Fatalf("%d close=%v", resp.StatusCode, resp.Close)
			}
			rc.expectClosed(3 * time.Second)
		})
		t.Run("silent new connection", func(t *testing.T) {
			t.Parallel()
			rc := dial(t, ts.addr)
			rc.expectClosed(3 * time.Second)
		})
	})
}

func TestMaxKeepAliveRequest(t *testing.T) {
	t.Parallel()
	forDrivers(t, func(t *testing.T, d testDriver) {
		ts := start(t, d, func(c *config.Config) { c.Server.MaxKeepAliveRequest = 3 })
		rc := dial(t, ts.addr)
		for i := 1; i <= 3; i++ {
			rc.send("GET /hello.txt HTTP/1.1\r\nHost: a\r\n\r\n")
			resp, _ := rc.response("GET")
			if resp.StatusCode != 200 || resp.Close != (i == 3) {
				t.Fatalf("request %d: %d close=%v", i, resp.StatusCode, resp.Close)
			}
		}
		rc.expectClosed(2 * time.Second)
	})
}

func TestKeepAliveOff(t *testing.T) {
	t.Parallel()
	forDrivers(t, func(t *testing.T, d testDriver) {
		ts := start(t, d, func(c *config.Config) { c.Server.KeepAlive = false })
		rc := dial(t, ts.addr)
		rc.send("GET /hello.txt HTTP/1.1\r\nHost: a\r\n\r\nGET /hello.txt HTTP/1.1\r\nHost: a\r\n\r\n")
		if resp, _ := rc.response("GET"); resp.StatusCode != 200 || !resp.Close {
			t.Fatalf("%d close=%v", resp.StatusCode, resp.Close)
		}
		rc.expectClosed(2 * time.Second)
	})
}

func TestPanicRecovered(t *testing.T) {
	t.Parallel()
	forDrivers(t, func(t *testing.T, d testDriver) {
		ts := start(t, d, nil)
		hook := func(req *http1.Request) {
			if string(req.Path) == "/panic" {
				panic("test panic")
			}
		}
		ts.testHookHandle.Store(&hook)
		rc := dial(t, ts.addr)
		rc.send("GET /panic HTTP/1.1\r\nHost: a\r\n\r\n")
		rc.expectClosed(2 * time.Second)
		if resp, _ := get(t, client(t), "GET", ts.url("/hello.txt")); resp.StatusCode != 200 {
			t.Fatalf("after a panic: %d", resp.StatusCode)
		}
	})
}

func TestShutdown(t *testing.T) {
	t.Parallel()
	forDrivers(t, func(t *testing.T, d testDriver) {
		cfg := testConfig(t)
		s, err := New(cfg, d.options(discardLogger()))
		if err != nil {
			t.Fatal(err)
		}
		served := make(chan error, 1)
		go func() { served <- s.Serve() }()
		var addr string
		for addr == "" {
			if a := s.Addrs(); len(a) > 0 {
				addr = a[0].String()
			}
			time.Sleep(time.Millisecond)
		}

		idle := dial(t, addr)
		idle.send("GET /hello.txt HTTP/1.1\r\nHost: a\r\n\r\n")
		idle.response("GET")
		silent := dial(t, addr)
		busy := dial(t, addr)
		busy.send("GET /hello.txt HTTP/1.1\r\nHost: a\r\n") // in flight: head not complete
		waitStates(t, s, 1, 1, 3)

		done := make(chan error, 1)
		go func() { done <- s.Shutdown(context.Background()) }()

		idle.expectClosed(2 * time.Second)
		silent.expectClosed(2 * time.Second)
		if err := <-served; err != nil {
			t.Fatalf("Serve: %v", err)
		}
		// The epoll loops close their listeners as they see the shutdown,
		// a moment after Serve returned.
		for deadline := time.Now().Add(2 * time.Second); ; time.Sleep(10 * time.Millisecond) {
			c, err := net.DialTimeout("tcp", addr, time.Second)
			if err != nil {
				break
			}
			c.Close()
			if time.Now().After(deadline) {
				t.Fatal("new connection accepted after Shutdown")
			}
		}
		select {
		case err := <-done:
			t.Fatalf("Shutdown returned %v with a request in flight", err)
		case <-time.After(100 * time.Millisecond):
		}
		busy.send("\r\n")
		resp, body := busy.response("GET")
		if resp.StatusCode != 200 || body != testFiles["hello.txt"] || !resp.Close {
			t.Fatalf("in-flight request: %d %q close=%v", resp.StatusCode, body, resp.Close)
		}
		busy.expectClosed(2 * time.Second)
		if err := <-done; err != nil {
			t.Fatalf("Shutdown: %v", err)
		}
		if err := s.Serve(); err != nil {
			t.Fatalf("Serve after Shutdown: %v", err)
		}
	})
}

func TestShutdownDeadline(t *testing.T) {
	t.Parallel()
	forDrivers(t, func(t *testing.T, d testDriver) {
		s, err := New(testConfig(t), d.options(discardLogger()))
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Listen(); err != nil {
			t.Fatal(err)
		}
		served := make(chan error, 1)
		go func() { served <- s.Serve() }()
		busy := dial(t, s.Addrs()[0].String())
		busy.send("GET /hello.txt HTTP/1.1\r\n")
		waitStates(t, s, 1, 0, 1)
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		if err := s.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Shutdown: %v, want deadline exceeded", err)
		}
		busy.expectClosed(time.Second)
		if err := <-served; err != nil {
			t.Fatalf("Serve: %v", err)
		}
	})
}

func TestNewErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		mutate func(*config.Config)
		want   string
	}{
		{"missing root", func(c *config.Config) { c.Hosts[1].DocumentRoot = "/no/such/dir" }, "/no/such/dir"},
		{"root is a file", func(c *config.Config) { c.Hosts[0].DocumentRoot += "/hello.txt" }, "hello.txt"},
		{"tls certificate missing", func(c *config.Config) {
			c.Server.Listen[0].Flags = []string{"tls"}
			c.TLS = config.TLS{CertificateFile: "/no/cert.pem", KeyFile: "/no/key.pem"}
		}, "/no/cert.pem"},
		{"tls key without certificate", func(c *config.Config) {
			c.Server.Listen[0].Flags = []string{"tls"}
			c.TLS = config.TLS{KeyFile: "/no/key.pem"}
		}, "CertificateFile"},
		{"no hosts", func(c *config.Config) { c.Hosts = nil }, "host"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := testConfig(t)
			tc.mutate(cfg)
			_, err := New(cfg, Options{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("New: %v, want an error mentioning %q", err, tc.want)
			}
		})
	}
}

func TestListenError(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	cfg := testConfig(t)
	cfg.Server.Listen = []config.Listen{{Addr: "127.0.0.1:0"}, {Addr: ln.Addr().String()}}
	s, err := New(cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Listen()
	if err == nil || !strings.Contains(err.Error(), ln.Addr().String()) {
		t.Fatalf("Listen: %v, want an error naming %s", err, ln.Addr())
	}
	if len(s.Addrs()) != 0 {
		t.Fatalf("Addrs after a failed Listen: %v", s.Addrs())
	}
}

func TestTwoServers(t *testing.T) {
	t.Parallel()
	forDrivers(t, func(t *testing.T, d testDriver) {
		a, b := start(t, d, nil), start(t, d, func(c *config.Config) { c.Server.HideVersion = true })
		c := client(t)
		ra, _ := get(t, c, "GET", a.url("/hello.txt"))
		rb, _ := get(t, c, "GET", b.url("/hello.txt"))
		if ra.Header.Get("Server") == rb.Header.Get("Server") {
			t.Fatalf("both servers answer %q", ra.Header.Get("Server"))
		}
	})
}

func TestConnStateString(t *testing.T) {
	t.Parallel()
	for s, want := range map[ConnState]string{StateNew: "new", StateActive: "active", StateIdle: "idle", StateClosed: "closed", 9: "ConnState(9)"} {
		if got := s.String(); got != want {
			t.Errorf("%d.String() = %q, want %q", s, got, want)
		}
	}
}

// waitStates waits until s has at least active connections with a
// request in progress and idle ones between requests, out of conns
// connections. The loops' progress is not observable: with the epoll
// driver it waits for conns accepted connections and then a while for
// their bytes to be read.
func waitStates(t *testing.T, s *Server, active, idle, conns int) {
	t.Helper()
	if s.Driver() == DriverGoroutine {
		waitState(t, s, StateActive, active)
		waitState(t, s, StateIdle, idle)
		return
	}
	deadline := time.Now().Add(5 * time.Second)
	for accepted(s) < conns {
		if time.Now().After(deadline) {
			t.Fatalf("fewer than %d connections accepted", conns)
		}
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond)
}

// accepted counts the connections the engine of s has accepted.
func accepted(s *Server) int {
	s.mu.Lock()
	e := s.eng
	s.mu.Unlock()
	n := 0
	for _, w := range e.Stats() {
		n += int(w.Accepted)
	}
	return n
}

// waitState waits until at least n connections of s are in state want.
func waitState(t *testing.T, s *Server, want ConnState, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		s.mu.Lock()
		got := 0
		for c := range s.conns {
			if ConnState(c.state.Load()) == want {
				got++
			}
		}
		s.mu.Unlock()
		if got >= n {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("fewer than %d connections reached %v", n, want)
}
