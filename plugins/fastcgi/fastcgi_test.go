package fastcgi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/fcgi"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gibbon/internal/loopback"
	"gibbon/stage"
	"gibbon/stage/stagetest"
)

// countingListener counts accepted connections.
type countingListener struct {
	net.Listener
	accepted atomic.Int32
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.accepted.Add(1)
	}
	return c, err
}

// goBackend starts net/http/fcgi on network ("tcp" on 127.0.0.1:0 or
// "unix" in a temp dir) and returns the config line that names it.
func goBackend(t *testing.T, network string, h http.Handler) (string, *countingListener) {
	t.Helper()
	addr := "127.0.0.1:0"
	if network == "unix" {
		addr = filepath.Join(t.TempDir(), "fcgi.sock")
	}
	l, err := net.Listen(network, addr)
	must(t, err)
	cl := &countingListener{Listener: l}
	go fcgi.Serve(cl, h)
	t.Cleanup(func() { l.Close() })
	if network == "unix" {
		return "ServerPath " + addr, cl
	}
	return "ServerAddr " + l.Addr().String(), cl
}

// echo answers JSON describing the request it got.
var echo = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	sum := sha256.Sum256(body)
	env := fcgi.ProcessEnv(r)
	if big := r.URL.Query().Get("big"); big != "" {
		n, _ := strconv.Atoi(big)
		w.Header().Set("Content-Type", "application/octet-stream")
		chunk := bytes.Repeat([]byte("0123456789abcdef"), 4096)
		for n > 0 {
			k := min(n, len(chunk))
			w.Write(chunk[:k])
			n -= k
		}
		return
	}
	if r.URL.Query().Get("status") == "404" {
		w.WriteHeader(404)
	}
	if loc := r.URL.Query().Get("redirect"); loc != "" {
		w.Header().Set("Location", loc)
		if !strings.HasPrefix(loc, "/") {
			w.WriteHeader(302)
		}
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{
		"method": r.Method, "uri": r.URL.RequestURI(), "remote": r.RemoteAddr, "host": r.Host,
		"body_len": len(body), "body_sha": hex.EncodeToString(sum[:]), "body": string(body),
		"env": env, "agent": r.UserAgent(), "proxy": r.Header.Get("Proxy"),
	})
})

type echoResult struct {
	Method, URI, Remote, Host, Body, Agent, Proxy string
	BodyLen                                       int    `json:"body_len"`
	BodySha                                       string `json:"body_sha"`
	Env                                           map[string]string
}

func decode(t *testing.T, w *stagetest.StreamRecorder) echoResult {
	t.Helper()
	var res echoResult
	if err := json.Unmarshal([]byte(w.String()), &res); err != nil {
		t.Fatalf("status %d body %q: %v", w.Code, w.String(), err)
	}
	return res
}

func serverConf(name, addrLine string, extra ...string) string {
	s := "[FASTCGI_SERVER]\n    ServerName " + name + "\n    " + addrLine + "\n"
	for _, e := range extra {
		s += "    " + e + "\n"
	}
	return s
}

var phpFiles = map[string]string{
	"index.php":     "",
	"app/index.php": "",
	"info.php":      "",
	"dir/x.txt":     "",
}

func TestGoBackend(t *testing.T) {
	t.Parallel()
	for _, network := range []string{"tcp", "unix"} {
		t.Run(network, func(t *testing.T) {
			t.Parallel()
			line, _ := goBackend(t, network, echo)
			p, root := site(t, serverConf("go", line), "    Match /.*\\.php fastcgi go\n    Match /$ fastcgi\n", phpFiles)
			w, err := get(t, p, "GET", "/app/index.php/some/route?a=1", "", "Host: example.org:8080", "User-Agent: ua", "Proxy: http://evil")
			must(t, err)
			res := decode(t, w)
			if res.Env["SCRIPT_FILENAME"] != root+"/app/index.php" || res.Env["DOCUMENT_ROOT"] != root || res.Env["SERVER_NAME"] != "example.org" {
				t.Errorf("env %v", res.Env)
			}
			if res.Method != "GET" || res.URI != "/app/index.php/some/route?a=1" || res.Remote != "192.0.2.1:1234" ||
				res.Host != "example.org:8080" || res.Agent != "ua" || res.Proxy != "" {
				t.Errorf("request seen as %+v", res)
			}
			// POST with a body; chunked (spooled).
			body := strings.Repeat("form=data&", 100000)
			for _, te := range []string{"", "Transfer-Encoding: chunked"} {
				hs := []string{"Content-Type: application/x-www-form-urlencoded"}
				if te != "" {
					hs = append(hs, te)
				}
				w, err = get(t, p, "POST", "/info.php", body, hs...)
				must(t, err)
				sum := sha256.Sum256([]byte(body))
				if res := decode(t, w); res.BodyLen != len(body) || res.BodySha != hex.EncodeToString(sum[:]) {
					t.Errorf("%q: body %d bytes, want %d", te, res.BodyLen, len(body))
				}
			}
			// index.php for a directory.
			w, err = get(t, p, "GET", "/", "")
			must(t, err)
			if res := decode(t, w); res.Env["SCRIPT_FILENAME"] != root+"/index.php" {
				t.Errorf("index: SCRIPT_FILENAME %q", res.Env["SCRIPT_FILENAME"])
			}
		})
	}
}

