package proxy_test

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"gibbon/internal/loopback"
)

// closingBackend answers one request per connection (a body of
// Content-Length bytes is read first) without announcing Connection:
// close, then closes the connection: the keep-alive race of a server that
// drops idle connections. It counts connections.
func closingBackend(t *testing.T, answer func(head string) string) (string, *atomic.Int64) {
	t.Helper()
	var conns atomic.Int64
	addr := loopback.Serve(t, func(c net.Conn) {
		conns.Add(1)
		var in []byte
		buf := make([]byte, 4096)
		for !bytes.Contains(in, []byte("\r\n\r\n")) {
			n, err := c.Read(buf)
			if err != nil {
				return
			}
			in = append(in, buf[:n]...)
		}
		head := string(in[:bytes.Index(in, []byte("\r\n\r\n"))+4])
		var cl int
		for _, l := range strings.Split(head, "\r\n") {
			if k, v, ok := strings.Cut(l, ": "); ok && strings.EqualFold(k, "Content-Length") {
				fmt.Sscan(v, &cl)
			}
		}
		for len(in)-len(head) < cl {
			n, err := c.Read(buf)
			if err != nil {
				return
			}
			in = append(in, buf[:n]...)
		}
		io.WriteString(c, answer(head+string(in[len(head):])))
	})
	return addr, &conns
}

// TestKeepAliveRace: a reused connection that the server closed while it
// was idle costs neither a GET (sent again on a new connection) nor a
// POST (the closed connection is not used).
func TestKeepAliveRace(t *testing.T) {
	t.Parallel()
	addr, conns := closingBackend(t, func(req string) string {
		body := req[strings.Index(req, "\r\n\r\n")+4:]
		return fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s", len(body)+2, "ok"+body)
	})
	p, px := load(t, upstream("", "a "+addr))
	for i := range 3 {
		if got := get(t, p, "", "/"); got != "ok" {
			t.Fatalf("GET %d: %q", i, got)
		}
		time.Sleep(50 * time.Millisecond) // the server closed the kept connection
		w, err := call(t, p, "", "POST", "/", strings.NewReader("hello"), "Content-Length: 5")
		if err != nil || w.Code != 200 || w.Body.String() != "okhello" {
			t.Fatalf("POST %d: %d %q %v", i, w.Code, w.Body.String(), err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if n := conns.Load(); n != 6 {
		t.Errorf("%d connections for 6 requests", n)
	}
	if s := serverStats(t, px, "a"); s.Failures != 0 || s.State != "UP" {
		t.Errorf("the keep-alive race counted against the server: %+v", s)
	}
}

// TestResponseFraming: chunked, close-delimited and HEAD answers, an
// interim 103, and a 204, through the proxy's HTTP/1.1 client.
func TestResponseFraming(t *testing.T) {
	t.Parallel()
	answers := map[string]string{
		"/chunked": "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 99\r\n\r\n5;x=y\r\nhello\r\n6\r\n world\r\n0\r\nT: v\r\n\r\n",
		"/close":   "HTTP/1.0 200 OK\r\nX-A: 1\r\n\r\nuntil the end",
		"/early":   "HTTP/1.1 103 Early Hints\r\nLink: </s.css>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\nVia: 1.0 origin\r\n\r\nok",
		"/none":    "HTTP/1.1 204 No Content\r\nConnection: close, X-Drop\r\nX-Drop: 1\r\n\r\n",
		"/many":    "HTTP/1.1 200 OK\r\nConnection: a, , b,c\r\nX-Keep: 1\r\nConnection: d,e ,X-Drop\r\nX-Drop: 1\r\nContent-Length: 2\r\n\r\nok",
		"/head":    "HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\n",
		"/bad":     "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello",
		"/short":   "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello",
	}
	addr, _ := closingBackend(t, func(req string) string {
		path := strings.Fields(req)[1]
		return answers[path]
	})
	p, _ := load(t, upstream("", "a "+addr))
	for _, tt := range []struct {
		method, path string
		code         int
		body         string
		fields       map[string]string
		err          bool
	}{
		{"GET", "/chunked", 200, "hello world", map[string]string{"Content-Length": "", "Transfer-Encoding": ""}, false},
		{"GET", "/close", 200, "until the end", map[string]string{"X-A": "1", "Via": "1.1 gibbon"}, false},
		{"GET", "/early", 200, "ok", map[string]string{"Link": "", "Via": "1.0 origin, 1.1 gibbon"}, false},
		{"GET", "/none", 204, "", map[string]string{"X-Drop": "", "Connection": ""}, false},
		{"GET", "/many", 200, "ok", map[string]string{"X-Drop": "", "X-Keep": "1", "Connection": ""}, false},
		{"HEAD", "/head", 200, "", map[string]string{"Content-Length": "13"}, false},
		{"GET", "/bad", 0, "", nil, true},
		{"GET", "/short", 200, "hello", nil, true},
	} {
		w, err := call(t, p, "", tt.method, tt.path, nil)
		if tt.err != (err != nil) {
			t.Errorf("%s %s: error %v", tt.method, tt.path, err)
		}
		if tt.code != 0 && w.Code != tt.code || w.Body.String() != tt.body {
			t.Errorf("%s %s: got %d %q", tt.method, tt.path, w.Code, w.Body.String())
		}
		for k, v := range tt.fields {
			if g := w.Fields.Get(k); g != v {
				t.Errorf("%s %s: %s = %q, want %q", tt.method, tt.path, k, g, v)
			}
		}
	}
}
