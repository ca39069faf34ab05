package cgi_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"gibbon/stage"
	"gibbon/stage/stagetest"
)

var goCGI string // the built testdata/gocgi program

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "gibbon-cgi-test")
	if err != nil {
		panic(err)
	}
	goCGI = filepath.Join(dir, "gocgi")
	out, err := exec.Command("go", "build", "-o", goCGI, "./testdata/gocgi").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "building testdata/gocgi: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

const cgiRule = "    Match ^/cgi-bin/ cgi\n"

const envScript = "#!/bin/sh\nprintf 'Content-Type: text/plain\\n\\n'\nenv\n"

func TestEnv(t *testing.T) {
	t.Parallel()
	p, root := site(t, "", cgiRule, map[string]string{"cgi-bin/env.cgi": envScript})
	w, err := get(t, p, "GET", "/cgi-bin/env.cgi/extra/path?a=1&b=%20", "",
		"Host: www.example.org:8080", "User-Agent: gibbon-test", "Proxy: http://evil:1", "X-Custom: v1", "x-custom: v2")
	must(t, err)
	if w.Code != 200 || w.Sent.Get("Content-Type") != "text/plain" {
		t.Fatalf("status %d type %q", w.Code, w.Sent.Get("Content-Type"))
	}
	env := envOf(w.String())
	for k, want := range map[string]string{
		"GATEWAY_INTERFACE": "CGI/1.1",
		"REQUEST_METHOD":    "GET",
		"REQUEST_URI":       "/cgi-bin/env.cgi/extra/path?a=1&b=%20",
		"QUERY_STRING":      "a=1&b=%20",
		"SCRIPT_NAME":       "/cgi-bin/env.cgi",
		"SCRIPT_FILENAME":   filepath.Join(root, "cgi-bin/env.cgi"),
		"PATH_INFO":         "/extra/path",
		"PATH_TRANSLATED":   root + "/extra/path",
		"DOCUMENT_ROOT":     root,
		"REMOTE_ADDR":       "192.0.2.1",
		"REMOTE_PORT":       "1234",
		"SERVER_NAME":       "www.example.org",
		"SERVER_PORT":       "2001",
		"SERVER_PROTOCOL":   "HTTP/1.1",
		"SERVER_SOFTWARE":   "gibbon",
		"REDIRECT_STATUS":   "200",
		"HTTP_USER_AGENT":   "gibbon-test",
		"HTTP_HOST":         "www.example.org:8080",
		"HTTP_X_CUSTOM":     "v1, v2",
		"PWD":               filepath.Join(root, "cgi-bin"),
	} {
		if got, ok := env[k]; !ok || got != want {
			t.Errorf("%s = %q (set %v), want %q", k, got, ok, want)
		}
	}
	for _, k := range []string{"HTTP_PROXY", "HTTPS", "CONTENT_LENGTH", "AUTH_TYPE"} {
		if v, ok := env[k]; ok {
			t.Errorf("%s is set to %q", k, v)
		}
	}

	// TLS and an authenticated user.
	r := request(p, "GET", "/cgi-bin/env.cgi", "", "Authorization: Basic YTpi")
	r.Conn.TLS, r.User = true, "alice"
	w = new(stagetest.StreamRecorder)
	must(t, serve(t, p, w, r))
	env = envOf(w.String())
	if env["HTTPS"] != "on" || env["REMOTE_USER"] != "alice" || env["AUTH_TYPE"] != "Basic" || env["PATH_INFO"] != "" {
		t.Errorf("HTTPS %q REMOTE_USER %q AUTH_TYPE %q PATH_INFO %q", env["HTTPS"], env["REMOTE_USER"], env["AUTH_TYPE"], env["PATH_INFO"])
	}
}

// goResult is what testdata/gocgi answers.
type goResult struct {
	Method, Path, Query, Remote, Host, Body, Agent string
	Length                                         int64
	PathInfo                                       string `json:"path_info"`
	ScriptName                                     string `json:"script_name"`
}

