package config

import (
	"errors"
	"io/fs"
	"path/filepath"
	"sort"
	"testing"
)

// mapFS is an in-memory fileSystem: absolute-or-relative path → contents.
type mapFS map[string]string

func (m mapFS) ReadFile(path string) ([]byte, error) {
	s, ok := m[filepath.Clean(path)]
	if !ok {
		return nil, &fs.PathError{Op: "open", Path: path, Err: fs.ErrNotExist}
	}
	return []byte(s), nil
}

func (m mapFS) Glob(pattern string) ([]string, error) {
	if _, err := filepath.Match(pattern, ""); err != nil {
		return nil, err
	}
	var out []string
	for p := range m {
		if ok, _ := filepath.Match(pattern, p); ok && !skipName(filepath.Base(p)) {
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out, nil
}

// place is where an error or warning is expected.
type place struct {
	File string
	Line int
	Key  string
}

func errorPlaces(t *testing.T, err error) []place {
	t.Helper()
	var out []place
	for _, e := range Errors(err) {
		out = append(out, place{e.File, e.Line, e.Key})
	}
	if err != nil && len(out) == 0 {
		t.Fatalf("error %v holds no *Error", err)
	}
	return out
}

func warningPlaces(ws []Warning) []place {
	var out []place
	for _, w := range ws {
		out = append(out, place{w.File, w.Line, w.Key})
	}
	return out
}

func samePlaces(a, b []place) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// sec is a compact expected section: name and "key=value" entries.
type sec struct {
	Name    string
	Entries []string
}

func compact(secs []*Section) []sec {
	var out []sec
	for _, s := range secs {
		c := sec{Name: s.Name}
		for _, e := range s.Entries {
			c.Entries = append(c.Entries, e.Key+"="+e.Value)
		}
		out = append(out, c)
	}
	return out
}

func sameSecs(a, b []sec) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Name != b[i].Name || len(a[i].Entries) != len(b[i].Entries) {
			return false
		}
		for j := range a[i].Entries {
			if a[i].Entries[j] != b[i].Entries[j] {
				return false
			}
		}
	}
	return true
}

