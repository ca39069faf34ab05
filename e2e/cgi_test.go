package e2e_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// cgiSite writes a site whose /cgi-bin/ runs CGI scripts with cgiConf as
// plugins/cgi/cgi.conf; scripts are written with runDir (a directory for
// pid files) and the test binary substituted for @RUN@ and @BIN@. It
// returns the config directory, the document root and runDir.
func cgiSite(t *testing.T, cgiConf string) (string, string, string) {
	t.Helper()
	dir, root := pluginConf(t, []string{"cgi"}, "[HANDLERS]\n    Match ^/cgi-bin/ cgi\n",
		map[string]string{"plugins/cgi/cgi.conf": cgiConf})
	// Bodies up to 4 MiB (MaxRequestSize bounds every request, CGI's too).
	writeFiles(t, dir, map[string]string{"gibbon.conf": serverConf("    MaxRequestSize 4096")})
	run := t.TempDir()
	r := strings.NewReplacer("@RUN@", run, "@BIN@", testBinary(t))
	for name, text := range cgiScripts {
		writeScript(t, filepath.Join(root, "cgi-bin", name), r.Replace(text))
	}
	return dir, root, run
}

var cgiScripts = map[string]string{
	// The Go CGI program (net/http/cgi): the test binary in helper mode.
	"go.cgi": "#!/bin/sh\nGIBBON_E2E_HELPER=cgi exec @BIN@\n",
	"env.sh": "#!/bin/sh\nprintf 'Content-Type: text/plain\\r\\n\\r\\n'\n" +
		"echo \"method=$REQUEST_METHOD query=$QUERY_STRING info=$PATH_INFO script=$SCRIPT_NAME custom=$HTTP_X_CUSTOM\"\n",
	"query.sh":  "#!/bin/sh\nprintf 'Content-Type: text/plain\\n\\n%s' \"$QUERY_STRING\"\n",
	"big.sh":    "#!/bin/sh\nprintf 'Content-Type: application/octet-stream\\n\\n'\nhead -c 8388608 /dev/zero | tr '\\000' g\n",
	"status.sh": "#!/bin/sh\nprintf 'Status: 404 Not Found\\nContent-Type: text/plain\\nX-Script: yes\\n\\ngone\\n'\n",
	"away.sh":   "#!/bin/sh\nprintf 'Location: http://example.org/there\\n\\n'\n",
	"local.sh":  "#!/bin/sh\nprintf 'Location: /hello.txt\\n\\n'\n",
	// A script that never answers; its sleeping child must die with it.
	"hang.sh": "#!/bin/sh\nsleep 30 &\necho $! > @RUN@/hang-$QUERY_STRING.pid\nwait\n",
}

