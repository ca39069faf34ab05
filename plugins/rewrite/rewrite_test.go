package rewrite_test

import (
	"testing"

	_ "gibbon/plugins/rewrite"
	"gibbon/stage"
	"gibbon/stage/stagetest"
)

func load(t *testing.T, rules string) *stage.Pipeline {
	t.Helper()
	return stagetest.Load(t, map[string]string{
		"plugins.load":  "[PLUGINS]\n    Load rewrite\n",
		"sites/default": "[HOST]\n    DocumentRoot htdocs\n[REWRITE]\n" + rules,
	})
}

func TestRewrite(t *testing.T) {
	t.Parallel()
	rules := `    Rule ^/blog/(\d+)/(.*)$ /posts/$1-$2 permanent
    Rule ^/go/(.*)$ https://example.org/$1 redirect
    Rule ^/old/(.*)$ /new/$1
    Rule ^/new/secret /denied last
    Rule ^/item/(\d+)$ /item.html?id=$1 last
    Cond QUERY (^|&)debug=1(&|$)
    Cond METHOD !^POST$
    Rule ^/status$ /status-debug.html last
    Rule ^/clear$ /cleared? last
    Rule ^/up$ /../x last
    Rule ^/loop/(.*)$ /loop/x/$1
    Rule ^/a$ /b
    Rule ^/b$ /c
`
	p := load(t, rules)
	tests := []struct {
		name, method, target string
		path, query          string // after an internal rewrite ("" path: not rewritten)
		status               int    // answered
		location             string
	}{
		{"untouched", "GET", "/index.html", "", "", 0, ""},
		{"permanent", "GET", "/blog/12/hello?x=1", "", "", 301, "/posts/12-hello?x=1"},
		{"redirect absolute", "GET", "/go/a%20b", "", "", 302, "https://example.org/a%20b"},
		{"continue to next rule", "GET", "/old/secret", "/denied", "", 0, ""},
		{"keeps query", "GET", "/old/page?a=1", "/new/page", "a=1", 0, ""},
		{"new query", "GET", "/item/42?x=9", "/item.html", "id=42", 0, ""},
		{"cond holds", "GET", "/status?a=2&debug=1", "/status-debug.html", "a=2&debug=1", 0, ""},
		{"cond query fails", "GET", "/status?debug=10", "", "", 0, ""},
		{"cond negated method", "POST", "/status?debug=1", "", "", 0, ""},
		{"clear query", "GET", "/clear?a=1", "/cleared", "", 0, ""},
		{"climb", "GET", "/up", "", "", 400, ""},
		{"loop", "GET", "/loop/a", "", "", 500, ""},
		{"chain in one pass", "GET", "/a", "/c", "", 0, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := stage.NewRecorder()
			r := stagetest.NewRequest(p.Hosts()[0].VHost, tc.method, tc.target)
			v := p.Request(w, r)
			if tc.status != 0 {
				if v != stage.Handled || w.Code != tc.status || w.Fields.Get("Location") != tc.location {
					t.Errorf("verdict %v status %d location %q; want %d %q", v, w.Code, w.Fields.Get("Location"), tc.status, tc.location)
				}
				return
			}
			if v != stage.Continue {
				t.Fatalf("verdict %v (status %d)", v, w.Code)
			}
			switch {
			case tc.path == "" && r.Rewritten():
				t.Errorf("rewritten to %q", r.Path)
			case tc.path != "" && (!r.Rewritten() || r.Path != tc.path || r.Query != tc.query):
				t.Errorf("path %q query %q rewritten %v; want %q %q", r.Path, r.Query, r.Rewritten(), tc.path, tc.query)
			}
		})
	}
}

func TestOtherHostUntouched(t *testing.T) {
	t.Parallel()
	p := stagetest.Load(t, map[string]string{
		"plugins.load":  "[PLUGINS]\n    Load rewrite\n",
		"sites/default": "[HOST]\n    DocumentRoot htdocs\n",
		"sites/b":       "[HOST]\n    ServerName b.test\n    DocumentRoot htdocs\n[REWRITE]\n    Rule ^/ /x last\n",
	})
	r := stagetest.NewRequest(p.Hosts()[0].VHost, "GET", "/a")
	if p.Request(stage.NewRecorder(), r); r.Rewritten() {
		t.Error("default host rewritten by b.test's rules")
	}
	r = stagetest.NewRequest(p.Hosts()[1].VHost, "GET", "/a")
	if p.Request(stage.NewRecorder(), r); r.Path != "/x" {
		t.Errorf("b.test: path %q, want /x", r.Path)
	}
}
