package stage_test

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"gibbon/config"
	"gibbon/stage"
	"gibbon/stage/stagetest"
)

// trail records the hooks the test plugins see, in order, across plugins.
// Tests that use it do not run in parallel.
var trail struct {
	mu sync.Mutex
	ev []string
}

func record(format string, args ...any) {
	trail.mu.Lock()
	trail.ev = append(trail.ev, fmt.Sprintf(format, args...))
	trail.mu.Unlock()
}

func takeTrail() []string {
	trail.mu.Lock()
	defer trail.mu.Unlock()
	ev := trail.ev
	trail.ev = nil
	return ev
}

func init() {
	stage.Register("rec_a", func() stage.Plugin { record("new rec_a"); return &recorder{name: "rec_a"} })
	stage.Register("rec_b", func() stage.Plugin { record("new rec_b"); return &recorder{name: "rec_b"} })
}

// recorder implements every hook and records each call. Its [REC] section
// sets what it answers: "Accept close", "Request handled|close",
// "Provision fail".
type recorder struct {
	name          string
	accept        stage.Verdict
	request       stage.Verdict
	failProvision bool
}

func (r *recorder) Decode(c *stage.PluginConfig) error {
	record("decode %s", r.name)
	for _, h := range c.Hosts {
		h.Find("REC") // claims the site files' [REC] sections
	}
	for _, sec := range c.Find("REC") {
		for _, e := range sec.Entries {
			switch {
			case strings.EqualFold(e.Key, "Accept") && e.Value == "close":
				r.accept = stage.Close
			case strings.EqualFold(e.Key, "Request") && e.Value == "handled":
				r.request = stage.Handled
			case strings.EqualFold(e.Key, "Request") && e.Value == "close":
				r.request = stage.Close
			case strings.EqualFold(e.Key, "Provision") && e.Value == "fail":
				r.failProvision = true
			default:
				return stage.UnknownKey(e, "REC")
			}
		}
	}
	return nil
}

func (r *recorder) Provision(ctx *stage.Context) error {
	record("provision %s", r.name)
	if r.failProvision {
		return errors.New("provision failed")
	}
	return nil
}

func (r *recorder) Validate() error         { record("validate %s", r.name); return nil }
func (r *recorder) Cleanup() error          { record("cleanup %s", r.name); return nil }
func (r *recorder) InitWorker(id int) error { record("worker %s %d", r.name, id); return nil }

func (r *recorder) OnAccept(c stage.ConnInfo) stage.Verdict {
	record("accept %s %s", r.name, c.Remote.Addr())
	return r.accept
}

func (r *recorder) OnRequest(w stage.ResponseWriter, req *stage.Request) stage.Verdict {
	record("request %s %s", r.name, req.Path)
	if r.request == stage.Handled {
		w.Respond(418, "text/plain", []byte("teapot"))
	}
	return r.request
}

func (r *recorder) ServeGibbon(w stage.ResponseWriter, req *stage.Request) error {
	record("handle %s %s", r.name, req.Path)
	return w.Respond(200, "text/plain", []byte(r.name))
}

func (r *recorder) Blocking() bool { return false }

func (r *recorder) OnDone(req *stage.Request, o stage.Outcome) {
	record("done %s %s %d refused=%s/%s", r.name, req.Path, o.Status, o.RefusedAt, o.Plugin)
}

func (r *recorder) OnClose(c stage.ConnInfo, err error) {
	record("close %s %v", r.name, err)
}

var (
	_ stage.Acceptor      = (*recorder)(nil)
	_ stage.RequestFilter = (*recorder)(nil)
	_ stage.Handler       = (*recorder)(nil)
	_ stage.Observer      = (*recorder)(nil)
	_ stage.ConnObserver  = (*recorder)(nil)
	_ stage.WorkerInit    = (*recorder)(nil)
	_ stage.Provisioner   = (*recorder)(nil)
	_ stage.Validator     = (*recorder)(nil)
	_ stage.Cleaner       = (*recorder)(nil)
)

// serve drives one connection the way the server does: accept, then for
// each target the stage-20 chain, routing, the handler, stage 40; then
// stage 50.
func serve(p *stage.Pipeline, targets ...string) {
	c := stagetest.Conn("192.0.2.7:5555")
	if p.Accept(c) != stage.Continue {
		p.Close(c, stage.ErrRefused)
		return
	}
	for _, t := range targets {
		w := stage.NewRecorder()
		r := stagetest.NewRequest(p.Hosts()[0].VHost, "GET", t)
		r.Conn = c
		switch p.Request(w, r) {
		case stage.Close:
			p.Done(r, stage.Outcome{})
			p.Close(c, nil)
			return
		case stage.Continue:
			if rule := p.Route(r); rule != nil {
				if err := rule.Serve(w, r); err != nil {
					w.Respond(stage.StatusOf(err), "", nil)
				}
			} else {
				w.Respond(200, "text/plain", []byte("static"))
			}
		}
		p.Done(r, stage.Outcome{Status: w.Code, Bytes: int64(w.Body.Len())})
	}
	p.Close(c, nil)
}

