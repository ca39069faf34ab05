package e2e_test

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"mime/multipart"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"gibbon/internal/fcgitest"
)

// startGoFCGI runs the test binary as a net/http/fcgi responder.
func startGoFCGI(t *testing.T) *fcgitest.Proc {
	t.Helper()
	bin, sock := testBinary(t), filepath.Join(t.TempDir(), "go.sock")
	return fcgitest.Start(t, sock, func() *exec.Cmd {
		cmd := exec.Command(bin, sock)
		cmd.Env = append(os.Environ(), "GIBBON_E2E_HELPER=fcgi")
		return cmd
	})
}

var phpFiles = map[string]string{
	"info.php": `<?php header('Content-Type: text/plain');
foreach (['SCRIPT_NAME', 'SCRIPT_FILENAME', 'PATH_INFO', 'PATH_TRANSLATED', 'QUERY_STRING', 'REQUEST_METHOD', 'REQUEST_URI',
          'REMOTE_ADDR', 'SERVER_PORT', 'SERVER_PROTOCOL', 'SERVER_SOFTWARE', 'GATEWAY_INTERFACE', 'DOCUMENT_ROOT',
          'HTTP_X_CUSTOM', 'HTTP_PROXY', 'HTTPS', 'SERVER_NAME', 'PHP_SELF'] as $k) {
    echo $k, '=', $_SERVER[$k] ?? '(unset)', "\n";
}
echo 'GET_a=', $_GET['a'] ?? '', "\n";`,
	"form.php":       `<?php echo 'a=', $_POST['a'] ?? '', ';b=', $_POST['b'] ?? '', ';method=', $_SERVER['REQUEST_METHOD'];`,
	"upload.php":     `<?php $f = $_FILES['file']; echo $f['name'], ' ', $f['size'], ' ', md5_file($f['tmp_name']), ' ', $_POST['note'] ?? '';`,
	"app/index.php":  `<?php echo 'route=', ($_SERVER['PATH_INFO'] ?? '') ?: '/', ' script=', $_SERVER['SCRIPT_NAME'];`,
	"index.php":      `<?php echo 'index ', 'executed';`,
	"php/index.php":  `<?php echo 'dir index ', 'executed';`,
	"hello.php":      `<?php echo 'Hello, World!';`,
	"sleep.php":      `<?php sleep(30); echo 'late';`,
	"go/app.fcgi":    "the Go responder's script name\n",
	"go/not-go.php2": "never sent\n",
}

// fastcgiSite starts php-fpm, the Go responder and gibbon in front of both.
func fastcgiSite(t *testing.T, driver string) (*proc, string, *fcgitest.Proc, *fcgitest.Proc) {
	t.Helper()
	fpm, gofcgi := fcgitest.PHPFPM(t, 8), startGoFCGI(t)
	fc := fmt.Sprintf("[FASTCGI_SERVER]\n    ServerName php\n    ServerPath %s\n    MaxConnections 8\n    KeepAlive on\n    QueueTimeout 30\n\n"+
		"[FASTCGI_SERVER]\n    ServerName go\n    ServerPath %s\n    MaxConnections 8\n    Extensions .fcgi\n", fpm.Sock, gofcgi.Sock)
	site := "\n[HANDLERS]\n    Match /.*\\.php fastcgi php\n    Match ^/go/ fastcgi go\n"
	dir, root := pluginConf(t, []string{"fastcgi"}, site, map[string]string{"plugins/fastcgi/fastcgi.conf": fc})
	writeFiles(t, dir, map[string]string{"gibbon.conf": serverConf("    MaxRequestSize 4096", "    Indexfile index.php index.html")})
	writeFiles(t, root, phpFiles)
	p := start(t, t.TempDir(), "-c", dir, "--driver", driver)
	return p, root, fpm, gofcgi
}