func TestResponses(t *testing.T) {
	t.Parallel()
	line, _ := goBackend(t, "tcp", echo)
	p, _ := site(t, serverConf("go", line), "    Match /.*\\.php fastcgi\n", phpFiles)
	w, err := get(t, p, "GET", "/info.php?status=404", "")
	must(t, err)
	if w.Code != 404 {
		t.Errorf("status %d, want 404", w.Code)
	}
	w, err = get(t, p, "GET", "/info.php?redirect=https://example.org/", "")
	must(t, err)
	if w.Code != 302 || w.Sent.Get("Location") != "https://example.org/" {
		t.Errorf("absolute redirect: %d %q", w.Code, w.Sent.Get("Location"))
	}
	for target, status := range map[string]int{"/none.php": 404, "/dir/x.txt/y.php": 403} {
		if _, err := get(t, p, "GET", target, ""); stage.StatusOf(err) != status && !(status == 403 && stage.StatusOf(err) == 502) {
			t.Errorf("%s: %v, want %d", target, err, status)
		}
	}
	// 4 MiB streamed intact.
	w, err = get(t, p, "GET", "/info.php?big="+strconv.Itoa(4<<20), "")
	must(t, err)
	want := bytes.Repeat([]byte("0123456789abcdef"), (4<<20)/16)
	if !bytes.Equal(w.Body.Bytes(), want) || w.Flushes < 2 {
		t.Errorf("big: %d bytes, %d flushes", w.Body.Len(), w.Flushes)
	}
}

func TestPool(t *testing.T) {
	t.Parallel()
	for _, keep := range []bool{true, false} {
		t.Run(fmt.Sprint("keepalive=", keep), func(t *testing.T) {
			t.Parallel()
			line, l := goBackend(t, "tcp", echo)
			ka := "KeepAlive off"
			if keep {
				ka = "KeepAlive on"
			}
			p, _ := site(t, serverConf("go", line, "MaxConnections 2", ka), "    Match /.*\\.php fastcgi\n", phpFiles)
			for range 10 {
				_, err := get(t, p, "GET", "/info.php", "")
				must(t, err)
			}
			if n := l.accepted.Load(); keep && n != 1 || !keep && n != 10 {
				t.Errorf("%d connections for 10 requests", n)
			}
			// A client that goes away mid-response: the connection with an
			// unfinished request is discarded, the next request works.
			before := l.accepted.Load()
			w := &stagetest.StreamRecorder{FailAt: 100}
			if err := serve(t, p, w, request(p, "GET", "/info.php?big=1000000", "")); err == nil {
				t.Error("no error for a failed write")
			}
			w, err := get(t, p, "GET", "/info.php", "")
			must(t, err)
			decode(t, w)
			if keep && l.accepted.Load() != before+1 {
				t.Errorf("accepted %d, want %d: the broken connection was reused?", l.accepted.Load(), before+1)
			}
		})
	}
}

func TestConcurrent(t *testing.T) {
	t.Parallel()
	line, l := goBackend(t, "tcp", echo)
	p, _ := site(t, serverConf("go", line, "MaxConnections 16", "QueueTimeout 60"), "    Match /.*\\.php fastcgi\n", phpFiles)
	hammer(t, p, 500)
	if n := l.accepted.Load(); n > 16 {
		t.Errorf("%d connections, MaxConnections is 16", n)
	}
}

// hammer sends n concurrent requests and checks every answer.
func hammer(t *testing.T, p *stage.Pipeline, n int) {
	t.Helper()
	concurrently(t, n, func(i int) error {
		w := new(stagetest.StreamRecorder)
		body := "n=" + strconv.Itoa(i)
		if err := serve(t, p, w, request(p, "POST", "/info.php?i="+strconv.Itoa(i), body,
			"Content-Type: application/x-www-form-urlencoded")); err != nil {
			return err
		}
		if !strings.Contains(w.String(), `"body":"`+body+`"`) && !strings.Contains(w.String(), "body="+body+";") {
			return fmt.Errorf("request %d: %d %q", i, w.Code, w.String())
		}
		return nil
	})
}

