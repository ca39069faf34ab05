package logger_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gibbon/config"
	"gibbon/plugins/logger"
	"gibbon/stage"
	"gibbon/stage/stagetest"
)

func setup(t *testing.T, site, global string) (*stage.Pipeline, string) {
	t.Helper()
	files := map[string]string{
		"plugins.load":  "[PLUGINS]\n    Load logger\n",
		"sites/default": "[HOST]\n    DocumentRoot htdocs\n[LOGGER]\n    AccessLog logs/access.log\n    ErrorLog logs/error.log\n" + site,
		"logs/.keep":    "",
	}
	if global != "" {
		files["plugins/logger/logger.conf"] = "[LOGGER]\n" + global
	}
	cfg := stagetest.Config(t, files)
	p, err := stage.Load(cfg, stage.Env{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Cleanup() })
	return p, filepath.Join(cfg.Dir, "logs")
}

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// drive logs a 200, a 404, a request refused at stage 20 and a connection
// refused at stage 10 (through the Pipeline, as the server reports them).
func drive(p *stage.Pipeline) {
	vh := p.Hosts()[0].VHost
	r := stagetest.NewRequest(vh, "GET", "/index.html?x=1", "User-Agent: curl/8", "Referer: http://a/\"b")
	p.Done(r, stage.Outcome{Status: 200, Bytes: 1234})
	p.Done(stagetest.NewRequest(vh, "HEAD", "/missing"), stage.Outcome{Status: 404})
	r = stagetest.NewRequest(vh, "GET", "/admin")
	r.User = "alice"
	p.Done(r, stage.Outcome{Status: 401, Bytes: 10, RefusedAt: stage.StageRequest, Plugin: "auth"})
	c := stagetest.Conn("[::ffff:10.0.0.9]:4000")
	// Simulate a stage-10 refusal as Pipeline.Accept reports it.
	p.Done(&stage.Request{Conn: c, VHost: vh}, stage.Outcome{RefusedAt: stage.StageAccept, Plugin: "mandril"})
}

func TestMonkeyFormat(t *testing.T) {
	t.Parallel()
	p, dir := setup(t, "", "")
	drive(p)
	if err := p.Cleanup(); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(read(t, filepath.Join(dir, "access.log")), "\n"), "\n")
	want := []string{
		"192.0.2.1 - [D] GET /index.html?x=1 HTTP/1.1 200 1234",
		"192.0.2.1 - [D] HEAD /missing HTTP/1.1 404 0",
		"192.0.2.1 - [D] GET /admin HTTP/1.1 401 10",
		"10.0.0.9 - [D] - - - 0 0",
	}
	if len(lines) != len(want) {
		t.Fatalf("access log:\n%s", strings.Join(lines, "\n"))
	}
	for i, l := range lines {
		// Replace the date: "[02/Jan/2006 15:04:05 -0700]".
		open, end := strings.IndexByte(l, '['), strings.IndexByte(l, ']')
		if end-open != 27 {
			t.Errorf("line %q: bad date", l)
			continue
		}
		if got := l[:open+1] + "D" + l[end:]; got != want[i] {
			t.Errorf("line %d = %q, want %q", i, got, want[i])
		}
	}
	errs := read(t, filepath.Join(dir, "error.log"))
	if !strings.Contains(errs, "] [error 404] Not Found /missing\n") || !strings.Contains(errs, "] [error 401] Unauthorized /admin\n") ||
		strings.Count(errs, "\n") != 2 {
		t.Errorf("error log:\n%s", errs)
	}
	for _, f := range []string{"access.log", "error.log"} {
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, %v; want 0600", f, st.Mode(), err)
		}
	}
}

func TestCombinedFormat(t *testing.T) {
	t.Parallel()
	p, dir := setup(t, "", "    Format combined\n")
	drive(p)
	p.Cleanup()
	got := read(t, filepath.Join(dir, "access.log"))
	for _, want := range []string{
		`] "GET /index.html?x=1 HTTP/1.1" 200 1234 "http://a/\x22b" "curl/8"` + "\n",
		`192.0.2.1 - alice [`,
		`] "GET /admin HTTP/1.1" 401 10 "-" "-"` + "\n",
		`10.0.0.9 - - [`,
		`] "-" 0 0 "-" "-"` + "\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("combined log lacks %q:\n%s", want, got)
		}
	}
}

func TestJSONFormat(t *testing.T) {
	t.Parallel()
	p, dir := setup(t, "    Format json\n", "    Format combined\n")
	drive(p)
	p.Cleanup()
	lines := strings.Split(strings.TrimSpace(read(t, filepath.Join(dir, "access.log"))), "\n")
	if len(lines) != 4 {
		t.Fatalf("%d lines", len(lines))
	}
	var first, last map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &first); err != nil {
		t.Fatal(err)
	}
	if first["uri"] != "/index.html?x=1" || first["status"] != 200.0 || first["bytes"] != 1234.0 || first["host"] != "default" ||
		first["user_agent"] != "curl/8" || first["referer"] != `http://a/"b` {
		t.Errorf("first line %v", first)
	}
	if _, err := time.Parse(time.RFC3339, first["time"].(string)); err != nil {
		t.Error(err)
	}
	json.Unmarshal([]byte(lines[3]), &last)
	if last["refused"] != "accept" || last["plugin"] != "mandril" || last["remote"] != "10.0.0.9" {
		t.Errorf("refusal line %v", last)
	}
}