func TestCGI(t *testing.T) {
	t.Parallel()
	forDrivers(t, func(t *testing.T, driver string) {
		dir, root, run := cgiSite(t, "[CGI]\n    TimeLimit 1500ms\n")
		p := start(t, t.TempDir(), "-c", dir, "--driver", driver)

		t.Run("go env exact", func(t *testing.T) {
			r := raw(t, p.addr, "GET /cgi-bin/go.cgi/env/x%20y?a=1&b=%2F HTTP/1.1\r\nHost: localhost\r\nX-Custom: v\r\nX-Custom: w\r\n"+
				"Proxy: http://evil\r\nX_Foo: bar\r\nConnection: close\r\n\r\n", 10*time.Second)
			if r.status() != 200 {
				t.Fatalf("status %d: %q", r.status(), r.data)
			}
			_, body, _ := strings.Cut(r.data, "\r\n\r\n")
			env := envMap(body)
			want := map[string]string{
				"GATEWAY_INTERFACE": "CGI/1.1",
				"PATH_INFO":         "/env/x y",
				"PATH_TRANSLATED":   root + "/env/x y",
				"QUERY_STRING":      "a=1&b=%2F",
				"REMOTE_ADDR":       "127.0.0.1",
				"REMOTE_PORT":       env["REMOTE_PORT"],
				"REQUEST_METHOD":    "GET",
				"REQUEST_URI":       "/cgi-bin/go.cgi/env/x%20y?a=1&b=%2F",
				"REQUEST_SCHEME":    "http",
				"SCRIPT_NAME":       "/cgi-bin/go.cgi",
				"SCRIPT_FILENAME":   root + "/cgi-bin/go.cgi",
				"SERVER_NAME":       "localhost",
				"SERVER_ADDR":       "127.0.0.1",
				"SERVER_PORT":       strconv.Itoa(p.port),
				"SERVER_PROTOCOL":   "HTTP/1.1",
				"SERVER_SOFTWARE":   "gibbon",
				"DOCUMENT_ROOT":     root,
				"REDIRECT_STATUS":   "200",
				"PATH":              "/usr/local/bin:/usr/bin:/bin",
				"HTTP_HOST":         "localhost",
				"HTTP_X_CUSTOM":     "v, w",
				"HTTP_CONNECTION":   "close",
				// Added by /bin/sh, the wrapper that starts the Go program.
				"PWD": root + "/cgi-bin",
			}
			if port, err := strconv.Atoi(env["REMOTE_PORT"]); err != nil || port <= 0 {
				t.Errorf("REMOTE_PORT %q", env["REMOTE_PORT"])
			}
			checkEnv(t, env, want, true)
		})
		t.Run("shell env", func(t *testing.T) {
			resp, body := get(t, p, "localhost", "/cgi-bin/env.sh/a/b?q=%41", "X-Custom", "c")
			if want := "method=GET query=q=%41 info=/a/b script=/cgi-bin/env.sh custom=c\n"; resp.StatusCode != 200 || body != want ||
				resp.Header.Get("Content-Type") != "text/plain" {
				t.Errorf("%d %q %v, want %q", resp.StatusCode, body, resp.Header, want)
			}
		})
		t.Run("post echo", func(t *testing.T) {
			data := strings.Repeat("post body ", 30000) // 300 KB
			resp, err := newClient().Post(p.base()+"/cgi-bin/go.cgi/echo", "text/plain", strings.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if want := fmt.Sprintf("POST %d %s", len(data), data); string(b) != want {
				t.Errorf("echo: %d, %d bytes, want %d", resp.StatusCode, len(b), len(want))
			}
			// A chunked body reaches the script with its length.
			out := curl(t, "-H", "Transfer-Encoding: chunked", "--data-binary", "chunked!", p.base()+"/cgi-bin/go.cgi/echo")
			if out != "POST 8 chunked!" {
				t.Errorf("chunked echo %q", out)
			}
		})
		t.Run("large output", func(t *testing.T) {
			resp, err := newClient().Get(p.base() + "/cgi-bin/big.sh")
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			// 8 MiB: well inside this site's 1.5 s TimeLimit, which covers the
			// script's whole run, even on a loaded machine under -race.
			n, bad := int64(0), false
			buf := make([]byte, 64<<10)
			for err == nil {
				var k int
				k, err = resp.Body.Read(buf)
				for _, c := range buf[:k] {
					bad = bad || c != 'g'
				}
				n += int64(k)
			}
			if resp.StatusCode != 200 || n != 8<<20 || bad || err != io.EOF {
				t.Errorf("status %d, %d bytes (want %d), bad bytes %v, end %v", resp.StatusCode, n, 8<<20, bad, err)
			}
		})
		t.Run("status and redirects", func(t *testing.T) {
			if resp, body := get(t, p, "", "/cgi-bin/status.sh"); resp.StatusCode != 404 || body != "gone\n" || resp.Header.Get("X-Script") != "yes" {
				t.Errorf("Status: 404 → %d %q %v", resp.StatusCode, body, resp.Header)
			}
			if resp, _ := get(t, p, "", "/cgi-bin/away.sh"); resp.StatusCode != 302 || resp.Header.Get("Location") != "http://example.org/there" {
				t.Errorf("redirect → %d %v", resp.StatusCode, resp.Header)
			}
			if resp, body := get(t, p, "", "/cgi-bin/local.sh"); resp.StatusCode != 200 || body != siteFiles["hello.txt"] {
				t.Errorf("local redirect → %d %q", resp.StatusCode, body)
			}
		})
		t.Run("hang killed at the limit", func(t *testing.T) {
			t0 := time.Now()
			resp, _ := get(t, p, "", "/cgi-bin/hang.sh?limit")
			took := time.Since(t0)
			if resp.StatusCode != 504 || took < time.Second || took > 5*time.Second {
				t.Errorf("hanging script: %d after %v, want 504 after 1.5s", resp.StatusCode, took)
			}
			waitDead(t, readPid(t, filepath.Join(run, "hang-limit.pid")), 3*time.Second, "the hanging script's child")
		})
		t.Run("200 concurrent", func(t *testing.T) {
			var wg sync.WaitGroup
			errs := make(chan string, 200)
			for i := range 200 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					c := newClient()
					defer c.CloseIdleConnections()
					q := "req" + strconv.Itoa(i)
					resp, err := c.Get(p.base() + "/cgi-bin/query.sh?" + q)
					if err != nil {
						errs <- err.Error()
						return
					}
					b, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					if resp.StatusCode != 200 || string(b) != q {
						errs <- fmt.Sprintf("%s: %d %q", q, resp.StatusCode, b)
					}
				}()
			}
			wg.Wait()
			close(errs)
			for e := range errs {
				t.Error(e)
			}
		})
		checkServing(t, p)
	})
}

// TestCGIClientGone: a client that disconnects while its script runs
// gets the script (and its child) killed long before the time limit.
func TestCGIClientGone(t *testing.T) {
	t.Parallel()
	forDrivers(t, func(t *testing.T, driver string) {
		dir, _, run := cgiSite(t, "[CGI]\n    TimeLimit 60\n")
		p := start(t, t.TempDir(), "-c", dir, "--driver", driver)
		for _, tc := range []struct{ name, req string }{
			{"get", "GET /cgi-bin/hang.sh?get HTTP/1.1\r\nHost: localhost\r\n\r\n"},
			{"post", "POST /cgi-bin/hang.sh?post HTTP/1.1\r\nHost: localhost\r\nContent-Length: 4\r\n\r\nbody"},
		} {
			c, err := net.Dial("tcp", p.addr)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.Write([]byte(tc.req)); err != nil {
				t.Fatal(err)
			}
			pid := readPid(t, filepath.Join(run, "hang-"+tc.name+".pid"))
			c.Close()
			waitDead(t, pid, 5*time.Second, tc.name+": the script's child after the client left")
		}
		// The slot was freed and the server goes on.
		r := raw(t, p.addr, "GET /cgi-bin/query.sh?after HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n", 5*time.Second)
		resp, err := http.ReadResponse(bufio.NewReader(strings.NewReader(r.data)), nil)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("after: %q %v", r.data, err)
		}
	})
}