func TestFailover(t *testing.T) {
	t.Parallel()
	dead, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	deadAddr := dead.Addr().String()
	dead.Close()
	line1, l1 := goBackend(t, "tcp", echo)
	line2, l2 := goBackend(t, "tcp", echo)
	conf := serverConf("dead", "ServerAddr "+deadAddr) + serverConf("a", line1, "KeepAlive off") + serverConf("b", line2, "KeepAlive off")
	p, _ := site(t, conf, "    Match ^/only-dead fastcgi dead\n    Match /.*\\.php fastcgi dead a b\n",
		map[string]string{"info.php": "", "only-dead/x.php": ""})
	for range 20 {
		w, err := get(t, p, "GET", "/info.php", "")
		must(t, err)
		decode(t, w)
	}
	if a, b := l1.accepted.Load(), l2.accepted.Load(); a+b != 20 || a < 5 || b < 5 {
		t.Errorf("balance: a %d, b %d", a, b)
	}
	if _, err := get(t, p, "GET", "/only-dead/x.php", ""); stage.StatusOf(err) != 502 {
		t.Errorf("only a dead backend: %v, want 502", err)
	}
}

// fakeBackend runs fn for each connection to a raw FastCGI listener.
func fakeBackend(t *testing.T, fn func(c net.Conn)) string {
	t.Helper()
	return "ServerAddr " + loopback.Serve(t, fn)
}

// readRequest reads one request up to its empty STDIN.
func readRequest(c net.Conn) (map[string]string, bool) {
	rr := newRecordReader(c)
	var params []byte
	for {
		h, content, err := rr.next()
		if err != nil {
			return nil, false
		}
		switch {
		case h.Type == typeParams:
			params = append(params, content...)
		case h.Type == typeStdin && len(content) == 0:
			pairs, _ := decodePairs(params)
			m := map[string]string{}
			for _, p := range pairs {
				m[p[0]] = p[1]
			}
			return m, true
		}
	}
}

func answer(c net.Conn, stdout string, protoStatus byte) {
	rw := newRecordWriter(c)
	if stdout != "" {
		rw.write(typeStderr, requestID, []byte("PHP Notice: test"))
		rw.write(typeStdout, requestID, []byte(stdout))
		rw.write(typeStdout, requestID, nil)
	}
	rw.write(typeEndRequest, requestID, []byte{0, 0, 0, 0, protoStatus, 0, 0, 0})
	rw.flush()
}

func TestBackendErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		fn     func(c net.Conn)
		status int
	}{
		{"garbage", func(c net.Conn) { readRequest(c); c.Write([]byte("HTTP/1.1 200 OK\r\n\r\n")) }, 502},
		{"closed before head", func(c net.Conn) { readRequest(c) }, 502},
		{"malformed head", func(c net.Conn) { readRequest(c); answer(c, "no head here", 0) }, 502},
		{"overloaded", func(c net.Conn) { readRequest(c); answer(c, "", statusOverloaded) }, 503},
		{"unknown role", func(c net.Conn) { readRequest(c); answer(c, "", statusUnknownRole) }, 502},
		{"silent", func(c net.Conn) { readRequest(c); time.Sleep(3 * time.Second) }, 504},
		{"wrong id", func(c net.Conn) {
			readRequest(c)
			rw := newRecordWriter(c)
			rw.write(typeStdout, 7, []byte("X: y\r\n\r\n"))
			rw.flush()
		}, 502},
		{"ok", func(c net.Conn) { readRequest(c); answer(c, "Content-Type: text/plain\r\n\r\nfine", 0) }, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			line := fakeBackend(t, tc.fn)
			p, _ := site(t, serverConf("fake", line, "ReadTimeout 300ms"), "    Match /.*\\.php fastcgi\n", phpFiles)
			w, err := get(t, p, "GET", "/info.php", "")
			if stage.StatusOf(err) != tc.status {
				t.Errorf("err %v, want status %d", err, tc.status)
			}
			if tc.status == 0 && w.String() != "fine" {
				t.Errorf("body %q", w.String())
			}
		})
	}
}

func TestClientGone(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	line := fakeBackend(t, func(c net.Conn) {
		readRequest(c)
		<-release
	})
	p, _ := site(t, serverConf("fake", line), "    Match /.*\\.php fastcgi\n", phpFiles)
	defer close(release)
	ctx, cancel := context.WithCancel(context.Background())
	r := request(p, "GET", "/info.php", "")
	r.SetContext(ctx)
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	err := serve(t, p, new(stagetest.StreamRecorder), r)
	if stage.StatusOf(err) != 499 || time.Since(start) > 5*time.Second {
		t.Errorf("err %v after %v, want 499 at once", err, time.Since(start))
	}
}