func TestReopen(t *testing.T) {
	t.Parallel()
	p, dir := setup(t, "", "")
	vh := p.Hosts()[0].VHost
	p.Done(stagetest.NewRequest(vh, "GET", "/one"), stage.Outcome{Status: 200})
	access := filepath.Join(dir, "access.log")
	if err := os.Rename(access, access+".1"); err != nil { // logrotate
		t.Fatal(err)
	}
	if err := p.Plugin("logger").(*logger.Logger).Reopen(); err != nil {
		t.Fatal(err)
	}
	p.Done(stagetest.NewRequest(vh, "GET", "/two"), stage.Outcome{Status: 200})
	p.Cleanup()
	if old := read(t, access+".1"); !strings.Contains(old, "/one") || strings.Contains(old, "/two") {
		t.Errorf("rotated file: %q", old)
	}
	if cur := read(t, access); !strings.Contains(cur, "/two") || strings.Contains(cur, "/one") {
		t.Errorf("new file: %q", cur)
	}
}

// TestFlushTimeout checks that lines reach the file without Cleanup,
// within FlushTimeout (1 s here).
func TestFlushTimeout(t *testing.T) {
	t.Parallel()
	p, dir := setup(t, "", "    FlushTimeout 1\n")
	p.Done(stagetest.NewRequest(p.Hosts()[0].VHost, "GET", "/soon"), stage.Outcome{Status: 200})
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(read(t, filepath.Join(dir, "access.log")), "/soon") {
		if time.Now().After(deadline) {
			t.Fatal("line not written after 10s with FlushTimeout 1")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestConcurrent logs from many goroutines (run with -race) and checks
// that every line arrives whole.
func TestConcurrent(t *testing.T) {
	t.Parallel()
	p, dir := setup(t, "", "")
	vh := p.Hosts()[0].VHost
	done := make(chan struct{})
	for g := 0; g < 8; g++ {
		go func() {
			for i := 0; i < 500; i++ {
				p.Done(stagetest.NewRequest(vh, "GET", "/c"), stage.Outcome{Status: 200, Bytes: 5})
			}
			done <- struct{}{}
		}()
	}
	for g := 0; g < 8; g++ {
		<-done
	}
	p.Cleanup()
	got := read(t, filepath.Join(dir, "access.log"))
	if n := strings.Count(got, "GET /c HTTP/1.1 200 5\n"); n != 4000 {
		t.Errorf("%d whole lines, want 4000", n)
	}
}

// TestReloadSharesFiles checks that the Logger of a reloaded
// configuration (stage.Env.Previous) writes to the file its previous
// instance has open, so that there is one writer per file (lines in
// order, none lost), and that the file is closed only by the second
// Cleanup, in either order; a failed load leaves the old Logger's files
// open.
func TestReloadSharesFiles(t *testing.T) {
	t.Parallel()
	for _, oldFirst := range []bool{true, false} {
		files := map[string]string{
			"plugins.load":  "[PLUGINS]\n    Load logger\n",
			"sites/default": "[HOST]\n    DocumentRoot htdocs\n[LOGGER]\n    AccessLog logs/access.log\n",
			"logs/.keep":    "",
		}
		cfg := stagetest.Config(t, files)
		old, err := stage.Load(cfg, stage.Env{})
		if err != nil {
			t.Fatal(err)
		}
		access := filepath.Join(cfg.Dir, "logs", "access.log")
		bad := *cfg
		bad.Hosts = []config.Host{cfg.Hosts[0]}
		bad.Hosts[0].Sections = nil
		bad.Plugins = &config.Section{Name: "PLUGINS", Entries: []config.Entry{{Key: "Load", Value: "logger"}, {Key: "Load", Value: "nosuch"}}}
		if _, err := stage.Load(&bad, stage.Env{Previous: old}); err == nil {
			t.Fatal("a configuration naming an unknown plugin loaded")
		}
		next, err := stage.Load(cfg, stage.Env{Previous: old})
		if err != nil {
			t.Fatal(err)
		}
		vh := old.Hosts()[0].VHost
		old.Done(stagetest.NewRequest(vh, "GET", "/old"), stage.Outcome{Status: 200})
		next.Done(stagetest.NewRequest(next.Hosts()[0].VHost, "GET", "/new"), stage.Outcome{Status: 200})
		first, second := old, next
		if !oldFirst {
			first, second = next, old
		}
		if err := first.Cleanup(); err != nil {
			t.Fatal(err)
		}
		// The file must still take the second instance's lines.
		second.Done(stagetest.NewRequest(second.Hosts()[0].VHost, "GET", "/late"), stage.Outcome{Status: 200})
		if err := second.Cleanup(); err != nil {
			t.Fatal(err)
		}
		got := read(t, access)
		o, n, l := strings.Index(got, "GET /old"), strings.Index(got, "GET /new"), strings.Index(got, "GET /late")
		if o < 0 || n < o || l < n {
			t.Fatalf("access log %q: want the old line, the new one, then the late one (the first Cleanup must not close the shared file)", got)
		}
	}
}