func goSite(t *testing.T) *stage.Pipeline {
	t.Helper()
	bin, err := os.ReadFile(goCGI)
	must(t, err)
	p, _ := site(t, "", cgiRule, map[string]string{"cgi-bin/go.cgi": string(bin)})
	return p
}

func TestGoCGI(t *testing.T) {
	t.Parallel()
	p := goSite(t)
	for _, tc := range []struct {
		name, method, target, body string
		headers                    []string
	}{
		{name: "get", method: "GET", target: "/cgi-bin/go.cgi/x/y?q=1"},
		{name: "post", method: "POST", target: "/cgi-bin/go.cgi", body: "hello=world&a=b",
			headers: []string{"Content-Type: application/x-www-form-urlencoded"}},
		{name: "chunked post", method: "POST", target: "/cgi-bin/go.cgi", body: strings.Repeat("chunk", 1000),
			headers: []string{"Transfer-Encoding: chunked"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			headers := append([]string{"Host: example.org", "User-Agent: ua"}, tc.headers...)
			w, err := get(t, p, tc.method, tc.target, tc.body, headers...)
			must(t, err)
			if w.Code != 200 || w.Sent.Get("X-Go-CGI") != "1" {
				t.Fatalf("status %d, headers %v", w.Code, w.Sent.Fields())
			}
			var res goResult
			must(t, json.Unmarshal([]byte(w.String()), &res))
			path, query, _ := strings.Cut(tc.target, "?")
			want := goResult{Method: tc.method, Path: path, Query: query, Remote: "192.0.2.1:1234", Host: "example.org",
				Body: tc.body, Agent: "ua", Length: int64(len(tc.body)), ScriptName: "/cgi-bin/go.cgi",
				PathInfo: strings.TrimPrefix(path, "/cgi-bin/go.cgi")}
			if res != want {
				t.Errorf("got  %+v\nwant %+v", res, want)
			}
		})
	}
}

