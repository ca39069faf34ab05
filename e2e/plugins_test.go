package e2e_test

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// drivers are the values of --driver every plugin test runs with.
var drivers = []string{"epoll", "goroutine"}

// forDrivers runs f as a parallel subtest per driver.
func forDrivers(t *testing.T, f func(t *testing.T, driver string)) {
	t.Helper()
	for _, d := range drivers {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			f(t, d)
		})
	}
}

// pluginConf writes a config directory with the standard site as the
// default host (site adds lines to its file), plugins.load naming load,
// and files (path under the config directory → content). It returns the
// directory and the document root.
func pluginConf(t *testing.T, load []string, site string, files map[string]string) (string, string) {
	t.Helper()
	root := newSite(t)
	dir := newConf(t, serverConf(), map[string]string{"default": hostConf(root, "localhost") + site})
	var pl strings.Builder
	pl.WriteString("[PLUGINS]\n")
	for _, name := range load {
		pl.WriteString("    Load " + name + "\n")
	}
	all := map[string]string{"plugins.load": pl.String()}
	for k, v := range files {
		all[k] = v
	}
	writeFiles(t, dir, all)
	return dir, root
}

// startLogged starts gibbon without asking it anything (a client from
// 127.0.0.1 may be refused): it waits for the "started" log line.
func startLogged(t *testing.T, args ...string) *proc {
	t.Helper()
	port := freePort(t)
	p := launch(t, t.TempDir(), append(args, "-p", strconv.Itoa(port))...)
	p.port, p.addr = port, net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	waitFor(t, p, "msg=started")
	return p
}

