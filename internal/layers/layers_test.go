package layers

import (
	"encoding/json"
	"io"
	"os/exec"
	"strings"
	"testing"
)

// allowed maps each gibbon package (or package prefix ending in "/") to the
// gibbon packages it may import. Anything not listed may import no gibbon
// package at all.
var allowed = map[string][]string{
	"gibbon/internal/": {"gibbon/internal/"},
	"gibbon/http1":     {"gibbon/internal/"},
	"gibbon/config":    {"gibbon/internal/"},
	"gibbon/engine":    {"gibbon/internal/"},
	"gibbon/http2":     {"gibbon/internal/"},
	"gibbon/tlsx":      {"gibbon/internal/"},
	"gibbon/stage":     {"gibbon/internal/", "gibbon/config", "gibbon/http1"},
	"gibbon/stage/":    {"gibbon/internal/", "gibbon/config", "gibbon/http1", "gibbon/stage"},
	"gibbon/vhost":     {"gibbon/internal/", "gibbon/config", "gibbon/http1"},
	"gibbon/static":    {"gibbon/internal/", "gibbon/config", "gibbon/http1"},
	"gibbon/server": {"gibbon/internal/", "gibbon/config", "gibbon/http1", "gibbon/http2", "gibbon/tlsx",
		"gibbon/engine", "gibbon/vhost", "gibbon/static", "gibbon/stage"},
	"gibbon/plugins/": {"gibbon/internal/", "gibbon/config", "gibbon/http1", "gibbon/stage",
		"gibbon/static", "gibbon/plugins/internal/"}, // code shared by plugins, never another plugin
	"gibbon/plugins/all": {"gibbon/plugins/", "gibbon/stage"},
	"gibbon": {"gibbon/internal/", "gibbon/config", "gibbon/http1", "gibbon/stage", "gibbon/static",
		"gibbon/server"},
	"gibbon/websocket": {},
	// internal/cpuprofile: only in the files built with -tags pprof.
	"gibbon/examples/": {"gibbon", "gibbon/config", "gibbon/websocket", "gibbon/internal/cpuprofile"},
	// The command is a thin user of the library API: never gibbon/server.
	"gibbon/cmd/": {"gibbon", "gibbon/config", "gibbon/plugins/all", "gibbon/plugins/auth", "gibbon/internal/cpuprofile"},
	"gibbon/e2e":  {"gibbon/"},
}

// testOnly adds what a package's tests may import beyond its own rules: test
// harnesses and peers from the same or a higher layer, never used by the
// package's code.
var testOnly = map[string][]string{
	"gibbon/stage":     {"gibbon/stage/stagetest"},
	"gibbon/plugins/":  {"gibbon/stage/stagetest"},
	"gibbon":           {"gibbon/stage/stagetest"}, // the adapter's tests build stage requests
	"gibbon/http2":     {"gibbon/tlsx"},            // h2spec over TLS against the test driver
	"gibbon/websocket": {"gibbon"},                 // served by a gibbon.Server in tests
}

type pkg struct {
	ImportPath   string
	Imports      []string
	TestImports  []string
	XTestImports []string
}

func rulesFor(table map[string][]string, path string) ([]string, bool) {
	best, found := "", false
	for k := range table {
		match := k == path || (strings.HasSuffix(k, "/") && strings.HasPrefix(path, k))
		if match && len(k) > len(best) {
			best, found = k, true
		}
	}
	return table[best], found
}

func permitted(rules []string, imp string) bool {
	for _, r := range rules {
		if imp == r || (strings.HasSuffix(r, "/") && strings.HasPrefix(imp, r)) {
			return true
		}
	}
	return false
}

func TestImportLayers(t *testing.T) {
	out, err := exec.Command("go", "list", "-e", "-json", "gibbon/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	seen := 0
	for {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("decoding go list output: %v", err)
		}
		seen++
		rules, known := rulesFor(allowed, p.ImportPath)
		extra, _ := rulesFor(testOnly, p.ImportPath)
		check := func(imports []string, forTests bool) {
			for _, imp := range imports {
				if imp != "gibbon" && !strings.HasPrefix(imp, "gibbon/") || imp == p.ImportPath {
					continue // not ours, or an external test importing its own package
				}
				if known && (permitted(rules, imp) || forTests && permitted(extra, imp)) {
					continue
				}
				t.Errorf("%s imports %s, which its layer does not allow (see STYLE.md §3)", p.ImportPath, imp)
			}
		}
		check(p.Imports, false)
		check(p.TestImports, true)
		check(p.XTestImports, true)
	}
	if seen < 2 {
		t.Fatalf("go list found %d packages; expected the whole module", seen)
	}
}