func TestResponses(t *testing.T) {
	t.Parallel()
	p, _ := site(t, "", cgiRule+"    Match \\.sh$ cgi /bin/sh text/x-default\n    Match \\.txt$ cgi /bin/cat\n", map[string]string{
		"cgi-bin/404.cgi":    "#!/bin/sh\nprintf 'Status: 404 Not Found\\nContent-Type: text/plain\\n\\nno such thing'\n",
		"cgi-bin/local.cgi":  "#!/bin/sh\nprintf 'Location: /cgi-bin/target.cgi?from=local\\n\\n'\n",
		"cgi-bin/target.cgi": "#!/bin/sh\nprintf 'Content-Type: text/plain\\nSet-Cookie: a=1\\nSet-Cookie: b=2\\n\\nmethod=%s query=%s' \"$REQUEST_METHOD\" \"$QUERY_STRING\"\n",
		"cgi-bin/loop.cgi":   "#!/bin/sh\nprintf 'Location: /cgi-bin/loop.cgi\\n\\n'\n",
		"cgi-bin/abs.cgi":    "#!/bin/sh\nprintf 'Location: https://example.org/x\\n\\n'\n",
		"cgi-bin/bad.cgi":    "#!/bin/sh\necho this is not a head\n",
		"cgi-bin/silent.cgi": "#!/bin/sh\nexit 3\n",
		"cgi-bin/noexec":     "#!/bin/sh\necho\n",
		"cgi-bin/sub/x":      "",
		"plain.sh":           "printf 'X-Interp: %s\\n\\nran %s' \"$0\" \"$SCRIPT_NAME\"\n",
		"head.txt":           "Content-Type: text/html\n\n<p>hi</p>",
	})
	for _, tc := range []struct {
		name, method, target string
		status               int // from the writer
		errStatus            int // from the returned error
		body                 string
		header               [2]string
	}{
		{name: "status 404", target: "/cgi-bin/404.cgi", status: 404, body: "no such thing"},
		{name: "local redirect", method: "POST", target: "/cgi-bin/local.cgi", status: 200, body: "method=GET query=from=local"},
		{name: "redirect loop", target: "/cgi-bin/loop.cgi", errStatus: 500},
		{name: "absolute redirect", target: "/cgi-bin/abs.cgi", status: 302, header: [2]string{"Location", "https://example.org/x"}},
		{name: "malformed head", target: "/cgi-bin/bad.cgi", errStatus: 500},
		{name: "no output", target: "/cgi-bin/silent.cgi", errStatus: 500},
		{name: "not executable", target: "/cgi-bin/noexec", errStatus: 403},
		{name: "missing", target: "/cgi-bin/none.cgi", errStatus: 404},
		{name: "directory without slash", target: "/cgi-bin/sub", status: 301, header: [2]string{"Location", "/cgi-bin/sub/"}},
		{name: "directory without index", target: "/cgi-bin/sub/", errStatus: 404},
		{name: "interpreter and mimetype", target: "/plain.sh", status: 200, body: "ran /plain.sh",
			header: [2]string{"Content-Type", "text/x-default"}},
		{name: "script's own type wins", target: "/head.txt", status: 200, body: "<p>hi</p>", header: [2]string{"Content-Type", "text/html"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			method := tc.method
			if method == "" {
				method = "GET"
			}
			body := ""
			if method == "POST" {
				body = "ignored"
			}
			w, err := get(t, p, method, tc.target, body)
			if got := stage.StatusOf(err); got != tc.errStatus {
				t.Fatalf("error %v (status %d), want status %d", err, got, tc.errStatus)
			}
			if w.Code != tc.status {
				t.Errorf("status %d, want %d", w.Code, tc.status)
			}
			if tc.body != "" && w.String() != tc.body {
				t.Errorf("body %q, want %q", w.String(), tc.body)
			}
			if tc.header[0] != "" && w.Sent.Get(tc.header[0]) != tc.header[1] {
				t.Errorf("%s = %q, want %q", tc.header[0], w.Sent.Get(tc.header[0]), tc.header[1])
			}
		})
	}
	w, err := get(t, p, "GET", "/cgi-bin/target.cgi", "")
	must(t, err)
	if c := w.Sent.Values("Set-Cookie"); len(c) != 2 {
		t.Errorf("Set-Cookie %q", c)
	}
	if w, _ := get(t, p, "GET", "/plain.sh", ""); w.Sent.Get("X-Interp") != "" {
		// $0 is the script path as the interpreter's argument.
		t.Logf("X-Interp %q", w.Sent.Get("X-Interp"))
	}
}

func TestLargeOutput(t *testing.T) {
	t.Parallel()
	big := make([]byte, 10<<20)
	for i := range big {
		big[i] = byte(i*7 + i>>13)
	}
	p, _ := site(t, "", cgiRule, map[string]string{
		"cgi-bin/big.cgi": "#!/bin/sh\nprintf 'Content-Type: application/octet-stream\\n\\n'\nexec cat ../big.bin\n",
		"big.bin":         string(big),
	})
	w, err := get(t, p, "GET", "/cgi-bin/big.cgi", "")
	must(t, err)
	if got, want := sha256.Sum256(w.Body.Bytes()), sha256.Sum256(big); got != want || w.Body.Len() != len(big) {
		t.Errorf("got %d bytes, want %d intact", w.Body.Len(), len(big))
	}
	if w.Flushes < 2 {
		t.Errorf("%d flushes: output was not streamed", w.Flushes)
	}
}

