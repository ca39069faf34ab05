package fastcgi

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"mime/multipart"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gibbon/internal/fcgitest"
	"gibbon/stage"
	"gibbon/stage/stagetest"
)

var phpScripts = map[string]string{
	"info.php": `<?php
header('Content-Type: text/plain');
foreach (['SCRIPT_NAME', 'SCRIPT_FILENAME', 'PATH_INFO', 'QUERY_STRING', 'REQUEST_METHOD', 'REQUEST_URI',
          'REMOTE_ADDR', 'DOCUMENT_ROOT', 'HTTP_X_CUSTOM', 'HTTP_PROXY', 'HTTPS', 'SERVER_NAME'] as $k) {
    echo $k, '=', $_SERVER[$k] ?? '(unset)', "\n";
}
echo 'PHP_SELF=', $_SERVER['PHP_SELF'], "\n";`,
	"form.php":      `<?php echo 'a=', $_POST['a'] ?? '', ';b=', $_POST['b'] ?? '', ';method=', $_SERVER['REQUEST_METHOD'];`,
	"upload.php":    `<?php $f = $_FILES['file']; echo $f['name'], ' ', $f['size'], ' ', md5_file($f['tmp_name']), ' ', $_POST['note'] ?? '';`,
	"app/index.php": `<?php echo 'route=', ($_SERVER['PATH_INFO'] ?? '') ?: '/', ' script=', $_SERVER['SCRIPT_NAME'];`,
	"index.php":     `<?php echo 'index executed';`,
	"status.php":    `<?php http_response_code(404); header('X-From: php'); echo 'missing';`,
	"redirect.php":  `<?php header('Location: https://example.org/elsewhere'); `,
	"echo.php":      `<?php echo 'body=', file_get_contents('php://input'), ';';`,
	"sleep.php":     `<?php file_put_contents(__DIR__ . '/started', '1'); sleep(20); echo 'late';`,
	"warn.php":      `<?php error_log('written to stderr'); echo 'ok';`,
	"source.txt":    `<?php echo 'never run';`,
}

func phpSite(t *testing.T, f *fcgitest.Proc, extra ...string) (*stage.Pipeline, string) {
	t.Helper()
	conf := serverConf("php", "ServerPath "+f.Sock, append([]string{"MaxConnections 4", "KeepAlive on", "QueueTimeout 60", "ReadTimeout 30"}, extra...)...)
	return site(t, conf, "    Match /.*\\.php fastcgi php\n", phpScripts)
}

func TestPHP(t *testing.T) {
	t.Parallel()
	f := fcgitest.PHPFPM(t, 4)
	p, root := phpSite(t, f)

	t.Run("server variables", func(t *testing.T) {
		w, err := get(t, p, "GET", "/info.php/extra/path?q=1", "", "Host: php.example:8080", "X-Custom: yes", "Proxy: http://evil")
		must(t, err)
		env := map[string]string{}
		for _, line := range strings.Split(w.String(), "\n") {
			if k, v, ok := strings.Cut(line, "="); ok {
				env[k] = v
			}
		}
		for k, want := range map[string]string{
			"SCRIPT_NAME": "/info.php", "SCRIPT_FILENAME": root + "/info.php", "PATH_INFO": "/extra/path",
			"QUERY_STRING": "q=1", "REQUEST_METHOD": "GET", "REQUEST_URI": "/info.php/extra/path?q=1",
			"REMOTE_ADDR": "192.0.2.1", "DOCUMENT_ROOT": root, "HTTP_X_CUSTOM": "yes", "HTTP_PROXY": "(unset)",
			"HTTPS": "(unset)", "SERVER_NAME": "php.example", "PHP_SELF": "/info.php/extra/path",
		} {
			if env[k] != want {
				t.Errorf("%s = %q, want %q", k, env[k], want)
			}
		}
		if w.Code != 200 || !strings.HasPrefix(w.Sent.Get("Content-Type"), "text/plain") {
			t.Errorf("status %d type %q", w.Code, w.Sent.Get("Content-Type"))
		}
	})
	t.Run("post form", func(t *testing.T) {
		w, err := get(t, p, "POST", "/form.php", "a=hello+world&b=%C3%A9", "Content-Type: application/x-www-form-urlencoded")
		must(t, err)
		if w.String() != "a=hello world;b=é;method=POST" {
			t.Errorf("body %q", w.String())
		}
		w, err = get(t, p, "POST", "/form.php", "a=chunked", "Content-Type: application/x-www-form-urlencoded", "Transfer-Encoding: chunked")
		must(t, err)
		if w.String() != "a=chunked;b=;method=POST" {
			t.Errorf("chunked: body %q", w.String())
		}
	})
	t.Run("upload", func(t *testing.T) {
		data := bytes.Repeat([]byte("gibbon upload \x00\xff"), 40000) // 640 KB
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		must(t, mw.WriteField("note", "hi"))
		fw, err := mw.CreateFormFile("file", "data.bin")
		must(t, err)
		fw.Write(data)
		must(t, mw.Close())
		w, err := get(t, p, "POST", "/upload.php", buf.String(), "Content-Type: "+mw.FormDataContentType())
		must(t, err)
		sum := md5.Sum(data)
		if want := fmt.Sprintf("data.bin %d %s hi", len(data), hex.EncodeToString(sum[:])); w.String() != want {
			t.Errorf("got %q, want %q", w.String(), want)
		}
	})
	t.Run("front controller", func(t *testing.T) {
		w, err := get(t, p, "GET", "/app/index.php/users/42/edit", "")
		must(t, err)
		if w.String() != "route=/users/42/edit script=/app/index.php" {
			t.Errorf("body %q", w.String())
		}
	})
	t.Run("index.php executes", func(t *testing.T) {
		for target, want := range map[string]string{"/": "index executed", "/app/": "route=/ script=/app/index.php"} {
			w, err := get(t, p, "GET", target, "")
			must(t, err)
			if w.String() != want {
				t.Errorf("%s: body %q, want %q", target, w.String(), want)
			}
		}
	})
	t.Run("status and redirect", func(t *testing.T) {
		w, err := get(t, p, "GET", "/status.php", "")
		must(t, err)
		if w.Code != 404 || w.Sent.Get("X-From") != "php" || w.String() != "missing" {
			t.Errorf("status.php: %d %q %q", w.Code, w.Sent.Get("X-From"), w.String())
		}
		w, err = get(t, p, "GET", "/redirect.php", "")
		must(t, err)
		if w.Code != 302 || w.Sent.Get("Location") != "https://example.org/elsewhere" {
			t.Errorf("redirect.php: %d %q", w.Code, w.Sent.Get("Location"))
		}
	})
	t.Run("not a script", func(t *testing.T) {
		if _, err := get(t, p, "GET", "/source.txt/x.php", ""); stage.StatusOf(err) != 403 {
			t.Errorf("err %v, want 403", err)
		}
	})
	t.Run("stderr", func(t *testing.T) {
		w, err := get(t, p, "GET", "/warn.php", "")
		if err != nil || w.String() != "ok" {
			t.Errorf("%v %q", err, w.String())
		}
	})
	t.Run("concurrent", func(t *testing.T) {
		hammerPath(t, p, "/echo.php", 500)
	})
}