func TestFastCGI(t *testing.T) {
	t.Parallel()
	forDrivers(t, func(t *testing.T, driver string) {
		p, root, fpm, gofcgi := fastcgiSite(t, driver)

		t.Run("go responder", func(t *testing.T) {
			resp, body := get(t, p, "localhost", "/go/app.fcgi/env/x?a=1", "X-Custom", "v")
			if resp.StatusCode != 200 {
				t.Fatalf("%d %q", resp.StatusCode, body)
			}
			env := envMap(body)
			checkEnv(t, env, map[string]string{
				"REQUEST_METHOD": "GET", "REQUEST_URI": "/go/app.fcgi/env/x?a=1", "HOST": "localhost",
				"SCRIPT_FILENAME": root + "/go/app.fcgi",
				"PATH_TRANSLATED": root + "/env/x", "DOCUMENT_ROOT": root, "GATEWAY_INTERFACE": "CGI/1.1",
				"SERVER_SOFTWARE": "gibbon", "SERVER_NAME": "localhost", "HTTP_X_CUSTOM": "v",
				"REDIRECT_STATUS": "200",
			}, false)
			if !strings.HasPrefix(env["REMOTE_ADDR"], "127.0.0.1:") {
				t.Errorf("REMOTE_ADDR %q", env["REMOTE_ADDR"])
			}
			data := strings.Repeat("0123456789", 100000) // 1 MB
			resp2, err := newClient().Post(p.base()+"/go/app.fcgi/echo", "text/plain", strings.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp2.Body)
			resp2.Body.Close()
			if want := fmt.Sprintf("POST %d %s", len(data), data); string(b) != want {
				t.Errorf("echo: %d, %d bytes, want %d", resp2.StatusCode, len(b), len(want))
			}
			if resp, _ := get(t, p, "", "/go/not-go.php2"); resp.StatusCode != 403 {
				t.Errorf("a script without the backend's extension: %d, want 403", resp.StatusCode)
			}
		})
		t.Run("php variables", func(t *testing.T) {
			resp, body := get(t, p, "localhost", "/info.php/extra/path?a=b%20c", "X-Custom", "yes", "Proxy", "http://evil")
			env := envMap(body)
			checkEnv(t, env, map[string]string{
				"SCRIPT_NAME": "/info.php", "SCRIPT_FILENAME": root + "/info.php", "PATH_INFO": "/extra/path",
				"PATH_TRANSLATED": root + "/extra/path", "QUERY_STRING": "a=b%20c", "REQUEST_METHOD": "GET",
				"REQUEST_URI": "/info.php/extra/path?a=b%20c", "REMOTE_ADDR": "127.0.0.1", "SERVER_PORT": fmt.Sprint(p.port),
				"SERVER_PROTOCOL": "HTTP/1.1", "SERVER_SOFTWARE": "gibbon", "GATEWAY_INTERFACE": "CGI/1.1",
				"DOCUMENT_ROOT": root, "HTTP_X_CUSTOM": "yes", "HTTP_PROXY": "(unset)", "HTTPS": "(unset)",
				"SERVER_NAME": "localhost", "PHP_SELF": "/info.php/extra/path", "GET_a": "b c",
			}, true)
			if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/plain;charset=UTF-8" {
				t.Errorf("status %d, Content-Type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
			}
		})
		t.Run("post form and upload", func(t *testing.T) {
			resp, err := newClient().PostForm(p.base()+"/form.php", url.Values{"a": {"hello world"}, "b": {"é"}})
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if string(b) != "a=hello world;b=é;method=POST" {
				t.Errorf("form: %d %q", resp.StatusCode, b)
			}
			data := bytes.Repeat([]byte("gibbon upload \x00\xff"), 120000) // 1.9 MB
			var buf bytes.Buffer
			mw := multipart.NewWriter(&buf)
			mw.WriteField("note", "hi")
			fw, _ := mw.CreateFormFile("file", "data.bin")
			fw.Write(data)
			mw.Close()
			resp, err = newClient().Post(p.base()+"/upload.php", mw.FormDataContentType(), &buf)
			if err != nil {
				t.Fatal(err)
			}
			b, _ = io.ReadAll(resp.Body)
			resp.Body.Close()
			sum := md5.Sum(data)
			if want := fmt.Sprintf("data.bin %d %s hi", len(data), hex.EncodeToString(sum[:])); string(b) != want {
				t.Errorf("upload: %d %q, want %q", resp.StatusCode, b, want)
			}
		})
		t.Run("front controller and index.php", func(t *testing.T) {
			for target, want := range map[string]string{
				"/app/index.php/users/42/edit": "route=/users/42/edit script=/app/index.php",
				"/app/":                        "route=/ script=/app/index.php",
				"/":                            "index executed",
				"/index.php":                   "index executed",
				"/php/":                        "dir index executed",
				"/php/index.php":               "dir index executed",
			} {
				if resp, body := get(t, p, "", target); resp.StatusCode != 200 || body != want {
					t.Errorf("GET %s: %d %q, want %q", target, resp.StatusCode, body, want)
				}
			}
			if resp, _ := get(t, p, "", "/php"); resp.StatusCode != 301 {
				t.Errorf("GET /php: %d, want 301", resp.StatusCode)
			}
		})
		t.Run("backend killed", func(t *testing.T) {
			for _, tc := range []struct {
				b         *fcgitest.Proc
				slow, now string
			}{{fpm, "/sleep.php", "/hello.php"}, {gofcgi, "/go/app.fcgi/sleep", "/go/app.fcgi/echo"}} {
				type result struct {
					code int
					err  error
				}
				done := make(chan result, 1)
				go func() {
					resp, err := newClient().Get(p.base() + tc.slow)
					if err != nil {
						done <- result{0, err}
						return
					}
					resp.Body.Close()
					done <- result{resp.StatusCode, nil}
				}()
				time.Sleep(300 * time.Millisecond) // the request is at the backend
				tc.b.Kill()
				if r := <-done; r.code != 502 {
					t.Errorf("%s while the backend dies: %d %v, want 502", tc.slow, r.code, r.err)
				}
				if resp, _ := get(t, p, "", tc.now); resp.StatusCode != 502 {
					t.Errorf("%s with the backend down: %d, want 502", tc.now, resp.StatusCode)
				}
				tc.b.Restart()
				if resp, body := get(t, p, "", tc.now); resp.StatusCode != 200 {
					t.Errorf("%s after the restart: %d %q", tc.now, resp.StatusCode, body)
				}
			}
		})
		t.Run("500 under h2load", func(t *testing.T) {
			h2loadH1(t, 500, 50, p.base()+"/hello.php")
			h2loadH1(t, 500, 50, p.base()+"/go/app.fcgi/echo")
		})
		t.Run("500 concurrent clients", func(t *testing.T) {
			var wg sync.WaitGroup
			errs := make(chan string, 500)
			for i := range 500 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					c := newClient()
					defer c.CloseIdleConnections()
					resp, err := c.Get(fmt.Sprintf("%s/info.php?a=%d", p.base(), i))
					if err != nil {
						errs <- err.Error()
						return
					}
					b, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					if resp.StatusCode != 200 || !strings.Contains(string(b), fmt.Sprintf("GET_a=%d\n", i)) {
						errs <- fmt.Sprintf("%d: %d %q", i, resp.StatusCode, b)
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