func TestStreaming(t *testing.T) {
	t.Parallel()
	p, root := site(t, "[CGI]\n    TimeLimit 10\n", cgiRule, map[string]string{
		"cgi-bin/slow.cgi": "#!/bin/sh\nprintf 'Content-Type: text/plain\\n\\nfirst\\n'\n" +
			"while [ ! -e ../go ]; do sleep 0.02; done\necho second\n",
	})
	w := &stagetest.StreamRecorder{}
	var once sync.Once
	w.OnFlush = func(body []byte) {
		if bytes.Contains(body, []byte("first")) {
			once.Do(func() { must(t, os.WriteFile(filepath.Join(root, "go"), nil, 0o644)) })
		}
	}
	must(t, serve(t, p, w, request(p, "GET", "/cgi-bin/slow.cgi", "")))
	if w.String() != "first\nsecond\n" {
		t.Errorf("body %q", w.String())
	}
}

// hangScript writes its pid and its child's, sends a head (unless noHead)
// and waits for the child.
func hangScript(noHead bool) string {
	s := "#!/bin/sh\necho $$ > ../$(basename $0).pid\n"
	if !noHead {
		s += "printf 'Content-Type: text/plain\\n\\nstarted\\n'\n"
	}
	return s + "sleep 60 &\necho $! > ../$(basename $0).child\nwait\n"
}

func TestTimeLimit(t *testing.T) {
	t.Parallel()
	p, root := site(t, "[CGI]\n    TimeLimit 300ms\n", cgiRule, map[string]string{
		"cgi-bin/hang.cgi":   hangScript(false),
		"cgi-bin/nohead.cgi": hangScript(true),
	})
	for _, tc := range []struct {
		name   string
		status int
	}{{"hang.cgi", 500}, {"nohead.cgi", 504}} {
		start := time.Now()
		w, err := get(t, p, "GET", "/cgi-bin/"+tc.name, "")
		if took := time.Since(start); took > 5*time.Second {
			t.Errorf("%s: took %v", tc.name, took)
		}
		if stage.StatusOf(err) != tc.status {
			t.Errorf("%s: err %v, want status %d", tc.name, err, tc.status)
		}
		if tc.status == 500 && (w.Code != 200 || w.String() != "started\n") {
			t.Errorf("%s: %d %q", tc.name, w.Code, w.String())
		}
		gone(t, readPid(t, filepath.Join(root, tc.name+".pid")))
		gone(t, readPid(t, filepath.Join(root, tc.name+".child")))
	}
}

func TestClientGone(t *testing.T) {
	t.Parallel()
	p, root := site(t, "", cgiRule, map[string]string{
		"cgi-bin/ctx.cgi": hangScript(false),
		"cgi-bin/write.cgi": "#!/bin/sh\necho $$ > ../write.cgi.pid\nprintf 'Content-Type: text/plain\\n\\n'\n" +
			"sleep 60 &\necho $! > ../write.cgi.child\nwhile :; do echo more; sleep 0.01; done\n",
	})
	t.Run("context", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var once sync.Once
		child := filepath.Join(root, "ctx.cgi.child")
		w := &stagetest.StreamRecorder{OnFlush: func([]byte) {
			once.Do(func() { go func() { readPid(t, child); cancel() }() })
		}}
		r := request(p, "GET", "/cgi-bin/ctx.cgi", "")
		r.SetContext(ctx)
		done := make(chan error, 1)
		go func() { done <- serve(t, p, w, r) }()
		select {
		case err := <-done:
			if err == nil {
				t.Error("no error after the client went away")
			}
		case <-time.After(10 * time.Second):
			t.Fatal("the handler did not return after the context ended")
		}
		gone(t, readPid(t, filepath.Join(root, "ctx.cgi.pid")))
		gone(t, readPid(t, child))
	})
	t.Run("write error", func(t *testing.T) {
		w := &stagetest.StreamRecorder{FailAt: 20}
		err := serve(t, p, w, request(p, "GET", "/cgi-bin/write.cgi", ""))
		if !errors.Is(err, stagetest.ErrGone) {
			t.Errorf("err %v, want the write error", err)
		}
		gone(t, readPid(t, filepath.Join(root, "write.cgi.pid")))
		gone(t, readPid(t, filepath.Join(root, "write.cgi.child")))
	})
}