// waitFor waits until gibbon's output holds s.
func waitFor(t *testing.T, p *proc, s string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(p.stderr.String(), s) {
		if p.exited() || time.Now().After(deadline) {
			t.Fatalf("gibbon did not log %q:\n%s", s, p.stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stop ends gibbon with SIGTERM and waits for it (the logger's Cleanup
// writes what it holds).
func stop(t *testing.T, p *proc) {
	t.Helper()
	p.signal(syscall.SIGTERM)
	if code := p.wait(10 * time.Second); code != 0 {
		t.Fatalf("exit %d:\n%s", code, p.stderr)
	}
}

// lines returns the lines of a file.
func lines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
}

// refusedAtAccept checks that a connection from 127.0.0.1 is closed
// before any byte is sent.
func refusedAtAccept(t *testing.T, p *proc) {
	t.Helper()
	r := raw(t, p.addr, "GET /hello.txt HTTP/1.1\r\nHost: localhost\r\n\r\n", 5*time.Second)
	if !r.closed || r.data != "" {
		t.Errorf("refused client got %q (closed %v), want a close before any byte", r.data, r.closed)
	}
}

func TestMandrilDeniesIP(t *testing.T) {
	t.Parallel()
	forDrivers(t, func(t *testing.T, driver string) {
		dir, _ := pluginConf(t, []string{"mandril", "logger"}, "[LOGGER]\n    AccessLog access.log\n",
			map[string]string{"plugins/mandril/mandril.conf": "[RULES]\n    IP 127.0.0.1\n"})
		p := startLogged(t, "-c", dir, "--driver", driver)
		refusedAtAccept(t, p)
		refusedAtAccept(t, p)
		stop(t, p)
		got := lines(t, filepath.Join(dir, "access.log"))
		if len(got) != 2 || !strings.Contains(got[0], "- - - 0 0") {
			t.Errorf("access log for 2 refused connections:\n%s", strings.Join(got, "\n"))
		}
	})
}

func TestMandrilAllow(t *testing.T) {
	t.Parallel()
	forDrivers(t, func(t *testing.T, driver string) {
		dir, _ := pluginConf(t, []string{"mandril"}, "",
			map[string]string{"plugins/mandril/mandril.conf": "[RULES]\n    Allow 10.0.0.0/8\n"})
		refusedAtAccept(t, startLogged(t, "-c", dir, "--driver", driver))

		dir, _ = pluginConf(t, []string{"mandril"}, "",
			map[string]string{"plugins/mandril/mandril.conf": "[RULES]\n    Allow 127.0.0.0/8\n    IP 10.1.2.3\n"})
		p := start(t, t.TempDir(), "-c", dir, "--driver", driver)
		if resp, body := get(t, p, "", "/hello.txt"); resp.StatusCode != 200 || body != siteFiles["hello.txt"] {
			t.Errorf("allowed client: %d %q", resp.StatusCode, body)
		}
	})
}

func TestMandrilRequests(t *testing.T) {
	t.Parallel()
	forDrivers(t, func(t *testing.T, driver string) {
		dir, _ := pluginConf(t, []string{"mandril"}, "", map[string]string{
			"plugins/mandril/mandril.conf": "[RULES]\n    URL /private\n    deny_hotlink /dir/\n"})
		p := start(t, t.TempDir(), "-c", dir, "--driver", driver)
		tests := []struct {
			path    string
			referer string
			want    int
		}{
			{"/private/x.txt", "", 403},
			{"/a/%70rivate", "", 403},
			{"/dir/index.html", "http://evil.test/page", 403},
			{"/dir/index.html", "http://localhost/page", 200},
			{"/dir/index.html", "", 200},
			{"/hello.txt", "http://evil.test/page", 200},
		}
		for _, tc := range tests {
			var hdr []string
			if tc.referer != "" {
				hdr = []string{"Referer", tc.referer}
			}
			if resp, _ := get(t, p, "localhost", tc.path, hdr...); resp.StatusCode != tc.want {
				t.Errorf("GET %s (Referer %q) = %d, want %d", tc.path, tc.referer, resp.StatusCode, tc.want)
			}
		}
	})
}

// gibbonPasswd runs `gibbon passwd args…` with stdin.
func gibbonPasswd(t *testing.T, stdin string, args ...string) {
	t.Helper()
	cmd := exec.Command(gibbonBin, append([]string{"passwd"}, args...)...)
	cmd.Stdin = strings.NewReader(stdin)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("gibbon passwd %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func TestAuth(t *testing.T) {
	t.Parallel()
	forDrivers(t, func(t *testing.T, driver string) {
		users := filepath.Join(t.TempDir(), "users")
		gibbonPasswd(t, "", "-c", "-s", users, "sha", "sha-secret")
		gibbonPasswd(t, "bcrypt-secret\n", users, "bc") // password from stdin
		site := "[AUTH]\n    Location /dir/\n    Title \"Private\"\n    Users " + users + "\n"
		dir, _ := pluginConf(t, []string{"auth"}, site, nil)
		p := start(t, t.TempDir(), "-c", dir, "--driver", driver)
		tests := []struct {
			user, pass string
			want       int
		}{
			{"", "", 401},
			{"sha", "wrong", 401},
			{"sha", "sha-secret", 200},
			{"bc", "wrong", 401},
			{"bc", "bcrypt-secret", 200},
			{"nobody", "bcrypt-secret", 401},
		}
		for _, tc := range tests {
			req, _ := http.NewRequest("GET", p.base()+"/dir/index.html", nil)
			if tc.user != "" {
				req.SetBasicAuth(tc.user, tc.pass)
			}
			resp, err := newClient().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Errorf("%s:%s → %d, want %d", tc.user, tc.pass, resp.StatusCode, tc.want)
			}
			if tc.want == 401 && !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), `Basic realm="Private"`) {
				t.Errorf("401 without the challenge: %v", resp.Header)
			}
		}
		if resp, _ := get(t, p, "", "/hello.txt"); resp.StatusCode != 200 {
			t.Errorf("unprotected path: %d", resp.StatusCode)
		}
	})
}

// TestLogger checks one line per request with its status and byte count
// in every format, for 200, 404, 403 refused at stage 20 by mandril and a
// 400 parse error.
func TestLogger(t *testing.T) {
	t.Parallel()
	for _, format := range []string{"monkey", "combined", "json"} {
		t.Run(format, func(t *testing.T) {
			forDrivers(t, func(t *testing.T, driver string) {
				site := "[LOGGER]\n    AccessLog access.log\n    ErrorLog error.log\n    Format " + format + "\n"
				dir, _ := pluginConf(t, []string{"mandril", "logger"}, site,
					map[string]string{"plugins/mandril/mandril.conf": "[RULES]\n    URL /private\n"})
				p := start(t, t.TempDir(), "-c", dir, "--driver", driver)
				get(t, p, "", "/hello.txt")
				get(t, p, "", "/missing")
				get(t, p, "", "/private")
				raw(t, p.addr, "GET / HTTP/1.1\r\nBad Header\r\n\r\n", 5*time.Second)
				stop(t, p)
				checkAccessLog(t, format, lines(t, filepath.Join(dir, "access.log")), []logWant{
					{200, int64(len(siteFiles["hello.txt"]))}, {404, -1}, {403, -1}, {400, -1},
				})
				// One line per error response: the 404, the 403 and the 400.
				if errs := lines(t, filepath.Join(dir, "error.log")); len(errs) != 3 {
					t.Errorf("error log: %q", errs)
				}
			})
		})
	}
}

type logWant struct {
	status int
	bytes  int64 // -1: any
}

// checkAccessLog checks that got holds one line per wanted request and
// the startup probe's.
func checkAccessLog(t *testing.T, format string, got []string, want []logWant) {
	t.Helper()
	if len(got) != len(want)+1 {
		t.Fatalf("%d lines, want %d (probe + requests):\n%s", len(got), len(want)+1, strings.Join(got, "\n"))
	}
	// A line is written once its response is sent, so lines of requests on
	// different connections (the start-up probe's HEAD / among them) may
	// come in any order: each wanted line is looked for among all of them.
	left := make(map[int]string, len(got))
	for i, line := range got {
		left[i] = line
	}
	for _, w := range want {
		found := false
		for i, line := range left {
			if status, bytes := parseLogLine(t, format, line); status == w.status && (w.bytes < 0 || bytes == w.bytes) {
				delete(left, i)
				found = true
				break
			}
		}
		if !found {
			t.Errorf("no line with status %d bytes %d in:\n%s", w.status, w.bytes, strings.Join(got, "\n"))
		}
	}
	for _, line := range left {
		if status, _ := parseLogLine(t, format, line); status != 200 {
			t.Errorf("line %q left over, want only the probe's (200)", line)
		}
	}
}

func parseLogLine(t *testing.T, format, line string) (int, int64) {
	t.Helper()
	if format == "json" {
		var l struct {
			Status int   `json:"status"`
			Bytes  int64 `json:"bytes"`
		}
		if err := json.Unmarshal([]byte(line), &l); err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		return l.Status, l.Bytes
	}
	if format == "combined" {
		_, line, _ = strings.Cut(line, "\" ")
	} else {
		line = line[strings.LastIndexByte(strings.TrimSpace(line[:strings.LastIndexByte(line, ' ')]), ' ')+1:]
	}
	var status int
	var bytes int64
	fmt.Sscanf(line, "%d %d", &status, &bytes)
	return status, bytes
}

// TestLoggerReopen renames the log, sends SIGUSR1 and checks that new
// lines go to a new file.
func TestLoggerReopen(t *testing.T) {
	t.Parallel()
	forDrivers(t, func(t *testing.T, driver string) {
		dir, _ := pluginConf(t, []string{"logger"}, "[LOGGER]\n    AccessLog access.log\n", nil)
		p := start(t, t.TempDir(), "-c", dir, "--driver", driver)
		get(t, p, "", "/a.txt")
		log := filepath.Join(dir, "access.log")
		deadline := time.Now().Add(10 * time.Second)
		for b, _ := os.ReadFile(log); strings.Count(string(b), "\n") < 2; b, _ = os.ReadFile(log) {
			if time.Now().After(deadline) {
				t.Fatalf("lines not flushed: %q", b)
			}
			time.Sleep(50 * time.Millisecond)
		}
		if err := os.Rename(log, log+".1"); err != nil {
			t.Fatal(err)
		}
		p.signal(syscall.SIGUSR1)
		waitFor(t, p, "logs reopened")
		get(t, p, "", "/b.txt")
		stop(t, p)
		if old := lines(t, log+".1"); len(old) != 2 || !strings.Contains(old[1], "/a.txt") {
			t.Errorf("rotated file: %q", old)
		}
		if cur := lines(t, log); len(cur) != 1 || !strings.Contains(cur[0], "/b.txt") {
			t.Errorf("new file: %q", cur)
		}
	})
}

func TestDirlistingEscapes(t *testing.T) {
	t.Parallel()
	forDrivers(t, func(t *testing.T, driver string) {
		dir, root := pluginConf(t, []string{"dirlisting"}, "", nil)
		writeFiles(t, root, map[string]string{"list/<script>x</script>.txt": "x"})
		p := start(t, t.TempDir(), "-c", dir, "--driver", driver)
		resp, body := get(t, p, "", "/list/")
		if resp.StatusCode != 200 || strings.Contains(body, "<script>x") || !strings.Contains(body, "&lt;script&gt;x") {
			t.Errorf("listing: %d\n%s", resp.StatusCode, body)
		}
		if resp, _ := get(t, p, "", "/dir/"); resp.StatusCode != 200 {
			t.Errorf("directory with an index: %d", resp.StatusCode)
		}
	})
}

func TestRewrite(t *testing.T) {
	t.Parallel()
	forDrivers(t, func(t *testing.T, driver string) {
		site := "[REWRITE]\n" +
			"    Rule ^/old/(.*)$ /new/$1 permanent\n" +
			"    Rule ^/greeting$ /hello.txt last\n" +
			"    Rule ^/loop-a$ /loop-b\n" +
			"    Rule ^/loop-b$ /loop-a\n"
		dir, _ := pluginConf(t, []string{"rewrite"}, site, nil)
		p := start(t, t.TempDir(), "-c", dir, "--driver", driver)
		if resp, body := get(t, p, "", "/greeting"); resp.StatusCode != 200 || body != siteFiles["hello.txt"] {
			t.Errorf("mapped: %d %q", resp.StatusCode, body)
		}
		if resp, _ := get(t, p, "", "/old/x?y=1"); resp.StatusCode != 301 || resp.Header.Get("Location") != "/new/x?y=1" {
			t.Errorf("redirect: %d %q", resp.StatusCode, resp.Header.Get("Location"))
		}
		if resp, _ := get(t, p, "", "/loop-a"); resp.StatusCode != 500 {
			t.Errorf("loop: %d, want 500", resp.StatusCode)
		}
	})
}

// TestMonkeyPluginsLoad runs a Monkey-style config directory: plugins.load
// with .so paths and plugins/<name>/<name>.conf files; -t prints the chain.
func TestMonkeyPluginsLoad(t *testing.T) {
	t.Parallel()
	root := newSite(t)
	dir := filepath.Join(t.TempDir(), "conf")
	writeFiles(t, dir, map[string]string{
		"monkey.conf": serverConf(),
		"sites/default": hostConf(root, "localhost") +
			"\n[LOGGER]\n    AccessLog /dev/null\n",
		"plugins.load": "[PLUGINS]\n" +
			"    # Load /usr/lib/monkey/monkey-cheetah.so\n" +
			"    Load /usr/lib/monkey/monkey-liana.so\n" +
			"    Load /usr/lib/monkey/monkey-mandril.so\n" +
			"    Load /usr/lib/monkey/monkey-logger.so\n" +
			"    Load /usr/lib/monkey/monkey-dirlisting.so\n",
		"plugins/mandril/mandril.conf":       "# Monkey's security rules\n[RULES]\n    URL /private\n",
		"plugins/logger/logger.conf":         "[LOGGER]\n    FlushTimeout 3\n    MasterLog /dev/null\n",
		"plugins/dirlisting/dirlisting.conf": "[DIRLISTING]\n    Theme guineo\n",
	})
	writeFiles(t, dir, map[string]string{
		"plugins/dirlisting/themes/guineo/header.theme": "<h1>%_html_title_%</h1><ul>\n",
		"plugins/dirlisting/themes/guineo/entry.theme":  "<li><a href=\"%_target_url_%\">%_target_title_%</a></li>\n",
		"plugins/dirlisting/themes/guineo/footer.theme": "</ul>\n",
	})
	stdout, stderr, code := runGibbon(t, t.TempDir(), "-c", dir, "-t")
	if code != 0 || !strings.Contains(stdout, "stage 10 accept: mandril") || !strings.Contains(stdout, "stage 40 done: logger") {
		t.Fatalf("-t: exit %d\n%s\n%s", code, stdout, stderr)
	}
	p := start(t, t.TempDir(), "-c", dir)
	if resp, _ := get(t, p, "", "/private"); resp.StatusCode != 403 {
		t.Errorf("mandril URL rule: %d", resp.StatusCode)
	}
	if resp, body := get(t, p, "", "/nodir/"); resp.StatusCode != 200 || !strings.Contains(body, "file.txt") {
		t.Errorf("dirlisting: %d %q", resp.StatusCode, body)
	}
}