func TestPHPBackendKilled(t *testing.T) {
	t.Parallel()
	f := fcgitest.PHPFPM(t, 4)
	p, root := phpSite(t, f)
	for range 3 { // fill the pool with kept-alive connections
		w, err := get(t, p, "GET", "/index.php", "")
		must(t, err)
		if w.String() != "index executed" {
			t.Fatalf("body %q", w.String())
		}
	}
	done := make(chan error, 1)
	go func() { _, err := get(t, p, "GET", "/sleep.php", ""); done <- err }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := os.Stat(filepath.Join(root, "started")); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("sleep.php did not start")
		}
		time.Sleep(10 * time.Millisecond)
	}
	f.Kill()
	select {
	case err := <-done:
		if stage.StatusOf(err) != 502 {
			t.Errorf("killed mid-run: %v, want 502", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no answer after the backend died")
	}
	if _, err := get(t, p, "GET", "/index.php", ""); stage.StatusOf(err) != 502 {
		t.Errorf("backend down: %v, want 502", err)
	}
	f.Restart() // a new backend on the same socket
	w, err := get(t, p, "GET", "/index.php", "")
	if err != nil || w.String() != "index executed" {
		t.Errorf("after restart: %v %q", err, w.String())
	}
}

// hammerPath sends n concurrent POSTs to path (echo.php) and checks
// every answer.
func hammerPath(t *testing.T, p *stage.Pipeline, path string, n int) {
	t.Helper()
	concurrently(t, n, func(i int) error {
		w := new(stagetest.StreamRecorder)
		body := fmt.Sprintf("n=%d", i)
		err := serve(t, p, w, request(p, "POST", path, body, "Content-Type: application/octet-stream"))
		if err == nil && w.String() != "body="+body+";" {
			err = fmt.Errorf("request %d: %d %q", i, w.Code, w.String())
		}
		return err
	})
}

// TestPHPMoreConnectionsThanChildren: with more kept-alive connections
// than php-fpm children, a request sent on a connection no child has
// accepted would wait for ReadTimeout (each child stays with its kept
// connection). The pool notices such a connection (php-fpm answers
// GET_VALUES once a child takes it), lowers its limit to the connections
// php-fpm took and closes those over it as their requests end, which
// frees children for the waiting ones: every request is served, and the
// learnt limit is at most the children.
func TestPHPMoreConnectionsThanChildren(t *testing.T) {
	t.Parallel()
	f := fcgitest.PHPFPM(t, 4)
	p, _ := phpSite(t, f, "MaxConnections 12", "ReadTimeout 30")
	start := time.Now()
	for range 3 {
		hammerPath(t, p, "/echo.php", 300)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("900 requests took %v: requests waited on connections no child took", d)
	}
	if limit, open := limits(p); limit > 4 || open > limit {
		t.Errorf("limit %d with %d open, want at most the 4 children", limit, open)
	}
}