func TestConcurrent(t *testing.T) {
	t.Parallel()
	p, _ := site(t, "[CGI]\n    MaxProcesses 8\n    QueueTimeout 60\n", cgiRule, map[string]string{
		"cgi-bin/echo.cgi": "#!/bin/sh\nprintf 'Content-Type: text/plain\\n\\n%s' \"$QUERY_STRING\"\n",
	})
	const n = 200
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := new(stagetest.StreamRecorder)
			if err := serve(t, p, w, request(p, "GET", "/cgi-bin/echo.cgi?n="+strconv.Itoa(i), "")); err != nil {
				errs <- err
				return
			}
			if w.Code != 200 || w.String() != "n="+strconv.Itoa(i) {
				errs <- fmt.Errorf("request %d: %d %q", i, w.Code, w.String())
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestQueueFull(t *testing.T) {
	t.Parallel()
	p, root := site(t, "[CGI]\n    MaxProcesses 1\n    QueueTimeout 100ms\n", cgiRule, map[string]string{
		"cgi-bin/hang.cgi": hangScript(false),
		"cgi-bin/echo.cgi": "#!/bin/sh\nprintf 'Content-Type: text/plain\\n\\nok'\n",
	})
	ctx, cancel := context.WithCancel(context.Background())
	started := make(chan struct{})
	var once sync.Once
	w := &stagetest.StreamRecorder{OnFlush: func([]byte) { once.Do(func() { close(started) }) }}
	r := request(p, "GET", "/cgi-bin/hang.cgi", "")
	r.SetContext(ctx)
	done := make(chan struct{})
	go func() { serve(t, p, w, r); close(done) }()
	<-started
	w2, err := get(t, p, "GET", "/cgi-bin/echo.cgi", "")
	if stage.StatusOf(err) != 503 || w2.Header().Get("Retry-After") == "" {
		t.Errorf("second request: %v, Retry-After %q; want 503", err, w2.Header().Get("Retry-After"))
	}
	cancel()
	<-done
	gone(t, readPid(t, filepath.Join(root, "hang.cgi.pid")))
	if w3, err := get(t, p, "GET", "/cgi-bin/echo.cgi", ""); err != nil || w3.String() != "ok" {
		t.Errorf("after the slot freed: %v %q", err, w3.String())
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestStderrLogged(t *testing.T) {
	t.Parallel()
	cfg := stagetest.Config(t, map[string]string{
		"plugins.load":  "[PLUGINS]\n    Load cgi\n",
		"sites/default": "[HOST]\n    DocumentRoot htdocs\n[HANDLERS]\n" + cgiRule,
	})
	must(t, os.MkdirAll(filepath.Join(cfg.Hosts[0].DocumentRoot, "cgi-bin"), 0o755))
	must(t, os.WriteFile(filepath.Join(cfg.Hosts[0].DocumentRoot, "cgi-bin", "warn.cgi"),
		[]byte("#!/bin/sh\necho 'something odd' >&2\nprintf 'Content-Type: text/plain\\n\\nok'\n"), 0o755))
	var logs syncBuffer
	p, err := stage.Load(cfg, stage.Env{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	must(t, err)
	defer p.Cleanup()
	w, err := get(t, p, "GET", "/cgi-bin/warn.cgi", "")
	if err != nil || w.String() != "ok" {
		t.Errorf("%v %q", err, w.String())
	}
	if s := logs.String(); !strings.Contains(s, `msg="cgi stderr"`) || !strings.Contains(s, `line="something odd"`) ||
		!strings.Contains(s, "script=/cgi-bin/warn.cgi") {
		t.Errorf("log: %s", s)
	}
}
