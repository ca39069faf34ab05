//go:build !race

package static

import (
	"testing"

	"gibbon/http1"
)

func TestCleanPathAllocs(t *testing.T) {
	raw := []byte("/a/b/../c%20d/index.html")
	if n := testing.AllocsPerRun(100, func() { CleanPath(raw) }); n != 1 {
		t.Errorf("CleanPath: %v allocations, want 1 (the result)", n)
	}
	bad := []byte("/a/%2e%2e/%2e%2e/x")
	if n := testing.AllocsPerRun(100, func() { CleanPath(bad) }); n != 0 {
		t.Errorf("CleanPath refusing: %v allocations, want 0", n)
	}
}

func TestHelperAllocs(t *testing.T) {
	opts := testOptions()
	etag := `"17a6a2b3c4d5e6f7-3e"`
	req := &Request{
		IfNoneMatch:     []byte(`"a", W/"b", ` + etag),
		IfModifiedSince: []byte("Tue, 02 Jan 2024 03:04:05 GMT"),
		IfRange:         []byte("Tue, 02 Jan 2024 03:04:05 GMT"),
	}
	rng := []byte("bytes=0-1, 5-9, -3")
	var spans [MaxRanges]span
	checks := map[string]func(){
		"mimeType":       func() { mimeType("/x/Photo.JPG", opts) },
		"preconditions":  func() { preconditions(req, etag, 1704164645) },
		"ifRangeMatches": func() { ifRangeMatches(req.IfRange, etag, 1704164645) },
		"parseRange":     func() { parseRange(rng, 62, &spans) },
	}
	for name, fn := range checks {
		if n := testing.AllocsPerRun(100, fn); n != 0 {
			t.Errorf("%s: %v allocations, want 0", name, n)
		}
	}
}

func BenchmarkServe(b *testing.B) {
	_, root := tree(b)
	opts := testOptions()
	for _, bc := range []struct {
		name string
		req  Request
	}{
		{"file", Request{Method: http1.MethodGet, Path: []byte("/hello.txt")}},
		{"index", Request{Method: http1.MethodGet, Path: []byte("/sub/")}},
		{"range", Request{Method: http1.MethodGet, Path: []byte("/digits.txt"), Range: []byte("bytes=1-2,5-9")}},
		{"missing", Request{Method: http1.MethodGet, Path: []byte("/nope.txt")}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				res := Serve(root, &bc.req, opts)
				res.Close()
			}
		})
	}
}
