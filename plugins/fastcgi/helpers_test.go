package fastcgi

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gibbon/stage"
	"gibbon/stage/stagetest"
)

// site loads a configuration with the fastcgi plugin, conf as
// fastcgi.conf and handlers as the default host's [HANDLERS], then writes
// files under the document root.
func site(t *testing.T, conf, handlers string, files map[string]string) (*stage.Pipeline, string) {
	t.Helper()
	cfg := stagetest.Config(t, map[string]string{
		"plugins.load":                 "[PLUGINS]\n    Load fastcgi\n",
		"plugins/fastcgi/fastcgi.conf": conf,
		"sites/default":                "[HOST]\n    DocumentRoot htdocs\n[HANDLERS]\n" + handlers,
		"gibbon.conf":                  "[SERVER]\n    Listen 0\n    Indexfile index.html index.php\n",
	})
	root := cfg.Hosts[0].DocumentRoot
	for name, text := range files {
		p := filepath.Join(root, name)
		must(t, os.MkdirAll(filepath.Dir(p), 0o755))
		must(t, os.WriteFile(p, []byte(text), 0o644))
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
	return stagetest.Serve(t, func(r *stage.Request) *stage.Rule { return routeIndex(p, r) }, w, r)
}

// get serves a request and returns the writer.
func get(t *testing.T, p *stage.Pipeline, method, target, body string, headers ...string) (*stagetest.StreamRecorder, error) {
	t.Helper()
	w := new(stagetest.StreamRecorder)
	err := serve(t, p, w, request(p, method, target, body, headers...))
	return w, err
}

// routeIndex is the routing the server wiring must do for index files: a
// directory path ("/app/") that no rule matches is routed as its index
// file ("/app/index.php") when that file exists, the request itself left
// unchanged (the handler finds the same index file).
func routeIndex(p *stage.Pipeline, r *stage.Request) *stage.Rule {
	if rule := p.Route(r); rule != nil || !strings.HasSuffix(r.Path, "/") {
		return rule
	}
	for _, name := range r.VHost.IndexFiles {
		if _, err := os.Stat(filepath.Join(r.VHost.DocumentRoot, r.Path, name)); err != nil {
			continue
		}
		probe := *r
		probe.Path = r.Path + name
		return p.Route(&probe)
	}
	return nil
}

// concurrently runs do(0) to do(n-1) at once, each on its own goroutine,
// and fails the test with the count of errors and the first few.
func concurrently(t *testing.T, n int, do func(i int) error) {
	t.Helper()
	errs := make(chan error, n)
	for i := range n {
		go func() { errs <- do(i) }()
	}
	var failed []error
	for range n {
		if err := <-errs; err != nil {
			failed = append(failed, err)
		}
	}
	if len(failed) > 0 {
		t.Errorf("%d of %d failed, first: %v", len(failed), n, errors.Join(failed[:min(3, len(failed))]...))
	}
}
