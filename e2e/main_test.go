package e2e_test

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// gibbonBin is the binary built once by TestMain.
var gibbonBin string

func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "gibbon-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	gibbonBin = filepath.Join(dir, "gibbon")
	build := exec.Command("go", "build", "-o", gibbonBin, "gibbon/cmd/gibbon")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: building gibbon:", err)
		return 1
	}
	return m.Run()
}

// lockedBuffer collects a child's output while tests read it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// proc is one running gibbon process.
type proc struct {
	t      *testing.T
	cmd    *exec.Cmd
	port   int
	addr   string // 127.0.0.1:port
	stderr *lockedBuffer
	done   chan struct{} // closed when the process has exited
}

// base is the URL of the server, without a trailing slash.
func (p *proc) base() string { return "http://" + p.addr }

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// wait waits up to d for the process to exit and returns its exit code.
func (p *proc) wait(d time.Duration) int {
	p.t.Helper()
	select {
	case <-p.done:
		return p.cmd.ProcessState.ExitCode()
	case <-time.After(d):
		p.t.Fatalf("gibbon (pid %d) still running after %v; stderr:\n%s", p.cmd.Process.Pid, d, p.stderr)
		return -1
	}
}

func (p *proc) signal(sig os.Signal) {
	p.t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		p.t.Fatalf("signal %v: %v", sig, err)
	}
}

// freePort returns a port that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// start runs gibbon in dir with args plus "-p PORT" on a free port and waits
// until it answers HTTP requests. It retries on another port when the chosen
// one was taken in the meantime. The process is stopped in t.Cleanup.
func start(t *testing.T, dir string, args ...string) *proc {
	t.Helper()
	var last string
	for range 5 {
		p, err := startOnce(t, dir, freePort(t), args)
		if err == nil {
			return p
		}
		last = err.Error()
		if !strings.Contains(last, "address already in use") {
			break
		}
	}
	t.Fatalf("gibbon %s did not start: %s", strings.Join(args, " "), last)
	return nil
}

func startOnce(t *testing.T, dir string, port int, args []string) (*proc, error) {
	t.Helper()
	args = append(append([]string{}, args...), "-p", strconv.Itoa(port))
	p := launch(t, dir, args...)
	p.port = port
	p.addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if p.exited() {
			return nil, fmt.Errorf("exited with %d: %s", p.cmd.ProcessState.ExitCode(), p.stderr)
		}
		if answers(p.addr) {
			return p, nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return nil, fmt.Errorf("not answering on %s after 10s; stderr:\n%s", p.addr, p.stderr)
}

// answers reports whether an HTTP server answers a request on addr. The
// listener accepts connections as soon as it is bound, but a response comes
// only once gibbon serves, after the privilege drop and the pid file.
func answers(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
	if err != nil {
		return false
	}
	defer c.Close()
	if answersOn(c) {
		return true
	}
	// A TLS listener: the same request inside a TLS connection.
	c2, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
	if err != nil {
		return false
	}
	tc := tls.Client(c2, &tls.Config{InsecureSkipVerify: true, ServerName: "localhost"})
	defer tc.Close()
	return answersOn(tc)
}

// answersOn sends a HEAD request on c and reports whether an HTTP
// response begins.
func answersOn(c net.Conn) bool {
	c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Write([]byte("HEAD / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")); err != nil {
		return false
	}
	buf := make([]byte, 5)
	n, _ := io.ReadFull(c, buf)
	return string(buf[:n]) == "HTTP/"
}

// launch starts gibbon in dir with exactly args, without waiting for it.
func launch(t *testing.T, dir string, args ...string) *proc {
	t.Helper()
	p := &proc{t: t, stderr: new(lockedBuffer), done: make(chan struct{})}
	p.cmd = exec.Command(gibbonBin, args...)
	p.cmd.Dir = dir
	p.cmd.Stdout = p.stderr
	p.cmd.Stderr = p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		if !p.exited() {
			p.cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-p.done:
			case <-time.After(3 * time.Second):
				p.cmd.Process.Kill()
				<-p.done
			}
		}
		if t.Failed() {
			t.Logf("gibbon %s output:\n%s", strings.Join(args, " "), p.stderr)
		}
	})
	return p
}

// runGibbon runs gibbon to completion and returns stdout, stderr and the exit code.
func runGibbon(t *testing.T, dir string, args ...string) (string, string, int) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(gibbonBin, args...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	timer := time.AfterFunc(15*time.Second, func() { cmd.Process.Kill() })
	defer timer.Stop()
	err := cmd.Wait()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatal(err)
	}
	return stdout.String(), stderr.String(), cmd.ProcessState.ExitCode()
}

// writeFiles creates the files (path → content) under root, with parent directories.
func writeFiles(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		path := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// serverConf is a [SERVER] section listening on 127.0.0.1 (the port comes from -p)
// followed by extra lines, each already indented.
func serverConf(extra ...string) string {
	var b strings.Builder
	b.WriteString("[SERVER]\n    Listen 127.0.0.1:2001\n    Workers 1\n    Timeout 5\n    KeepAlive on\n")
	for _, e := range extra {
		b.WriteString(e + "\n")
	}
	return b.String()
}

// hostConf is a [HOST] section for a sites/ file.
func hostConf(docroot string, names ...string) string {
	return fmt.Sprintf("[HOST]\n    ServerName %s\n    DocumentRoot %s\n", strings.Join(names, " "), docroot)
}

// siteFiles is the content of the standard test document root.
var siteFiles = map[string]string{
	"index.html":     "<html><body>home</body></html>\n",
	"hello.txt":      "hello world\n",
	"a.txt":          "A",
	"b.txt":          "BB",
	"c.txt":          "CCC",
	"dir/index.html": "dir index\n",
	"nodir/file.txt": "file in a directory without index\n",
	"404.html":       "<html><body>custom not found page</body></html>\n",
}

// newSite writes the standard document root and returns its path.
func newSite(t *testing.T) string {
	t.Helper()
	root := filepath.Join(t.TempDir(), "htdocs")
	writeFiles(t, root, siteFiles)
	return root
}

// newConf writes a config directory: gibbon.conf from server, and the sites
// files (name → content). It returns the directory.
func newConf(t *testing.T, server string, sites map[string]string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "conf")
	files := map[string]string{"gibbon.conf": server}
	for name, text := range sites {
		files["sites/"+name] = text
	}
	writeFiles(t, dir, files)
	return dir
}