func TestLifecycleOrder(t *testing.T) {
	takeTrail()
	p := stagetest.Load(t, map[string]string{
		"plugins.load":  "[PLUGINS]\n    Load rec_a\n    Load /usr/lib/monkey/monkey-rec_b.so\n",
		"sites/default": "[HOST]\n    DocumentRoot htdocs\n[HANDLERS]\n    Match ^/app/ rec_b\n",
	})
	if err := p.InitWorker(0); err != nil {
		t.Fatal(err)
	}
	serve(p, "/index.html", "/app/x")
	p.Cleanup()
	want := []string{
		"new rec_a", "decode rec_a", "new rec_b", "decode rec_b",
		"provision rec_a", "validate rec_a", "provision rec_b", "validate rec_b",
		"worker rec_a 0", "worker rec_b 0",
		"accept rec_a 192.0.2.7", "accept rec_b 192.0.2.7",
		"request rec_a /index.html", "request rec_b /index.html",
		"done rec_a /index.html 200 refused=none/", "done rec_b /index.html 200 refused=none/",
		"request rec_a /app/x", "request rec_b /app/x",
		"handle rec_b /app/x",
		"done rec_a /app/x 200 refused=none/", "done rec_b /app/x 200 refused=none/",
		"close rec_a <nil>", "close rec_b <nil>",
		"cleanup rec_b", "cleanup rec_a",
	}
	if got := takeTrail(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("trail:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestLifecycleRefusals(t *testing.T) {
	tests := []struct {
		name string
		conf string // rec_a's [REC] entries
		want []string
	}{
		{"accept refused", "    Accept close\n", []string{
			"accept rec_a 192.0.2.7",
			"done rec_a  0 refused=accept/rec_a", "done rec_b  0 refused=accept/rec_a",
			"close rec_a stage: connection refused by a plugin", "close rec_b stage: connection refused by a plugin",
		}},
		{"request handled", "    Request handled\n", []string{
			"accept rec_a 192.0.2.7", "accept rec_b 192.0.2.7",
			"request rec_a /x",
			"done rec_a /x 418 refused=request/rec_a", "done rec_b /x 418 refused=request/rec_a",
			"close rec_a <nil>", "close rec_b <nil>",
		}},
		{"request closed", "    Request close\n", []string{
			"accept rec_a 192.0.2.7", "accept rec_b 192.0.2.7",
			"request rec_a /x",
			"done rec_a /x 0 refused=request/rec_a", "done rec_b /x 0 refused=request/rec_a",
			"close rec_a <nil>", "close rec_b <nil>",
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := stagetest.Load(t, map[string]string{
				"plugins.load":             "[PLUGINS]\n    Load rec_a\n    Load rec_b\n",
				"plugins/rec_a/rec_a.conf": "[REC]\n" + tc.conf,
			})
			takeTrail()
			serve(p, "/x")
			if got := takeTrail(); strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("trail:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

func TestProvisionFailureCleansUp(t *testing.T) {
	takeTrail()
	cfg := stagetest.Config(t, map[string]string{
		"plugins.load":       "[PLUGINS]\n    Load rec_a\n    Load rec_b\n",
		"plugins/rec_b.conf": "[REC]\n    Provision fail\n",
	})
	p, err := stage.Load(cfg, stage.Env{})
	if err == nil || p != nil {
		t.Fatalf("Load = %v, %v; want an error", p, err)
	}
	got := strings.Join(takeTrail(), ",")
	if !strings.HasSuffix(got, "provision rec_b,cleanup rec_b,cleanup rec_a") {
		t.Errorf("trail %s: want both plugins cleaned up after rec_b failed", got)
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		file  string
		line  int
	}{
		{"unknown plugin", map[string]string{"plugins.load": "[PLUGINS]\n    Load rec_a\n    Load nosuch\n"}, "plugins.load", 3},
		{"unknown key", map[string]string{"plugins.load": "[PLUGINS]\n    Plugin rec_a\n"}, "plugins.load", 2},
		{"twice", map[string]string{"plugins.load": "[PLUGINS]\n    Load rec_a\n    Load /x/monkey-rec_a.so\n"}, "plugins.load", 3},
		{"bad decode", map[string]string{
			"plugins.load":             "[PLUGINS]\n    Load rec_a\n",
			"plugins/rec_a/rec_a.conf": "[REC]\n    Colour blue\n"}, "plugins/rec_a/rec_a.conf", 2},
		{"rule not loaded", map[string]string{
			"plugins.load":  "[PLUGINS]\n    Load rec_a\n",
			"sites/default": "[HOST]\n    DocumentRoot htdocs\n[HANDLERS]\n    Match ^/ rec_b\n"}, "sites/default", 4},
		{"rule bad regex", map[string]string{
			"plugins.load":  "[PLUGINS]\n    Load rec_a\n",
			"sites/default": "[HOST]\n    DocumentRoot htdocs\n[HANDLERS]\n    Match ^/( rec_a\n"}, "sites/default", 4},
		{"rule params", map[string]string{
			"plugins.load":  "[PLUGINS]\n    Load rec_a\n",
			"sites/default": "[HOST]\n    DocumentRoot htdocs\n[HANDLERS]\n    Match ^/ rec_a extra\n"}, "sites/default", 4},
		{"rule without plugins.load", map[string]string{
			"sites/default": "[HOST]\n    DocumentRoot htdocs\n[HANDLERS]\n    Match ^/ rec_a\n"}, "sites/default", 4},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := stagetest.Config(t, tc.files)
			_, err := stage.Load(cfg, stage.Env{})
			errs := config.Errors(err)
			if len(errs) != 1 {
				t.Fatalf("Load error %v: want one *config.Error", err)
			}
			if !strings.HasSuffix(errs[0].File, tc.file) || errs[0].Line != tc.line {
				t.Errorf("error at %s:%d, want %s:%d (%v)", errs[0].File, errs[0].Line, tc.file, tc.line, err)
			}
		})
	}
	takeTrail()
}

func TestMonkeyCorePluginsWarn(t *testing.T) {
	p := stagetest.Load(t, map[string]string{
		"plugins.load": "[PLUGINS]\n    Load /usr/lib/monkey/monkey-liana.so\n    Load /usr/lib/monkey/monkey-rec_a.so\n",
	})
	if got := p.Plugins(); len(got) != 1 || got[0] != "rec_a" {
		t.Errorf("Plugins() = %v, want [rec_a]", got)
	}
	if len(p.Warnings()) != 1 || p.Warnings()[0].Line != 2 {
		t.Errorf("Warnings() = %v, want one for line 2", p.Warnings())
	}
	takeTrail()
}

func TestUnreadSiteSectionsWarn(t *testing.T) {
	p := stagetest.Load(t, map[string]string{
		"plugins.load":  "[PLUGINS]\n    Load rec_a\n",
		"sites/default": "[HOST]\n    DocumentRoot htdocs\n[REC]\n    Any thing\n[RECC]\n    Any thing\n[HANDLERS]\n    Match ^/x rec_a\n",
	})
	ws := p.Warnings()
	if len(ws) != 1 || ws[0].Key != "[RECC]" || ws[0].Line != 5 || !strings.HasSuffix(ws[0].File, "sites/default") {
		t.Errorf("Warnings() = %v, want one for [RECC] at sites/default:5", ws)
	}
	takeTrail()
}

func TestDescribe(t *testing.T) {
	p := stagetest.Load(t, map[string]string{
		"plugins.load":  "[PLUGINS]\n    Load rec_a\n    Load rec_b\n",
		"sites/default": "[HOST]\n    DocumentRoot htdocs\n[HANDLERS]\n    Match ^/app/ rec_b\n",
	})
	takeTrail()
	got := p.Describe()
	for _, want := range []string{
		"plugins: rec_a rec_b\n",
		"worker context: rec_a rec_b\n",
		"stage 10 accept: rec_a rec_b\n",
		"stage 20 request: rec_a rec_b\n",
		"  host default:\n    ^/app/ → rec_b [",
		"stage 40 done: rec_a rec_b\n",
		"stage 50 close: rec_a rec_b\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("Describe() lacks %q:\n%s", want, got)
		}
	}
	var none *stage.Pipeline
	if d := none.Describe(); !strings.Contains(d, "stage 10 accept: -") {
		t.Errorf("nil Describe() = %q", d)
	}
}

func TestNilPipeline(t *testing.T) {
	var p *stage.Pipeline
	c := stagetest.Conn("192.0.2.1:1")
	r := stagetest.NewRequest(nil, "GET", "/")
	if p.Accept(c) != stage.Continue || p.Request(stage.NewRecorder(), r) != stage.Continue || p.Route(r) != nil {
		t.Error("nil Pipeline must continue")
	}
	p.Done(r, stage.Outcome{})
	p.Close(c, nil)
	if ok, _ := p.ServeDirectory(stage.NewRecorder(), r); ok || p.Has(stage.StageRequest) {
		t.Error("nil Pipeline has no hooks")
	}
}