func TestParse(t *testing.T) {
	t.Parallel()
	const f = "c/main.conf"
	tests := []struct {
		name  string
		src   string
		files mapFS // extra files for @INCLUDE
		want  []sec
		errs  []place
		warns []place
	}{
		{name: "empty", src: ""},
		{name: "comments and blanks only", src: "# hello\n\n   \n\t# indented comment\n"},
		{name: "one section", src: "[server]\n    Listen 2001\n    Indexfile  index.html \t index.htm  \n",
			want: []sec{{"SERVER", []string{"Listen=2001", "Indexfile=index.html \t index.htm"}}}},
		{name: "tab indentation", src: "[A]\n\tk v\n\tk2 v2\n", want: []sec{{"A", []string{"k=v", "k2=v2"}}}},
		{name: "tab separates key and value", src: "[A]\n  html\ttext/html\n", want: []sec{{"A", []string{"html=text/html"}}}},
		{name: "crlf and bom", src: "\uFEFF[A]\r\n  k v\r\n", want: []sec{{"A", []string{"k=v"}}}},
		{name: "no final newline", src: "[A]\n  k v", want: []sec{{"A", []string{"k=v"}}}},
		{name: "empty section", src: "[A]\n[B]\n  k v\n", want: []sec{{"A", nil}, {"B", []string{"k=v"}}}},
		{name: "section name spaces trimmed", src: "[ error_pages ]\n  404 x\n", want: []sec{{"ERROR_PAGES", []string{"404=x"}}}},
		{name: "hash inside value is kept", src: "[A]\n  Redirect http://x/#top # not a comment\n",
			want: []sec{{"A", []string{"Redirect=http://x/#top # not a comment"}}}},
		{name: "comment with other indentation", src: "[A]\n    k v\n  # two\n        # eight\n    k2 v2\n",
			want: []sec{{"A", []string{"k=v", "k2=v2"}}}},
		{name: "indentation is per file not per section", src: "[A]\n  k v\n[B]\n    k v\n",
			want: []sec{{"A", []string{"k=v"}}, {"B", nil}}, errs: []place{{f, 4, "k"}}},
		{name: "deeper indentation", src: "[A]\n  k v\n   k2 v\n", want: []sec{{"A", []string{"k=v"}}}, errs: []place{{f, 3, "k2"}}},
		{name: "tab versus spaces", src: "[A]\n    k v\n\tk2 v\n", want: []sec{{"A", []string{"k=v"}}}, errs: []place{{f, 3, "k2"}}},
		{name: "unindented entry", src: "[A]\nk v\n", want: []sec{{"A", nil}}, errs: []place{{f, 2, "k"}}},
		{name: "entry outside section", src: "  k v\n", errs: []place{{f, 1, "k"}}},
		{name: "key without value", src: "[A]\n  Listen\n", want: []sec{{"A", nil}}, errs: []place{{f, 2, "Listen"}}},
		{name: "bad header", src: "[A\n", errs: []place{{f, 1, ""}}},
		{name: "empty header", src: "[]\n", errs: []place{{f, 1, ""}}},
		{name: "header with junk after", src: "[A] x\n", errs: []place{{f, 1, ""}}},
		{name: "bad section name", src: "[A/B]\n", errs: []place{{f, 1, ""}}},
		{name: "indented header", src: "[A]\n  [B]\n", want: []sec{{"A", nil}}, errs: []place{{f, 2, ""}}},
		{name: "control character", src: "[A]\n  k v\x00x\n", want: []sec{{"A", nil}}, errs: []place{{f, 2, ""}}},
		{name: "bare CR", src: "[A]\n  k v\rx\n", want: []sec{{"A", nil}}, errs: []place{{f, 2, ""}}},
		{name: "several errors", src: "[A]\nx 1\n  k\n[\n", want: []sec{{"A", nil}},
			errs: []place{{f, 2, "x"}, {f, 3, "k"}, {f, 4, ""}}},
		{name: "unknown directive warns", src: "@SET a b\n", warns: []place{{f, 1, "@SET"}}},
		{name: "lone at", src: "@ x\n", errs: []place{{f, 1, "@"}}},
		{name: "indented directive", src: "[A]\n  @INCLUDE x\n", want: []sec{{"A", nil}}, errs: []place{{f, 2, "@INCLUDE"}}},
		{name: "include without path", src: "@INCLUDE\n", errs: []place{{f, 1, "@INCLUDE"}}},
		{name: "include missing file", src: "@include nope.conf\n", errs: []place{{f, 1, "@include"}}},
		{
			name:  "include continues the open section",
			src:   "[SERVER]\n    Listen 1\n@INCLUDE more.conf\n    Listen 3\n",
			files: mapFS{"c/more.conf": "\tListen 2\n[PLUGIN]\n\tk v\n"},
			want:  []sec{{"SERVER", []string{"Listen=1", "Listen=2", "Listen=3"}}, {"PLUGIN", []string{"k=v"}}},
		},
		{
			name:  "include relative to the including file",
			src:   "@INCLUDE sub/a.conf\n",
			files: mapFS{"c/sub/a.conf": "@INCLUDE b.conf\n", "c/sub/b.conf": "[B]\n  k v\n"},
			want:  []sec{{"B", []string{"k=v"}}},
		},
		{
			name:  "include glob sorted, hidden and backups skipped",
			src:   "[S]\n  first 0\n@INCLUDE conf.d/*.conf\n",
			files: mapFS{"c/conf.d/b.conf": "  k b\n", "c/conf.d/a.conf": "  k a\n", "c/conf.d/.x.conf": "  k x\n", "c/conf.d/c.conf~": "  k c\n"},
			want:  []sec{{"S", []string{"first=0", "k=a", "k=b"}}},
		},
		{name: "include glob without match warns", src: "@INCLUDE none/*.conf\n", warns: []place{{f, 1, "@INCLUDE"}}},
		{name: "include bad glob", src: "@INCLUDE [.conf\n", errs: []place{{f, 1, "@INCLUDE"}}},
		{name: "include self", src: "@INCLUDE main.conf\n", errs: []place{{f, 1, "@INCLUDE"}}},
		{
			name:  "include cycle",
			src:   "@INCLUDE a.conf\n",
			files: mapFS{"c/a.conf": "[A]\n  k v\n@INCLUDE b.conf\n", "c/b.conf": "\n@INCLUDE a.conf\n"},
			want:  []sec{{"A", []string{"k=v"}}},
			errs:  []place{{"c/b.conf", 2, "@INCLUDE"}},
		},
		{
			name:  "same file included twice",
			src:   "@INCLUDE a.conf\n@INCLUDE ./a.conf\n",
			files: mapFS{"c/a.conf": "[A]\n"},
			want:  []sec{{"A", nil}},
			errs:  []place{{f, 2, "@INCLUDE"}},
		},
		{
			name:  "errors in included file name that file",
			src:   "@INCLUDE a.conf\n",
			files: mapFS{"c/a.conf": "[A]\n  k v\n   bad v\n"},
			want:  []sec{{"A", []string{"k=v"}}},
			errs:  []place{{"c/a.conf", 3, "bad"}},
		},
		{
			name:  "included file entry without open section",
			src:   "@INCLUDE a.conf\n",
			files: mapFS{"c/a.conf": "  k v\n"},
			errs:  []place{{"c/a.conf", 1, "k"}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fsys := mapFS{f: tc.src}
			for k, v := range tc.files {
				fsys[k] = v
			}
			secs, ws, err := parseWith(fsys, f, []byte(tc.src))
			if got := compact(secs); !sameSecs(got, tc.want) {
				t.Errorf("sections = %+v, want %+v", got, tc.want)
			}
			if got := errorPlaces(t, err); !samePlaces(got, tc.errs) {
				t.Errorf("errors at %+v, want %+v (%v)", got, tc.errs, err)
			}
			if got := warningPlaces(ws); !samePlaces(got, tc.warns) {
				t.Errorf("warnings at %+v, want %+v (%v)", got, tc.warns, ws)
			}
		})
	}
}