// startSite starts gibbon on the standard site, one default host "localhost"
// plus serverExtra lines in [SERVER].
func startSite(t *testing.T, serverExtra ...string) (*proc, string) {
	t.Helper()
	root := newSite(t)
	conf := newConf(t, serverConf(serverExtra...), map[string]string{"default": hostConf(root, "localhost")})
	return start(t, t.TempDir(), "-c", conf), root
}

// client does not follow redirects and does not reuse connections across tests.
func newClient() *http.Client {
	return &http.Client{
		Timeout:       10 * time.Second,
		Transport:     &http.Transport{DisableCompression: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// get sends a GET with the given Host header ("" for the default) and returns
// the response and its body.
func get(t *testing.T, p *proc, host, path string, hdr ...string) (*http.Response, string) {
	t.Helper()
	return do(t, p, http.MethodGet, host, path, hdr...)
}

func do(t *testing.T, p *proc, method, host, path string, hdr ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, p.base()+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if host != "" {
		req.Host = host
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	c := newClient()
	defer c.CloseIdleConnections()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s (Host %q): %v", method, path, host, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading body: %v", method, path, err)
	}
	return resp, string(body)
}

// download is a GET whose response is read in part and left in flight,
// to check that a reload or a stop lets it finish.
type download struct {
	resp *http.Response
	head []byte
}

// startDownload GETs path from p and reads the first 64 KiB of the body;
// the body is closed when the test ends.
func startDownload(t *testing.T, p *proc, path string) *download {
	t.Helper()
	resp, err := newClient().Get(p.base() + path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	d := &download{resp: resp, head: make([]byte, 64<<10)}
	if _, err := io.ReadFull(resp.Body, d.head); err != nil {
		t.Fatal(err)
	}
	return d
}

// finish reads the rest of the download and fails the test, naming it
// what, unless the whole body is want.
func (d *download) finish(t *testing.T, want, what string) {
	t.Helper()
	rest, err := io.ReadAll(d.resp.Body)
	if got := append(d.head, rest...); err != nil || sha256.Sum256(got) != sha256.Sum256([]byte(want)) {
		t.Fatalf("%s: %d bytes of %d, %v", what, len(got), len(want), err)
	}
}

// needCurl returns the path of curl, skipping the test when it is missing
// outside CI and failing it under CI.
func needCurl(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("curl")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("curl is required under CI: ./test.sh installs it")
		}
		t.Skip("curl not installed")
	}
	return path
}

// curl runs curl with args and returns its stdout; a non-zero exit fails the test.
func curl(t *testing.T, args ...string) string {
	t.Helper()
	bin := needCurl(t)
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(bin, append([]string{"-sS", "--max-time", "10"}, args...)...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("curl %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String()
}

// rawResult is what came back on a raw connection.
type rawResult struct {
	data   string
	closed bool // the server closed the connection (EOF or reset)
	err    error
}

// status is the status code of the first response in data, or 0.
func (r rawResult) status() int {
	line, _, _ := strings.Cut(r.data, "\r\n")
	f := strings.Fields(line)
	if len(f) < 2 || !strings.HasPrefix(f[0], "HTTP/") {
		return 0
	}
	n, _ := strconv.Atoi(f[1])
	return n
}

// raw writes req on a new connection and reads until the server closes it or
// wait passes. The write runs concurrently so that a server that answers
// early and closes does not block it.
func raw(t *testing.T, addr, req string, wait time.Duration) rawResult {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	go c.Write([]byte(req))
	return readAll(c, wait)
}

func readAll(c net.Conn, wait time.Duration) rawResult {
	c.SetReadDeadline(time.Now().Add(wait))
	var buf bytes.Buffer
	_, err := io.Copy(&buf, c)
	r := rawResult{data: buf.String(), err: err}
	var ne net.Error
	switch {
	case err == nil, errors.Is(err, syscall.ECONNRESET):
		r.closed = true
	case errors.As(err, &ne) && ne.Timeout():
		r.closed = false
	}
	return r
}

// readResponses reads n responses from r and returns their bodies.
func readResponses(t *testing.T, r *bufio.Reader, method string, n int) ([]*http.Response, []string) {
	t.Helper()
	var resps []*http.Response
	var bodies []string
	for i := range n {
		resp, err := http.ReadResponse(r, &http.Request{Method: method})
		if err != nil {
			t.Fatalf("response %d: %v", i+1, err)
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatalf("response %d body: %v", i+1, err)
		}
		resps = append(resps, resp)
		bodies = append(bodies, string(b))
	}
	return resps, bodies
}

// checkServing asserts that a new connection still gets a 200.
func checkServing(t *testing.T, p *proc) {
	t.Helper()
	r := raw(t, p.addr, "GET /hello.txt HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n", 5*time.Second)
	if r.status() != 200 || !strings.HasSuffix(r.data, "hello world\n") {
		t.Fatalf("server stopped serving: GET /hello.txt on a new connection got %q", r.data)
	}
}