// busyBackend loads a site whose only FastCGI connection (MaxConnections
// 1, the given QueueTimeout) is taken by a request the backend holds until
// release is closed; done receives that request's error.
func busyBackend(t *testing.T, queueTimeout string) (p *stage.Pipeline, release chan struct{}, done chan error) {
	t.Helper()
	release = make(chan struct{})
	var got atomic.Int32
	line := fakeBackend(t, func(c net.Conn) {
		readRequest(c)
		got.Add(1)
		<-release
		answer(c, "Content-Type: text/plain\r\n\r\nok", 0)
	})
	p, _ = site(t, serverConf("fake", line, "MaxConnections 1", "QueueTimeout "+queueTimeout), "    Match /.*\\.php fastcgi\n", phpFiles)
	done = make(chan error)
	go func() { _, err := get(t, p, "GET", "/info.php", ""); done <- err }()
	for got.Load() == 0 {
		time.Sleep(5 * time.Millisecond)
	}
	return p, release, done
}

func TestQueueFull(t *testing.T) {
	t.Parallel()
	p, release, done := busyBackend(t, "100ms")
	if _, err := get(t, p, "GET", "/info.php", ""); stage.StatusOf(err) != 503 {
		t.Errorf("second request: %v, want 503", err)
	}
	close(release)
	must(t, <-done)
}

// paramsBackend answers each request with its PARAMS as JSON (the exact
// meta-variables), or with a local redirect for /redirect.php.
func paramsBackend(c net.Conn) {
	for {
		params, ok := readRequest(c)
		if !ok {
			return
		}
		if params["SCRIPT_NAME"] == "/redirect.php" {
			answer(c, "Location: /index.php?x=1\r\n\r\n", 0)
			continue
		}
		b, _ := json.Marshal(params)
		answer(c, "Content-Type: application/json\r\n\r\n"+string(b), 0)
	}
}

func TestParams(t *testing.T) {
	t.Parallel()
	line := fakeBackend(t, paramsBackend)
	files := map[string]string{"app/index.php": "", "index.php": "", "redirect.php": ""}
	p, root := site(t, serverConf("fake", line), "    Match /.*\\.php fastcgi\n    Match /$ fastcgi\n", files)
	params := func(w *stagetest.StreamRecorder) map[string]string {
		m := map[string]string{}
		if err := json.Unmarshal([]byte(w.String()), &m); err != nil {
			t.Fatalf("%q: %v", w.String(), err)
		}
		return m
	}
	r := request(p, "POST", "/app/index.php/some/route?a=1", "x=1", "Host: example.org:8080", "User-Agent: ua",
		"Proxy: http://evil", "Content-Type: application/x-www-form-urlencoded", "X-Two: 1", "X-Two: 2")
	r.Conn.TLS = true
	w := new(stagetest.StreamRecorder)
	must(t, serve(t, p, w, r))
	env := params(w)
	for k, want := range map[string]string{
		"SCRIPT_NAME": "/app/index.php", "SCRIPT_FILENAME": root + "/app/index.php", "PATH_INFO": "/some/route",
		"PATH_TRANSLATED": root + "/some/route", "DOCUMENT_ROOT": root, "QUERY_STRING": "a=1",
		"REQUEST_URI": "/app/index.php/some/route?a=1", "REQUEST_METHOD": "POST", "CONTENT_LENGTH": "3",
		"CONTENT_TYPE": "application/x-www-form-urlencoded", "GATEWAY_INTERFACE": "CGI/1.1",
		"SERVER_NAME": "example.org", "SERVER_PORT": "2001", "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "192.0.2.1",
		"REMOTE_PORT": "1234", "REDIRECT_STATUS": "200", "HTTPS": "on", "HTTP_USER_AGENT": "ua",
		"HTTP_HOST": "example.org:8080", "HTTP_X_TWO": "1, 2",
	} {
		if env[k] != want {
			t.Errorf("%s = %q, want %q", k, env[k], want)
		}
	}
	for _, k := range []string{"HTTP_PROXY", "HTTP_CONTENT_LENGTH", "HTTP_CONTENT_TYPE"} {
		if v, ok := env[k]; ok {
			t.Errorf("%s = %q is set", k, v)
		}
	}
	// The index file of a directory.
	w, err := get(t, p, "GET", "/app/", "")
	must(t, err)
	if env := params(w); env["SCRIPT_NAME"] != "/app/index.php" || env["PATH_INFO"] != "" {
		t.Errorf("index: SCRIPT_NAME %q PATH_INFO %q", env["SCRIPT_NAME"], env["PATH_INFO"])
	}
	// A local redirect is served again as a GET.
	w, err = get(t, p, "POST", "/redirect.php", "body")
	must(t, err)
	if env := params(w); env["SCRIPT_NAME"] != "/index.php" || env["QUERY_STRING"] != "x=1" || env["REQUEST_METHOD"] != "GET" {
		t.Errorf("local redirect: %v", env)
	}
}

