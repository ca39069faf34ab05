package e2e_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cgi"
	"net/http/fcgi"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The test binary doubles as the CGI program and the FastCGI responder of
// the dynamic-content tests: with GIBBON_E2E_HELPER set it runs that helper
// instead of the tests (a CGI script is a shell wrapper that sets it, since
// the cgi plugin passes no environment of its own).
func init() {
	switch os.Getenv("GIBBON_E2E_HELPER") {
	case "":
		return
	case "cgi":
		if err := cgi.Serve(http.HandlerFunc(helperHandler)); err != nil {
			os.Exit(1)
		}
	case "fcgi":
		// fcgi SOCKET: a net/http/fcgi responder on a unix socket.
		l, err := net.Listen("unix", os.Args[len(os.Args)-1])
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fcgi.Serve(l, http.HandlerFunc(helperHandler))
	}
	os.Exit(0)
}

// helperHandler answers the Go CGI and FastCGI requests:
//
//	/…/env      the CGI environment, sorted, one VAR=value a line
//	/…/echo     the request body back, with its method and length
//	/…/sleep    sleeps 30 s before its head (a hanging script)
func helperHandler(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain")
	switch {
	case strings.Contains(r.URL.Path, "/env"):
		env := os.Environ()
		if os.Getenv("GIBBON_E2E_HELPER") == "fcgi" {
			// net/http/fcgi turns some variables into the request (so
			// SCRIPT_NAME, PATH_INFO, QUERY_STRING are not seen here).
			env = []string{"REQUEST_METHOD=" + r.Method, "REQUEST_URI=" + r.URL.RequestURI(), "REMOTE_ADDR=" + r.RemoteAddr, "HOST=" + r.Host}
			for k, v := range fcgi.ProcessEnv(r) {
				env = append(env, k+"="+v)
			}
			for k, v := range r.Header {
				env = append(env, "HTTP_"+strings.ToUpper(strings.ReplaceAll(k, "-", "_"))+"="+strings.Join(v, ", "))
			}
		}
		sort.Strings(env)
		for _, kv := range env {
			if !strings.HasPrefix(kv, "GIBBON_E2E_HELPER=") {
				fmt.Fprintln(w, kv)
			}
		}
	case strings.Contains(r.URL.Path, "/echo"):
		body, _ := io.ReadAll(r.Body)
		fmt.Fprintf(w, "%s %d %s", r.Method, len(body), body)
	case strings.Contains(r.URL.Path, "/sleep"):
		time.Sleep(30 * time.Second)
	default:
		http.NotFound(w, r)
	}
}

// testBinary is the path of the running test binary.
func testBinary(t *testing.T) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return exe
}

// envMap parses VAR=value lines.
func envMap(body string) map[string]string {
	env := map[string]string{}
	for _, line := range strings.Split(strings.TrimSuffix(body, "\n"), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			env[k] = v
		}
	}
	return env
}

// checkEnv compares env with want exactly (exact: no other variable).
func checkEnv(t *testing.T, env, want map[string]string, exact bool) {
	t.Helper()
	for k, v := range want {
		if got, ok := env[k]; !ok || got != v {
			t.Errorf("%s = %q (set %v), want %q", k, got, ok, v)
		}
	}
	if exact {
		for k, v := range env {
			if _, ok := want[k]; !ok {
				t.Errorf("unexpected variable %s=%q", k, v)
			}
		}
	}
}

// pidAlive reports whether pid names a process that is not a zombie.
func pidAlive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	s := string(b)
	if i := strings.LastIndexByte(s, ')'); i >= 0 && i+2 < len(s) {
		return s[i+2] != 'Z'
	}
	return true
}

// readPid waits up to 10 s for a file holding a pid.
func readPid(t *testing.T, path string) int {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		b, _ := os.ReadFile(path)
		if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && pid > 0 {
			return pid
		}
		if time.Now().After(deadline) {
			t.Fatalf("no pid in %s", path)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitDead waits up to d for pid to end.
func waitDead(t *testing.T, pid int, d time.Duration, what string) {
	t.Helper()
	deadline := time.Now().Add(d)
	for pidAlive(pid) {
		if time.Now().After(deadline) {
			syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("%s (pid %d) still running after %v", what, pid, d)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// vmHWM is the peak resident set size of pid in KiB.
func vmHWM(t *testing.T, pid int) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`VmHWM:\s+(\d+) kB`).FindSubmatch(b)
	if m == nil {
		t.Fatalf("no VmHWM in /proc/%d/status", pid)
	}
	n, _ := strconv.ParseInt(string(m[1]), 10, 64)
	return n
}

// h2loadH1 runs `h2load --h1 -n n -c c url` and fails the test unless every
// request succeeded with a 2xx status.
func h2loadH1(t *testing.T, n, c int, url string) string {
	t.Helper()
	bin := needTool(t, "h2load", "apt-get install nghttp2-client")
	cmd := exec.Command(bin, "--h1", "-n", strconv.Itoa(n), "-c", strconv.Itoa(c), "-t", "1", "-T", "20", url)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	timer := time.AfterFunc(60*time.Second, func() { cmd.Process.Kill() })
	defer timer.Stop()
	if err := cmd.Run(); err != nil {
		t.Fatalf("h2load: %v\n%s", err, out.String())
	}
	s := out.String()
	want := fmt.Sprintf("requests: %d total, %d started, %d done, %d succeeded, 0 failed, 0 errored, 0 timeout", n, n, n, n)
	if !strings.Contains(s, want) || !strings.Contains(s, fmt.Sprintf("status codes: %d 2xx, 0 3xx, 0 4xx, 0 5xx", n)) {
		t.Errorf("h2load --h1 -n %d -c %d %s: want all 2xx:\n%s", n, c, url, s)
	}
	return s
}

// wrkResult is what wrk reported.
type wrkResult struct {
	requests int
	errors   int // socket errors of every kind plus non-2xx/3xx responses
	out      string
}

var wrkErrRe = regexp.MustCompile(`Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)`)

// runWrk runs wrk with args (a duration among them) and parses its output.
func runWrk(t *testing.T, args ...string) wrkResult {
	t.Helper()
	bin := needTool(t, "wrk", "apt-get install wrk")
	cmd := exec.Command(bin, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	timer := time.AfterFunc(60*time.Second, func() { cmd.Process.Kill() })
	defer timer.Stop()
	if err := cmd.Run(); err != nil {
		t.Fatalf("wrk %s: %v\n%s", strings.Join(args, " "), err, out.String())
	}
	r := wrkResult{out: out.String()}
	sc := bufio.NewScanner(strings.NewReader(r.out))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if m := wrkErrRe.FindStringSubmatch(line); m != nil {
			for _, s := range m[1:] {
				n, _ := strconv.Atoi(s)
				r.errors += n
			}
		}
		if rest, ok := strings.CutPrefix(line, "Non-2xx or 3xx responses:"); ok {
			n, _ := strconv.Atoi(strings.TrimSpace(rest))
			r.errors += n
		}
		if f := strings.Fields(line); len(f) > 3 && f[1] == "requests" && f[2] == "in" {
			r.requests, _ = strconv.Atoi(f[0])
		}
	}
	if r.requests == 0 {
		t.Fatalf("wrk made no request:\n%s", r.out)
	}
	return r
}

// writeScript writes an executable file.
func writeScript(t *testing.T, path, text string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o755); err != nil {
		t.Fatal(err)
	}
}
