package rewrite

import (
	"testing"

	"gibbon/config"
	"gibbon/stage"
	"gibbon/stage/stagetest"
)

func TestDecodeErrors(t *testing.T) {
	t.Parallel()
	for _, rules := range []string{
		"    Rule ^/( /x\n",
		"    Rule ^/a\n",
		"    Rule ^/a x\n",
		"    Rule ^/a http://x/\n",
		"    Rule ^/a /b sideways\n",
		"    Cond PATH ^/\n    Rule ^/a /b\n",
		"    Cond QUERY a(\n    Rule ^/a /b\n",
		"    Rule ^/a /b\n    Cond QUERY x\n",
		"    Match ^/a /b\n",
	} {
		cfg := stagetest.Config(t, map[string]string{
			"plugins.load":  "[PLUGINS]\n    Load rewrite\n",
			"sites/default": "[HOST]\n    DocumentRoot htdocs\n[REWRITE]\n" + rules,
		})
		_, err := stage.Load(cfg, stage.Env{})
		if errs := config.Errors(err); len(errs) != 1 || errs[0].Line < 4 {
			t.Errorf("%q: error %v, want one located in [REWRITE]", rules, err)
		}
	}
}

func TestExpand(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		pattern, repl, src string
		path, query        string
		hasQuery           bool
	}{
		{`^/a/(.*)$`, "/b/$1", "/a/x y", "/b/x%20y", "", false},
		{`^/a/(.*)$`, "/b?q=$1&z=1", "/a/x y&", "/b", "q=x+y%26&z=1", true},
		{`^/(.*)$`, "/cost$$/$0/$9", "/p%?#", "/cost$//p%25%3F%23/", "", false},
		{`^/x$`, "/y?", "/x", "/y", "", true},
	} {
		re := regexpMust(tc.pattern)
		p, q, has := expand(tc.repl, tc.src, re.FindStringSubmatchIndex(tc.src))
		if p != tc.path || q != tc.query || has != tc.hasQuery {
			t.Errorf("expand(%q, %q) = %q, %q, %v; want %q, %q, %v", tc.repl, tc.src, p, q, has, tc.path, tc.query, tc.hasQuery)
		}
	}
}
