package static

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestCleanPath(t *testing.T) {
	t.Parallel()
	tests := []struct {
		raw    string
		want   string
		status int
	}{
		{"/", "/", 0},
		{"/a", "/a", 0},
		{"/a/", "/a/", 0},
		{"/a/b/c.txt", "/a/b/c.txt", 0},
		{"//a///b//", "/a/b/", 0},
		{"/a/./b", "/a/b", 0},
		{"/a/.", "/a/", 0},
		{"/.", "/", 0},
		{"/./", "/", 0},
		{"/a/..", "/", 0},
		{"/a/../", "/", 0},
		{"/a/b/../c", "/a/c", 0},
		{"/a/b/../../c/", "/c/", 0},
		{"/a/%2e%2E/b", "/b", 0},
		{"/a/.%2e", "/", 0},
		{"/a/..b/c..", "/a/..b/c..", 0},
		{"/...", "/...", 0},
		{"/a%20b", "/a b", 0},
		{"/%7Euser", "/~user", 0},
		{"/%25", "/%", 0},
		{"/%252e%252e/", "/%2e%2e/", 0}, // decoded once only
		{"/caf%C3%A9", "/caf\u00e9", 0},
		{"/%0a", "/\n", 0},
		{"/~alice/x", "/~alice/x", 0},
		{"/a?b", "/a?b", 0},
		// errors
		{"", "", 400},
		{"a", "", 400},
		{"*", "", 400},
		{"/..", "", 400},
		{"/../", "", 400},
		{"/a/../..", "", 400},
		{"/a/../../b", "", 400},
		{"/%2e%2e/etc/passwd", "", 400},
		{"/./../x", "", 400},
		{"/a%2Fb", "", 400},
		{"/a%2fb", "", 400},
		{"/a%5Cb", "", 400},
		{"/a%5cb", "", 400},
		{"/a\\b", "", 400},
		{"/a%00b", "", 400},
		{"/a\x00b", "", 400},
		{"/a%", "", 400},
		{"/a%4", "", 400},
		{"/a%4g", "", 400},
		{"/a%g4", "", 400},
		{"/%%41", "", 400},
		{"/a b", "", 400},
		{"/a\r\nb", "", 400},
		{"/a\x7f", "", 400},
	}
	for _, tc := range tests {
		t.Run(tc.raw, func(t *testing.T) {
			t.Parallel()
			got, status := CleanPath([]byte(tc.raw))
			if got != tc.want || status != tc.status {
				t.Errorf("CleanPath(%q) = %q, %d; want %q, %d", tc.raw, got, status, tc.want, tc.status)
			}
		})
	}
}

func TestCleanPathLong(t *testing.T) {
	t.Parallel()
	raw := "/" + strings.Repeat("abcdefgh/", 200) + strings.Repeat("../", 199) + "x"
	got, status := CleanPath([]byte(raw))
	if status != 0 || got != "/abcdefgh/x" {
		t.Errorf("got %q, %d", got, status)
	}
}

func FuzzCleanPath(f *testing.F) {
	for _, s := range []string{
		"/", "/a/b/../c", "/%2e%2e/", "//a//", "/a/./b/.", "/~u/x", "/%41%2F", "/a%00", "/..%2f..",
		"/a/b/c/../../../..", "/\\..\\", "/%252e", "/.../....",
	} {
		f.Add([]byte(s))
	}
	const root = "/srv/www"
	f.Fuzz(func(t *testing.T, raw []byte) {
		got, status := CleanPath(raw)
		if status != 0 {
			if status != 400 || got != "" {
				t.Fatalf("CleanPath(%q) = %q, %d", raw, got, status)
			}
			return
		}
		if !strings.HasPrefix(got, "/") {
			t.Fatalf("CleanPath(%q) = %q: no leading slash", raw, got)
		}
		if strings.Contains(got, "//") || strings.ContainsAny(got, "\x00\\") {
			t.Fatalf("CleanPath(%q) = %q: empty segment, NUL or backslash", raw, got)
		}
		segs := strings.Split(got[1:], "/")
		for i, seg := range segs {
			if seg == "." || seg == ".." {
				t.Fatalf("CleanPath(%q) = %q: dot segment", raw, got)
			}
			if seg == "" && i != len(segs)-1 {
				t.Fatalf("CleanPath(%q) = %q: empty segment", raw, got)
			}
		}
		joined := filepath.Join(root, got)
		if joined != root && !strings.HasPrefix(joined, root+"/") {
			t.Fatalf("CleanPath(%q) = %q escapes the root: %q", raw, got, joined)
		}
		// Cleaning is idempotent on paths without '%'.
		if !strings.Contains(got, "%") && !strings.ContainsAny(got, " \x7f") && !hasCTL(got) {
			again, st := CleanPath([]byte(got))
			if st != 0 || again != got {
				t.Fatalf("CleanPath(%q) = %q, %d; not idempotent on %q", got, again, st, raw)
			}
		}
	})
}

func hasCTL(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < ' ' {
			return true
		}
	}
	return false
}
