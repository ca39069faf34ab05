package e2e_test

import (
	"bufio"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// startVHosts starts a server with four virtual hosts: the default
// (localhost), an exact one, a wildcard one and a redirecting one.
func startVHosts(t *testing.T) *proc {
	t.Helper()
	base := t.TempDir()
	roots := map[string]string{}
	for _, name := range []string{"default", "example", "wild"} {
		roots[name] = filepath.Join(base, name)
		writeFiles(t, roots[name], map[string]string{"whoami.txt": name})
	}
	conf := newConf(t, serverConf(), map[string]string{
		"default": hostConf(roots["default"], "localhost"),
		"example": hostConf(roots["example"], "example.com", "www.example.com"),
		"wild":    hostConf(roots["wild"], "*.wild.test"),
		"moved": hostConf(roots["default"], "moved.test") +
			"    Redirect http://new.example.test\n",
	})
	return start(t, t.TempDir(), "-c", conf)
}

func TestVirtualHosts(t *testing.T) {
	t.Parallel()
	p := startVHosts(t)
	tests := []struct {
		host string
		want string
	}{
		{"localhost", "default"},
		{"example.com", "example"},
		{"EXAMPLE.COM", "example"},
		{"example.com:8080", "example"},
		{"example.com.", "example"},
		{"www.example.com", "example"},
		{"a.wild.test", "wild"},
		{"x.y.wild.test", "wild"},
		{"wild.test", "default"},
		{"unknown.test", "default"},
		{"127.0.0.1", "default"},
	}
	for _, tc := range tests {
		t.Run("curl/"+tc.host, func(t *testing.T) {
			t.Parallel()
			if got := curl(t, "-H", "Host: "+tc.host, p.base()+"/whoami.txt"); got != tc.want {
				t.Errorf("curl -H 'Host: %s' /whoami.txt = %q, want %q", tc.host, got, tc.want)
			}
		})
		t.Run("net-http/"+tc.host, func(t *testing.T) {
			t.Parallel()
			if resp, body := get(t, p, tc.host, "/whoami.txt"); resp.StatusCode != 200 || body != tc.want {
				t.Errorf("GET /whoami.txt Host %s = %d %q, want 200 %q", tc.host, resp.StatusCode, body, tc.want)
			}
		})
	}
	t.Run("absolute-form", func(t *testing.T) {
		t.Parallel()
		r := raw(t, p.addr, "GET http://example.com/whoami.txt HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n", 5*time.Second)
		if r.status() != 200 || !strings.HasSuffix(r.data, "\r\n\r\nexample") {
			t.Errorf("absolute-form for example.com got %q, want the example host", r.data)
		}
	})
}

func TestRedirect(t *testing.T) {
	t.Parallel()
	p := startVHosts(t)
	resp, _ := get(t, p, "moved.test", "/some/path")
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusMovedPermanently || !strings.HasPrefix(loc, "http://new.example.test") || !strings.Contains(loc, "/some/path") {
		t.Errorf("GET /some/path on moved.test = %d Location %q, want 301 to http://new.example.test/some/path", resp.StatusCode, loc)
	}
	out := curl(t, "-o", "/dev/null", "-w", "%{http_code} %{redirect_url}", "-H", "Host: moved.test", p.base()+"/x")
	if !strings.HasPrefix(out, "301 http://new.example.test") {
		t.Errorf("curl on moved.test: %q, want 301 to http://new.example.test", out)
	}
}

func TestStaticFiles(t *testing.T) {
	t.Parallel()
	root := newSite(t)
	plain := filepath.Join(filepath.Dir(root), "plain")
	writeFiles(t, plain, map[string]string{"hello.txt": "plain\n"})
	conf := newConf(t, serverConf(), map[string]string{
		"default": hostConf(root, "localhost") + "\n[ERROR_PAGES]\n    404 404.html\n",
		"plain":   hostConf(plain, "plain.test"),
	})
	p := start(t, t.TempDir(), "-c", conf)

	t.Run("file", func(t *testing.T) {
		t.Parallel()
		resp, body := get(t, p, "", "/hello.txt")
		if resp.StatusCode != 200 || body != "hello world\n" {
			t.Fatalf("GET /hello.txt = %d %q", resp.StatusCode, body)
		}
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
			t.Errorf("Content-Type = %q, want text/plain", ct)
		}
		if resp.Header.Get("Date") == "" || !strings.HasPrefix(resp.Header.Get("Server"), "gibbon") {
			t.Errorf("Date %q Server %q, want both set, Server gibbon", resp.Header.Get("Date"), resp.Header.Get("Server"))
		}
	})
	t.Run("directory redirect", func(t *testing.T) {
		t.Parallel()
		resp, _ := get(t, p, "", "/dir")
		if resp.StatusCode != 301 || !strings.HasSuffix(resp.Header.Get("Location"), "/dir/") {
			t.Errorf("GET /dir = %d Location %q, want 301 to /dir/", resp.StatusCode, resp.Header.Get("Location"))
		}
	})
	t.Run("index file", func(t *testing.T) {
		t.Parallel()
		if resp, body := get(t, p, "", "/dir/"); resp.StatusCode != 200 || body != "dir index\n" {
			t.Errorf("GET /dir/ = %d %q, want the index file", resp.StatusCode, body)
		}
		if resp, body := get(t, p, "", "/"); resp.StatusCode != 200 || !strings.Contains(body, "home") {
			t.Errorf("GET / = %d %q, want index.html", resp.StatusCode, body)
		}
	})
	t.Run("404 built-in", func(t *testing.T) {
		t.Parallel()
		resp, body := get(t, p, "plain.test", "/missing.txt")
		if resp.StatusCode != 404 || body == "" {
			t.Errorf("GET /missing.txt on plain.test = %d %q, want 404 with a body", resp.StatusCode, body)
		}
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
			t.Errorf("404 Content-Type = %q, want text/html", ct)
		}
	})
	t.Run("404 error page", func(t *testing.T) {
		t.Parallel()
		resp, body := get(t, p, "", "/missing.txt")
		if resp.StatusCode != 404 || !strings.Contains(body, "custom not found page") {
			t.Errorf("GET /missing.txt = %d %q, want 404 with the [ERROR_PAGES] file", resp.StatusCode, body)
		}
	})
	t.Run("range", func(t *testing.T) {
		t.Parallel()
		out := curl(t, "-r", "0-4", "-w", "|%{http_code}", p.base()+"/hello.txt")
		if out != "hello|206" {
			t.Errorf("curl -r 0-4 = %q, want \"hello|206\"", out)
		}
		resp, body := get(t, p, "", "/hello.txt", "Range", "bytes=-6")
		if resp.StatusCode != 206 || body != "world\n" || resp.Header.Get("Content-Range") != "bytes 6-11/12" {
			t.Errorf("Range bytes=-6 = %d %q Content-Range %q", resp.StatusCode, body, resp.Header.Get("Content-Range"))
		}
		resp, _ = get(t, p, "", "/hello.txt", "Range", "bytes=100-200")
		if resp.StatusCode != 416 || resp.Header.Get("Content-Range") != "bytes */12" {
			t.Errorf("Range bytes=100-200 = %d Content-Range %q, want 416 bytes */12", resp.StatusCode, resp.Header.Get("Content-Range"))
		}
	})
	t.Run("multi-range", func(t *testing.T) {
		t.Parallel()
		hdrFile := filepath.Join(t.TempDir(), "headers")
		body := curl(t, "-r", "0-1,6-7", "-D", hdrFile, p.base()+"/hello.txt")
		hdr, err := os.ReadFile(hdrFile)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(bufio.NewReader(strings.NewReader(string(hdr))), nil)
		if err != nil {
			t.Fatalf("parsing curl -D output %q: %v", hdr, err)
		}
		mt, params, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
		if resp.StatusCode != 206 || err != nil || mt != "multipart/byteranges" {
			t.Fatalf("multi-range = %d Content-Type %q, want 206 multipart/byteranges", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		mr := multipart.NewReader(strings.NewReader(body), params["boundary"])
		want := []struct{ cr, data string }{{"bytes 0-1/12", "he"}, {"bytes 6-7/12", "wo"}}
		for i, w := range want {
			part, err := mr.NextPart()
			if err != nil {
				t.Fatalf("part %d: %v; body %q", i, err, body)
			}
			data, _ := io.ReadAll(part)
			if part.Header.Get("Content-Range") != w.cr || string(data) != w.data {
				t.Errorf("part %d = %q %q, want %q %q", i, part.Header.Get("Content-Range"), data, w.cr, w.data)
			}
		}
		if _, err := mr.NextPart(); err != io.EOF {
			t.Errorf("after the last part: %v, want EOF", err)
		}
	})
	t.Run("etag 304", func(t *testing.T) {
		t.Parallel()
		hdr := curl(t, "-D", "-", "-o", "/dev/null", p.base()+"/hello.txt")
		resp, err := http.ReadResponse(bufio.NewReader(strings.NewReader(hdr)), nil)
		if err != nil {
			t.Fatal(err)
		}
		etag := resp.Header.Get("ETag")
		if etag == "" || resp.Header.Get("Last-Modified") == "" {
			t.Fatalf("ETag %q Last-Modified %q, want both", etag, resp.Header.Get("Last-Modified"))
		}
		if out := curl(t, "-H", "If-None-Match: "+etag, "-w", "%{http_code}|%{size_download}", p.base()+"/hello.txt"); out != "304|0" {
			t.Errorf("If-None-Match %s: %q, want \"304|0\"", etag, out)
		}
		if out := curl(t, "-H", `If-None-Match: "other"`, "-o", "/dev/null", "-w", "%{http_code}", p.base()+"/hello.txt"); out != "200" {
			t.Errorf("If-None-Match other: %q, want 200", out)
		}
		lm := resp.Header.Get("Last-Modified")
		if out := curl(t, "-H", "If-Modified-Since: "+lm, "-o", "/dev/null", "-w", "%{http_code}", p.base()+"/hello.txt"); out != "304" {
			t.Errorf("If-Modified-Since %s: %q, want 304", lm, out)
		}
	})
	t.Run("HEAD", func(t *testing.T) {
		t.Parallel()
		out := curl(t, "-I", p.base()+"/hello.txt")
		resp, err := http.ReadResponse(bufio.NewReader(strings.NewReader(out)), &http.Request{Method: "HEAD"})
		if err != nil || resp.StatusCode != 200 || resp.ContentLength != 12 {
			t.Fatalf("curl -I = %q (%v), want 200 with Content-Length 12", out, err)
		}
		r := raw(t, p.addr, "HEAD /hello.txt HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n", 5*time.Second)
		if r.status() != 200 || !strings.HasSuffix(r.data, "\r\n\r\n") {
			t.Errorf("HEAD on a raw connection = %q, want 200 and no body", r.data)
		}
	})
	t.Run("keep-alive", func(t *testing.T) {
		t.Parallel()
		out := curl(t, "-o", "/dev/null", "-o", "/dev/null", "-w", "%{num_connects}\n", p.base()+"/hello.txt", p.base()+"/a.txt")
		if out != "1\n0\n" {
			t.Errorf("curl two URLs: num_connects %q, want \"1\\n0\\n\" (one connection reused)", out)
		}
	})
	t.Run("pipelining", func(t *testing.T) {
		t.Parallel()
		c, err := net.Dial("tcp", p.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		req := "GET /a.txt HTTP/1.1\r\nHost: localhost\r\n\r\n" +
			"GET /b.txt HTTP/1.1\r\nHost: localhost\r\n\r\n" +
			"GET /c.txt HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
		if _, err := c.Write([]byte(req)); err != nil {
			t.Fatal(err)
		}
		_, bodies := readResponses(t, bufio.NewReader(c), "GET", 3)
		if strings.Join(bodies, ",") != "A,BB,CCC" {
			t.Errorf("pipelined bodies = %q, want A, BB, CCC in order", bodies)
		}
	})
	t.Run("request body framing", func(t *testing.T) {
		t.Parallel()
		// The body of a refused POST looks like a request; it must be skipped
		// as body, never answered, and the next request must be answered.
		smuggled := "GET /b.txt HTTP/1.1\r\nHost: localhost\r\n\r\n"
		bodies := map[string]string{
			"content-length": fmt.Sprintf("Content-Length: %d\r\n\r\n%s", len(smuggled), smuggled),
			"chunked":        fmt.Sprintf("Transfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n0\r\n\r\n", len(smuggled), smuggled),
		}
		for name, body := range bodies {
			c, err := net.Dial("tcp", p.addr)
			if err != nil {
				t.Fatal(err)
			}
			c.SetDeadline(time.Now().Add(10 * time.Second))
			req := "POST /hello.txt HTTP/1.1\r\nHost: localhost\r\n" + body +
				"GET /a.txt HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
			if _, err := c.Write([]byte(req)); err != nil {
				t.Fatal(err)
			}
			br := bufio.NewReader(c)
			resps, _ := readResponses(t, br, "POST", 1)
			if resps[0].StatusCode != 405 {
				t.Errorf("%s: POST /hello.txt = %d, want 405", name, resps[0].StatusCode)
			}
			if !resps[0].Close {
				_, got := readResponses(t, br, "GET", 1)
				if got[0] != "A" {
					t.Errorf("%s: response after the POST has body %q, want \"A\" (the POST body was parsed as a request?)", name, got[0])
				}
			}
			if rest, _ := io.ReadAll(br); len(rest) != 0 {
				t.Errorf("%s: extra bytes after the responses: %q", name, rest)
			}
			c.Close()
		}
	})
	t.Run("expect 100-continue", func(t *testing.T) {
		t.Parallel()
		c, err := net.Dial("tcp", p.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := c.Write([]byte("POST /hello.txt HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n")); err != nil {
			t.Fatal(err)
		}
		br := bufio.NewReader(c)
		resp, err := http.ReadResponse(br, &http.Request{Method: "POST"})
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode == 100 {
			if _, err := c.Write([]byte("hello")); err != nil {
				t.Fatal(err)
			}
			resp, err = http.ReadResponse(br, &http.Request{Method: "POST"})
			if err != nil {
				t.Fatal(err)
			}
		}
		if resp.StatusCode != 405 && resp.StatusCode != 200 {
			t.Errorf("POST with Expect: 100-continue: final status %d, want 405 (static files) or 200", resp.StatusCode)
		}
	})
	t.Run("OPTIONS *", func(t *testing.T) {
		t.Parallel()
		r := raw(t, p.addr, "OPTIONS * HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n", 5*time.Second)
		if s := r.status(); s != 200 && s != 204 {
			t.Errorf("OPTIONS * = %q, want 200 or 204", r.data)
		}
		if !strings.Contains(strings.ToLower(r.data), "\r\nallow: ") {
			t.Errorf("OPTIONS * = %q, want an Allow header", r.data)
		}
	})
	t.Run("method not allowed", func(t *testing.T) {
		t.Parallel()
		resp, _ := do(t, p, http.MethodDelete, "", "/hello.txt")
		if resp.StatusCode != 405 || resp.Header.Get("Allow") == "" {
			t.Errorf("DELETE /hello.txt = %d Allow %q, want 405 with Allow", resp.StatusCode, resp.Header.Get("Allow"))
		}
	})
}
