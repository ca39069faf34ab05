package config

import (
	"errors"
	"strings"
	"testing"
)

// FuzzParse feeds arbitrary text to the low-level parser. It must never
// panic, every error must be an *Error with a place, and what it returns
// must respect the format's invariants. Includes resolve against an
// in-memory file system holding one good and one self-including file.
func FuzzParse(f *testing.F) {
	seeds := []string{
		"",
		"[SERVER]\n    Listen 2001\n    Workers 0\n",
		"# comment\n[HOST]\n\tServerName a b\n\tDocumentRoot /x\n[ERROR_PAGES]\n\t404 404.html\n",
		"[A]\r\n  k v\r\n  # c\r\n",
		"[A]\n  k v\n   k2 v\n",
		"k v\n",
		"[A\n",
		"@INCLUDE inc.conf\n",
		"[S]\n@INCLUDE *.conf\n",
		"@INCLUDE loop.conf\n",
		"@SET x y\n",
		"\uFEFF[MIMETYPES]\n    html text/html\n",
		"[A]\n  k\x00v\n",
	}
	for _, s := range seeds {
		f.Add(s)
	}
	fsys := mapFS{
		"fz/inc.conf":  "[INC]\n  k v\n",
		"fz/loop.conf": "@INCLUDE loop.conf\n",
	}
	f.Fuzz(func(t *testing.T, src string) {
		secs, ws, err := parseWith(fsys, "fz/main.conf", []byte(src))
		if err != nil {
			leaves := Errors(err)
			if len(leaves) == 0 {
				t.Fatalf("error %v holds no *Error", err)
			}
			for _, e := range leaves {
				if e.File == "" || e.Line < 0 {
					t.Fatalf("error without place: %#v", e)
				}
			}
			var joined interface{ Unwrap() []error }
			if !errors.As(err, &joined) {
				t.Fatalf("error %T is not errors.Join", err)
			}
			for _, e := range joined.Unwrap() {
				var ce *Error
				if !errors.As(e, &ce) {
					t.Fatalf("joined error %T is not *Error", e)
				}
			}
		}
		for _, w := range ws {
			if w.File == "" || w.Line <= 0 {
				t.Fatalf("warning without place: %#v", w)
			}
		}
		for _, s := range secs {
			if s.Name == "" || s.Name != strings.ToUpper(s.Name) || !validSectionName(s.Name) {
				t.Fatalf("bad section name %q", s.Name)
			}
			for _, e := range s.Entries {
				if e.Key == "" || e.Value == "" || strings.ContainsAny(e.Key, " \t\r\n") ||
					strings.Trim(e.Value, " \t") != e.Value || strings.ContainsAny(e.Value, "\r\n") || e.Line <= 0 {
					t.Fatalf("bad entry %#v", e)
				}
			}
		}
	})
}