// TestFlush checks when the body is flushed: an answer that arrives whole
// is never flushed (the server then sends it with a Content-Length in one
// write); one whose backend pauses is flushed before the pause, so the
// client gets what was produced so far.
func TestFlush(t *testing.T) {
	t.Parallel()
	t.Run("whole", func(t *testing.T) {
		t.Parallel()
		line := fakeBackend(t, func(c net.Conn) {
			readRequest(c)
			answer(c, "Content-Type: text/plain\r\n\r\nall at once", 0)
		})
		p, _ := site(t, serverConf("fake", line), "    Match /.*\\.php fastcgi\n", phpFiles)
		w, err := get(t, p, "GET", "/info.php", "")
		must(t, err)
		if w.String() != "all at once" || w.Flushes != 0 {
			t.Errorf("body %q after %d flushes, want no flush", w.String(), w.Flushes)
		}
	})
	t.Run("paused", func(t *testing.T) {
		t.Parallel()
		flushed := make(chan struct{})
		line := fakeBackend(t, func(c net.Conn) {
			readRequest(c)
			rw := newRecordWriter(c)
			rw.write(typeStdout, requestID, []byte("Content-Type: text/plain\r\n\r\nfirst "))
			rw.flush()
			select {
			case <-flushed:
			case <-time.After(10 * time.Second):
			}
			rw.write(typeStdout, requestID, []byte("second"))
			rw.write(typeStdout, requestID, nil)
			rw.write(typeEndRequest, requestID, make([]byte, 8))
			rw.flush()
		})
		p, _ := site(t, serverConf("fake", line), "    Match /.*\\.php fastcgi\n", phpFiles)
		var once sync.Once
		w := &stagetest.StreamRecorder{OnFlush: func(body []byte) {
			if string(body) == "first " {
				once.Do(func() { close(flushed) })
			}
		}}
		start := time.Now()
		must(t, serve(t, p, w, request(p, "GET", "/info.php", "")))
		if w.String() != "first second" || time.Since(start) > 5*time.Second {
			t.Errorf("body %q after %v: the first part was not flushed while the backend waited", w.String(), time.Since(start))
		}
	})
}

// TestStaleConnection: a backend that closes each connection after its
// answer, although asked to keep it. The next request finds the kept
// connection dead and is served on a new one: a request without a body
// after its first read or write fails (it can be sent again), one with a
// body after the check before reuse (its body cannot be read twice).
func TestStaleConnection(t *testing.T) {
	t.Parallel()
	closed := make(chan struct{}, 1)
	closing := fakeBackend(t, func(c net.Conn) {
		req, ok := readRequest(c)
		if !ok {
			return
		}
		answer(c, "Content-Type: text/plain\r\n\r\n"+req["REQUEST_METHOD"], 0)
		c.Close()
		closed <- struct{}{}
	})
	p, _ := site(t, serverConf("fake", closing, "MaxConnections 1"), "    Match /.*\\.php fastcgi\n", phpFiles)
	for i := range 6 {
		method, body := "GET", ""
		if i%2 == 1 {
			method, body = "POST", "x=1"
		}
		w, err := get(t, p, method, "/info.php", body)
		if err != nil || w.String() != method {
			t.Fatalf("request %d (%s): %v %q", i, method, err, w.String())
		}
		<-closed // the kept connection is dead before the next request
	}
}

// TestClientGoneWhileQueued: a request waiting for a connection slot
// longer than watchAfter ends when its client goes away, without waiting
// for QueueTimeout.
func TestClientGoneWhileQueued(t *testing.T) {
	t.Parallel()
	p, release, done := busyBackend(t, "30s")
	ctx, cancel := context.WithCancel(context.Background())
	r := request(p, "GET", "/info.php", "")
	r.SetContext(ctx)
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	err := serve(t, p, new(stagetest.StreamRecorder), r)
	if stage.StatusOf(err) != 499 || time.Since(start) > 5*time.Second {
		t.Errorf("err %v after %v, want 499 at once", err, time.Since(start))
	}
	close(release)
	must(t, <-done)
}
