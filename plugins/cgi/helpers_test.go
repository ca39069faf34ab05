package cgi_test

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	_ "gibbon/plugins/cgi"
	"gibbon/stage"
	"gibbon/stage/stagetest"
)

// site loads a configuration with the cgi plugin, conf as cgi.conf and
// handlers as the default host's [HANDLERS], then writes files (path under
// the document root → content; a name ending in ".cgi" or ".sh!" is made
// executable, the "!" dropped).
func site(t *testing.T, conf, handlers string, files map[string]string) (*stage.Pipeline, string) {
	t.Helper()
	cfg := stagetest.Config(t, map[string]string{
		"plugins.load":         "[PLUGINS]\n    Load cgi\n",
		"plugins/cgi/cgi.conf": conf,
		"sites/default":        "[HOST]\n    DocumentRoot htdocs\n[HANDLERS]\n" + handlers,
	})
	root := cfg.Hosts[0].DocumentRoot
	for name, text := range files {
		mode := os.FileMode(0o644)
		if strings.HasSuffix(name, ".cgi") || strings.HasSuffix(name, "!") {
			name, mode = strings.TrimSuffix(name, "!"), 0o755
		}
		p := filepath.Join(root, name)
		must(t, os.MkdirAll(filepath.Dir(p), 0o755))
		must(t, os.WriteFile(p, []byte(text), mode))
	}
	p, err := stage.Load(cfg, stage.Env{})
	must(t, err)
	t.Cleanup(func() { p.Cleanup() })
	return p, root
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// request builds a request on the default host; body "" means none.
func request(p *stage.Pipeline, method, target, body string, headers ...string) *stage.Request {
	return stagetest.NewRequestBody(p.Hosts()[0].VHost, method, target, body, headers...)
}

// serve routes r and serves it, following internal redirects.
func serve(t *testing.T, p *stage.Pipeline, w stage.ResponseWriter, r *stage.Request) error {
	t.Helper()
	return stagetest.Serve(t, p.Route, w, r)
}

// get serves a request and returns the writer.
func get(t *testing.T, p *stage.Pipeline, method, target, body string, headers ...string) (*stagetest.StreamRecorder, error) {
	t.Helper()
	w := new(stagetest.StreamRecorder)
	err := serve(t, p, w, request(p, method, target, body, headers...))
	return w, err
}

// envOf parses `env` output.
func envOf(s string) map[string]string {
	m := map[string]string{}
	for _, line := range strings.Split(s, "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			m[k] = v
		}
	}
	return m
}

// gone waits until pid is no longer a live process (missing or a zombie).
func gone(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil {
			return
		}
		if i := bytes.LastIndexByte(b, ')'); i > 0 && len(b) > i+2 && b[i+2] == 'Z' {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Errorf("process %d still runs", pid)
}

// readPid waits for a pid file.
func readPid(t *testing.T, file string) int {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		b, err := os.ReadFile(file)
		if n, aerr := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && aerr == nil {
			return n
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no pid in %s", file)
	return 0
}

var _ = io.EOF