func TestParseEntryPlaces(t *testing.T) {
	t.Parallel()
	fsys := mapFS{"d/a.conf": "# x\n[one]\n  K  v w \n@INCLUDE b.conf\n", "d/b.conf": "\n\n  L x\n"}
	secs, _, err := parseWith(fsys, "d/a.conf", []byte(fsys["d/a.conf"]))
	if err != nil {
		t.Fatal(err)
	}
	if len(secs) != 1 || secs[0].File != "d/a.conf" || secs[0].Line != 2 || secs[0].Name != "ONE" {
		t.Fatalf("section = %+v", secs)
	}
	want := []Entry{{Key: "K", Value: "v w", File: "d/a.conf", Line: 3}, {Key: "L", Value: "x", File: "d/b.conf", Line: 3}}
	if len(secs[0].Entries) != len(want) {
		t.Fatalf("entries = %+v", secs[0].Entries)
	}
	for i, e := range secs[0].Entries {
		if e != want[i] {
			t.Errorf("entry %d = %+v, want %+v", i, e, want[i])
		}
	}
	if e, ok := secs[0].Get("k"); !ok || e.Value != "v w" {
		t.Errorf("Get(k) = %+v, %v", e, ok)
	}
	if _, ok := secs[0].Get("missing"); ok {
		t.Errorf("Get(missing) found")
	}
}

func TestParseTooManyErrors(t *testing.T) {
	t.Parallel()
	var src []byte
	for range 3 * maxErrors {
		src = append(src, "x\n"...)
	}
	_, _, err := parseWith(mapFS{}, "f", src)
	if n := len(Errors(err)); n > maxErrors+1 || n < maxErrors {
		t.Errorf("got %d errors, want about %d", n, maxErrors)
	}
}

func TestParseFileErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, path := range []string{filepath.Join(dir, "missing.conf"), dir} {
		_, _, err := ParseFile(path)
		var e *Error
		if !errors.As(err, &e) || e.File != path {
			t.Errorf("ParseFile(%s) = %v, want *Error naming the file", path, err)
		}
	}
	_, _, err := ParseFile(filepath.Join(dir, "missing.conf"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("ParseFile(missing) = %v, want fs.ErrNotExist inside", err)
	}
}
