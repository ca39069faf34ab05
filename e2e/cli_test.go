package e2e_test

import (
	"fmt"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestVersionAndHelp(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"-v"}, {"--version"}} {
		out, _, code := runGibbon(t, t.TempDir(), args...)
		if code != 0 || !strings.HasPrefix(out, "gibbon ") {
			t.Errorf("gibbon %s: exit %d, stdout %q; want 0 and \"gibbon <version>\"", args[0], code, out)
		}
	}
	for _, args := range [][]string{{"-h"}, {"--help"}} {
		out, _, code := runGibbon(t, t.TempDir(), args...)
		if code != 0 || !strings.Contains(out, "--configdir") || !strings.Contains(out, "--one-shot") {
			t.Errorf("gibbon %s: exit %d, stdout %q; want 0 and the flag list", args[0], code, out)
		}
	}
	if _, errOut, code := runGibbon(t, t.TempDir(), "--no-such-flag"); code != 2 {
		t.Errorf("gibbon --no-such-flag: exit %d, stderr %q; want 2", code, errOut)
	}
}

// The embedded default: no conf/ and no htdocs/ in the working directory.
func TestDefaultWelcomePage(t *testing.T) {
	t.Parallel()
	p := start(t, t.TempDir())
	resp, body := get(t, p, "", "/")
	if resp.StatusCode != 200 || !strings.Contains(body, "Welcome to gibbon") {
		t.Fatalf("GET / = %d %q, want 200 with the welcome page", resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Errorf("Content-Type = %q, want text/html", ct)
	}
}

func TestDefaultServesHtdocs(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"htdocs/index.html": "my own htdocs\n"})
	p := start(t, dir)
	if resp, body := get(t, p, "", "/"); resp.StatusCode != 200 || body != "my own htdocs\n" {
		t.Fatalf("GET / = %d %q, want 200 \"my own htdocs\"", resp.StatusCode, body)
	}
}

func TestDefaultFindsConfDir(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	root := newSite(t)
	writeFiles(t, dir, map[string]string{
		"conf/gibbon.conf":   serverConf(),
		"conf/sites/default": hostConf(root, "localhost"),
		"htdocs/hello.txt":   "wrong root\n",
	})
	p := start(t, dir, "-w", "2")
	if resp, body := get(t, p, "", "/hello.txt"); resp.StatusCode != 200 || body != "hello world\n" {
		t.Fatalf("GET /hello.txt = %d %q, want 200 from ./conf's document root", resp.StatusCode, body)
	}
}

func TestOneShot(t *testing.T) {
	t.Parallel()
	root := newSite(t)
	for _, flag := range []string{"-o", "--one-shot"} {
		p := start(t, t.TempDir(), flag, root)
		if resp, body := get(t, p, "", "/hello.txt"); resp.StatusCode != 200 || body != "hello world\n" {
			t.Errorf("%s: GET /hello.txt = %d %q, want 200 \"hello world\"", flag, resp.StatusCode, body)
		}
		if resp, body := get(t, p, "", "/dir/"); resp.StatusCode != 200 || body != "dir index\n" {
			t.Errorf("%s: GET /dir/ = %d %q, want the index file", flag, resp.StatusCode, body)
		}
	}
}

func TestConfigCheck(t *testing.T) {
	t.Parallel()
	root := newSite(t)
	good := newConf(t, serverConf(), map[string]string{"default": hostConf(root, "localhost")})
	for _, flag := range []string{"-t", "--test"} {
		if _, errOut, code := runGibbon(t, t.TempDir(), "-c", good, flag); code != 0 {
			t.Errorf("gibbon -c good %s: exit %d, stderr %q; want 0", flag, code, errOut)
		}
	}

	bad := newConf(t, "[SERVER]\n    Listen 127.0.0.1:2001\n    Timeout abc\n",
		map[string]string{"default": hostConf(root, "localhost")})
	_, errOut, code := runGibbon(t, t.TempDir(), "-c", bad, "-t")
	if code != 1 || !strings.Contains(errOut, "gibbon.conf:3") {
		t.Errorf("gibbon -c bad -t: exit %d, stderr %q; want 1 and gibbon.conf:3", code, errOut)
	}
	assertNoPanic(t, errOut)

	missingRoot := newConf(t, serverConf(), map[string]string{"default": hostConf(filepath.Join(root, "nope"), "localhost")})
	if _, errOut, code := runGibbon(t, t.TempDir(), "-c", missingRoot, "-t"); code != 1 {
		t.Errorf("gibbon -t with a missing DocumentRoot: exit %d, stderr %q; want 1", code, errOut)
	}
}

