package e2e_test

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// waitLog waits until the process's log holds text n times.
func waitLog(t *testing.T, p *proc, text string, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for strings.Count(p.stderr.String(), text) < n {
		if time.Now().After(deadline) {
			t.Fatalf("no %q (%d) in the log after 10s:\n%s", text, n, p.stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestReload changes a running gibbon's configuration and sends SIGHUP:
// a new document root, a new virtual host and a new error page serve at
// once, while a large file whose download began before the reload
// arrives whole; then a configuration with an unknown key is refused
// with its file, line and key in the log, and the previous one goes on
// serving; a changed Listen is kept, with a warning.
func TestReload(t *testing.T) {
	t.Parallel()
	root1, root2, root3 := t.TempDir(), t.TempDir(), t.TempDir()
	big := strings.Repeat("0123456789abcdef", 1<<19) // 8 MiB
	writeFiles(t, root1, map[string]string{"hello.txt": "one\n", "big.bin": big, "404.html": "old missing\n"})
	writeFiles(t, root2, map[string]string{"hello.txt": "two\n", "404.html": "new missing\n"})
	writeFiles(t, root3, map[string]string{"hello.txt": "three\n"})
	conf := newConf(t, serverConf(), map[string]string{
		"default": hostConf(root1, "localhost") + "[ERROR_PAGES]\n    404 404.html\n",
	})
	p := start(t, t.TempDir(), "-c", conf)
	if _, body := get(t, p, "", "/hello.txt"); body != "one\n" {
		t.Fatalf("before the reload: %q", body)
	}

	// A download in flight across the reload, read slowly.
	dl := startDownload(t, p, "/big.bin")

	writeFiles(t, conf, map[string]string{
		"sites/default": hostConf(root2, "localhost") + "[ERROR_PAGES]\n    404 404.html\n",
		"sites/third":   hostConf(root3, "third.test"),
	})
	p.signal(syscall.SIGHUP)
	waitLog(t, p, "SIGHUP: configuration reloaded", 1)
	if _, body := get(t, p, "", "/hello.txt"); body != "two\n" {
		t.Fatalf("new document root: got %q", body)
	}
	if _, body := get(t, p, "third.test", "/hello.txt"); body != "three\n" {
		t.Fatalf("new virtual host: got %q", body)
	}
	if r, body := get(t, p, "", "/nothing"); r.StatusCode != 404 || body != "new missing\n" {
		t.Fatalf("new error page: %d %q", r.StatusCode, body)
	}
	if r, _ := get(t, p, "", "/big.bin"); r.StatusCode != 404 {
		t.Fatalf("a file of the old document root answered %d under the new one", r.StatusCode)
	}
	dl.finish(t, big, "the download begun before the reload")

	// A bad key: the error names file, line and key; the old config serves.
	bad := serverConf("    Timeuot 5")
	if err := os.WriteFile(filepath.Join(conf, "gibbon.conf"), []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	p.signal(syscall.SIGHUP)
	waitLog(t, p, "keeping the running one", 1)
	log := p.stderr.String()
	if want := filepath.Join(conf, "gibbon.conf") + ":6"; !strings.Contains(log, want) || !strings.Contains(log, "Timeuot") {
		t.Fatalf("the log does not name %s and the key Timeuot:\n%s", want, log)
	}
	if _, body := get(t, p, "third.test", "/hello.txt"); body != "three\n" {
		t.Fatalf("after a failed reload: got %q", body)
	}

	// A key that needs a restart keeps its value, with a warning; the
	// rest applies.
	writeFiles(t, conf, map[string]string{
		"gibbon.conf":   serverConf("    WorkerCapacity 100"),
		"sites/default": hostConf(root1, "localhost"),
	})
	p.signal(syscall.SIGHUP)
	waitLog(t, p, "SIGHUP: configuration reloaded", 2)
	if !strings.Contains(p.stderr.String(), "need a restart") || !strings.Contains(p.stderr.String(), "WorkerCapacity") {
		t.Fatalf("no restart warning naming WorkerCapacity:\n%s", p.stderr)
	}
	if r, body := get(t, p, "", "/hello.txt"); r.StatusCode != http.StatusOK || body != "one\n" {
		t.Fatalf("after the third reload: %d %q", r.StatusCode, body)
	}
}
