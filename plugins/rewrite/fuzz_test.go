package rewrite

import (
	"regexp"
	"strings"
	"testing"
)

func regexpMust(s string) *regexp.Regexp { return regexp.MustCompile(s) }

// FuzzExpand expands arbitrary replacement templates with arbitrary paths
// (the path comes from the client): no panic, and no capture can add a
// '?', '#', '%'-free control byte or blank to the path part.
func FuzzExpand(f *testing.F) {
	f.Add("/b/$1?q=$2&$$", "/a/x y/z")
	f.Add("/$9$", "/\x00?#%")
	re := regexpMust(`^/([^/]*)/?(.*)$`)
	f.Fuzz(func(t *testing.T, repl, src string) {
		m := re.FindStringSubmatchIndex(src)
		if m == nil {
			return
		}
		p, _, _ := expand(repl, src, m)
		if strings.ContainsAny(repl, "?#%\x00 \t\r\n") {
			return
		}
		if strings.ContainsAny(p, "?#\x00 \t\r\n") {
			t.Fatalf("expand(%q, %q) path %q holds an unescaped byte", repl, src, p)
		}
	})
}
