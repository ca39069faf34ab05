package server

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gibbon/config"
	"gibbon/engine"
)

// testFiles is the document root every test server serves.
var testFiles = map[string]string{
	"index.html":      "<h1>home</h1>\n",
	"hello.txt":       "hello, world\n",
	"digits.txt":      "0123456789",
	"dir/index.html":  "<p>dir</p>\n",
	"errors/404.html": "<h1>custom not found</h1>\n",
}

// bigSize is the size of big.bin, large enough to go with sendfile.
const bigSize = 300 << 10

func bigContent() []byte {
	b := make([]byte, bigSize)
	for i := range b {
		b[i] = byte('a' + i%26)
	}
	return b
}

func writeDocRoot(t testing.TB) string {
	t.Helper()
	root := t.TempDir()
	for name, body := range testFiles {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(root, "big.bin"), bigContent(), 0o644); err != nil {
		t.Fatal(err)
	}
	return root
}

// testConfig is a config serving a fresh document root on 127.0.0.1:0,
// with a redirecting vhost "old.test".
func testConfig(t testing.TB) *config.Config {
	t.Helper()
	root := writeDocRoot(t)
	cfg := config.Default(root)
	cfg.Server.Listen = []config.Listen{{Addr: "127.0.0.1:0"}}
	cfg.Hosts[0].ServerNames = []string{"localhost"}
	cfg.Hosts[0].ErrorPages = map[int]string{404: "errors/404.html", 403: "missing.html"}
	cfg.Hosts = append(cfg.Hosts, config.Host{
		File:         "old",
		ServerNames:  []string{"old.test"},
		DocumentRoot: root,
		Redirect:     "http://new.test/",
		ErrorPages:   map[int]string{},
	})
	return cfg
}

type testServer struct {
	*Server
	addr   string
	served chan error
}

// testDriver is one way to run a test server: a driver and, for the
// epoll driver, a balancing mode.
type testDriver struct {
	name string
	opts Options // Driver and Balancing
}

var testDrivers = []testDriver{
	{"goroutine", Options{Driver: DriverGoroutine}},
	{"epoll-reuseport", Options{Driver: DriverEpoll, Balancing: "reuseport"}},
	{"epoll-fair", Options{Driver: DriverEpoll, Balancing: "fair"}},
}

// forDrivers runs f as a parallel subtest for every test driver the
// system supports.
func forDrivers(t *testing.T, f func(t *testing.T, d testDriver)) {
	t.Helper()
	for _, d := range testDrivers {
		t.Run(d.name, func(t *testing.T) {
			if d.opts.Driver == DriverEpoll && !engine.Supported() {
				t.Skip("no epoll engine on this system")
			}
			t.Parallel()
			f(t, d)
		})
	}
}

// options returns the driver's Options with the given logger.
func (d testDriver) options(logger *slog.Logger) Options {
	o := d.opts
	o.Logger = logger
	return o
}

// testLogger discards logs unless the tests run verbosely.
func testLogger() *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return discardLogger()
}

// start runs a server with driver d for cfg (testConfig(t) when nil,
// after mutate) and shuts it down when the test ends.
func start(t testing.TB, d testDriver, mutate func(*config.Config)) *testServer {
	t.Helper()
	cfg := testConfig(t)
	if mutate != nil {
		mutate(cfg)
	}
	opts := d.options(testLogger())
	opts.Version = "0.1"
	s, err := New(cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Listen(); err != nil {
		t.Fatal(err)
	}
	ts := &testServer{Server: s, addr: s.Addrs()[0].String(), served: make(chan error, 1)}
	go func() { ts.served <- s.Serve() }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		if err := <-ts.served; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return ts
}

func (ts *testServer) url(path string) string { return "http://" + ts.addr + path }

// client returns an HTTP client that never follows redirects and never
// asks for compression.
func client(t *testing.T) *http.Client {
	t.Helper()
	tr := &http.Transport{DisableCompression: true}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{
		Transport:     tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Timeout:       10 * time.Second,
	}
}

func get(t *testing.T, c *http.Client, method, url string, hdr ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		if strings.EqualFold(hdr[i], "Host") {
			req.Host = hdr[i+1]
			continue
		}
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading body: %v", method, url, err)
	}
	return resp, string(body)
}

// rawConn is a raw TCP client connection.
type rawConn struct {
	t  testing.TB
	nc net.Conn
	br *bufio.Reader
}

func dial(t testing.TB, addr string) *rawConn {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	return &rawConn{t: t, nc: nc, br: bufio.NewReader(nc)}
}

func (rc *rawConn) send(s string) {
	rc.t.Helper()
	if _, err := io.WriteString(rc.nc, s); err != nil {
		rc.t.Fatalf("write: %v", err)
	}
}

// response reads one response to a request with the given method.
func (rc *rawConn) response(method string) (*http.Response, string) {
	rc.t.Helper()
	resp, err := http.ReadResponse(rc.br, &http.Request{Method: method})
	if err != nil {
		rc.t.Fatalf("reading response: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		rc.t.Fatalf("reading body: %v", err)
	}
	return resp, string(body)
}

// expectClosed checks that the server closes the connection with nothing
// more to read, within d.
func (rc *rawConn) expectClosed(d time.Duration) {
	rc.t.Helper()
	rc.nc.SetReadDeadline(time.Now().Add(d))
	b, err := rc.br.ReadByte()
	if err == nil {
		rest, _ := rc.br.Peek(rc.br.Buffered())
		rc.t.Fatalf("read %q, want the connection closed", append([]byte{b}, rest...))
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		rc.t.Fatalf("connection still open after %v", d)
	}
}

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