// A configuration directory written the way Monkey ships it.
func TestMonkeyConfigDir(t *testing.T) {
	t.Parallel()
	root := newSite(t)
	writeFiles(t, root, map[string]string{"page.gbn": "custom mime\n"})
	logs := t.TempDir()
	conf := filepath.Join(t.TempDir(), "monkey")
	writeFiles(t, conf, map[string]string{
		"monkey.conf": `# Monkey HTTP Server - main configuration
[SERVER]
    # Listen: address and port
    Listen 127.0.0.1:2001
    Workers 1
    Timeout 15
    PidFile ` + filepath.Join(logs, "monkey.pid") + `
    UserDir public_html
    Indexfile index.html index.htm index.php
    HideVersion Off
    Resume On
    KeepAlive On
    KeepAliveTimeout 5
    MaxKeepAliveRequest 1000
    MaxRequestSize 32
    SymLink Off
    TransportLayer liana
    DefaultMimeType text/plain
    FDT On
    OverCapacity Resist
`,
		"sites/default": `[HOST]
    ServerName 127.0.0.1 localhost
    DocumentRoot ` + root + `

[LOGGER]
    AccessLog ` + filepath.Join(logs, "access.log") + `
    ErrorLog ` + filepath.Join(logs, "error.log") + `

[ERROR_PAGES]
    404  404.html

[HANDLERS]
    # Match /.*\.php fastcgi
    Match /cgi-bin/.* cgi
`,
		"plugins.load": `[PLUGINS]
    # Load /usr/lib/monkey/monkey-liana.so
    Load /usr/lib/monkey/monkey-logger.so
    Load /usr/lib/monkey/monkey-cgi.so
`,
		"monkey.mime": `[MIMETYPES]
    html     text/html
    txt      text/plain
    gbn      application/x-gibbon
`,
	})
	_, errOut, code := runGibbon(t, t.TempDir(), "-c", conf, "-s", "monkey.conf", "-t")
	if code != 0 {
		t.Fatalf("gibbon -t on a Monkey config: exit %d, stderr:\n%s", code, errOut)
	}
	t.Logf("gibbon -t stderr:\n%s", errOut)
	if !strings.Contains(errOut, "monkey.conf:17: TransportLayer") {
		t.Errorf("gibbon -t stderr lacks the warning \"monkey.conf:17: TransportLayer: ...\":\n%s", errOut)
	}
	p := start(t, t.TempDir(), "--configdir", conf, "--serverconf", "monkey.conf")
	if resp, body := get(t, p, "", "/hello.txt"); resp.StatusCode != 200 || body != "hello world\n" {
		t.Errorf("GET /hello.txt = %d %q, want 200", resp.StatusCode, body)
	}
	if resp, body := get(t, p, "", "/missing"); resp.StatusCode != 404 || !strings.Contains(body, "custom not found page") {
		t.Errorf("GET /missing = %d %q, want 404 with 404.html", resp.StatusCode, body)
	}
	if resp, _ := get(t, p, "", "/page.gbn"); resp.Header.Get("Content-Type") != "application/x-gibbon" {
		t.Errorf("GET /page.gbn Content-Type = %q, want application/x-gibbon from monkey.mime", resp.Header.Get("Content-Type"))
	}
	if _, err := os.Stat(filepath.Join(logs, "monkey.pid")); err != nil {
		t.Errorf("PidFile from monkey.conf: %v", err)
	}
}

func TestBusyPort(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	root := newSite(t)
	conf := newConf(t, serverConf(), map[string]string{"default": hostConf(root, "localhost")})
	_, errOut, code := runGibbon(t, t.TempDir(), "-c", conf, "-p", port)
	if code != 1 {
		t.Fatalf("exit %d on a busy port, want 1; stderr:\n%s", code, errOut)
	}
	assertOneErrorLine(t, errOut, "address already in use")
}

func TestMissingDocumentRoot(t *testing.T) {
	t.Parallel()
	missing := filepath.Join(t.TempDir(), "nope")
	_, errOut, code := runGibbon(t, t.TempDir(), "-o", missing, "-p", strconv.Itoa(freePort(t)))
	if code != 1 {
		t.Fatalf("exit %d for a missing document root, want 1; stderr:\n%s", code, errOut)
	}
	assertOneErrorLine(t, errOut, "nope")
}

func TestConfigErrorExit(t *testing.T) {
	t.Parallel()
	root := newSite(t)
	bad := newConf(t, "[SERVER]\n    Listen 127.0.0.1:2001\n    Timeout abc\n",
		map[string]string{"default": hostConf(root, "localhost")})
	_, errOut, code := runGibbon(t, t.TempDir(), "-c", bad, "-p", strconv.Itoa(freePort(t)))
	if code != 1 || !strings.Contains(errOut, "gibbon.conf:3") {
		t.Fatalf("starting with a bad config: exit %d, stderr %q; want 1 naming gibbon.conf:3", code, errOut)
	}
	assertNoPanic(t, errOut)
}

// assertOneErrorLine checks that stderr holds exactly one "gibbon: " error
// line, that it contains want, and that nothing looks like a stack trace.
func assertOneErrorLine(t *testing.T, stderr, want string) {
	t.Helper()
	assertNoPanic(t, stderr)
	var lines []string
	for _, l := range strings.Split(stderr, "\n") {
		if strings.HasPrefix(l, "gibbon: ") {
			lines = append(lines, l)
		}
	}
	if len(lines) != 1 || !strings.Contains(lines[0], want) {
		t.Errorf("stderr error lines = %q, want one line containing %q; stderr:\n%s", lines, want, stderr)
	}
}

func assertNoPanic(t *testing.T, stderr string) {
	t.Helper()
	if strings.Contains(stderr, "goroutine ") || strings.Contains(stderr, "panic:") {
		t.Errorf("stderr holds a stack trace:\n%s", stderr)
	}
}

func TestSIGTERMFinishesInFlightRequest(t *testing.T) {
	t.Parallel()
	root := newSite(t)
	const size = 64 << 20
	f, err := os.Create(filepath.Join(root, "big.bin"))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
	f.Close()
	conf := newConf(t, serverConf(), map[string]string{"default": hostConf(root, "localhost")})
	p := start(t, t.TempDir(), "-c", conf)

	c, err := net.Dial("tcp", p.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte("GET /big.bin HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(30 * time.Second))
	first := make([]byte, 1<<20)
	n, err := readFull(c, first)
	if err != nil {
		t.Fatalf("reading the start of the response: %v (%d bytes)", err, n)
	}
	head, _, ok := strings.Cut(string(first), "\r\n\r\n")
	if !ok || !strings.HasPrefix(head, "HTTP/1.1 200") {
		t.Fatalf("response head = %q, want 200", head)
	}
	p.signal(syscall.SIGTERM)
	time.Sleep(300 * time.Millisecond)
	if p.exited() {
		t.Fatalf("gibbon exited (code %d) with a request in flight", p.cmd.ProcessState.ExitCode())
	}
	if c2, err := net.DialTimeout("tcp", p.addr, time.Second); err == nil {
		c2.Close()
		t.Errorf("new connection accepted after SIGTERM, want the listener closed")
	}
	rest := int64(0)
	buf := make([]byte, 1<<20)
	for {
		m, err := c.Read(buf)
		rest += int64(m)
		if err != nil {
			break
		}
	}
	if got, want := int64(len(first))-int64(len(head)+4)+rest, int64(size); got != want {
		t.Errorf("body length after SIGTERM = %d, want %d", got, want)
	}
	if code := p.wait(10 * time.Second); code != 0 {
		t.Errorf("exit code after SIGTERM = %d, want 0", code)
	}
}

func readFull(c net.Conn, b []byte) (int, error) {
	n := 0
	for n < len(b) {
		m, err := c.Read(b[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

func TestSIGINTExitsZero(t *testing.T) {
	t.Parallel()
	p, _ := startSite(t)
	checkServing(t, p)
	p.signal(syscall.SIGINT)
	if code := p.wait(10 * time.Second); code != 0 {
		t.Errorf("exit code after SIGINT = %d, want 0", code)
	}
}

func TestPidFile(t *testing.T) {
	t.Parallel()
	pidFile := filepath.Join(t.TempDir(), "gibbon.pid")
	root := newSite(t)
	conf := newConf(t, serverConf(), map[string]string{"default": hostConf(root, "localhost")})
	p := start(t, t.TempDir(), "-c", conf, "-I", pidFile)
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatalf("pid file: %v", err)
	}
	if got, want := strings.TrimSpace(string(b)), strconv.Itoa(p.cmd.Process.Pid); got != want {
		t.Errorf("pid file holds %q, want %q", got, want)
	}
	p.signal(syscall.SIGTERM)
	if code := p.wait(10 * time.Second); code != 0 {
		t.Errorf("exit code = %d, want 0", code)
	}
	if _, err := os.Stat(pidFile); !os.IsNotExist(err) {
		t.Errorf("pid file still there after exit (stat: %v)", err)
	}
}

func TestUserDrop(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		t.Skip("dropping privileges needs root")
	}
	nobody, err := user.Lookup("nobody")
	if err != nil {
		t.Skipf("no user nobody: %v", err)
	}
	// The document root must be readable by nobody: t.TempDir is private.
	top, err := os.MkdirTemp("", "gibbon-e2e-user-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(top) })
	if err := os.Chmod(top, 0o755); err != nil {
		t.Fatal(err)
	}
	root := filepath.Join(top, "htdocs")
	writeFiles(t, root, siteFiles)
	conf := newConf(t, serverConf("    User nobody"), map[string]string{"default": hostConf(root, "localhost")})
	p := start(t, t.TempDir(), "-c", conf)
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		if f := strings.Fields(line); len(f) == 5 && (f[0] == "Uid:" || f[0] == "Gid:") {
			want := nobody.Uid
			if f[0] == "Gid:" {
				want = nobody.Gid
			}
			for _, id := range f[1:] {
				if id != want {
					t.Errorf("%s, want every id %s (nobody)", line, want)
					break
				}
			}
		}
	}
	if resp, body := get(t, p, "", "/hello.txt"); resp.StatusCode != 200 || body != "hello world\n" {
		t.Errorf("GET /hello.txt as nobody = %d %q, want 200", resp.StatusCode, body)
	}
}
