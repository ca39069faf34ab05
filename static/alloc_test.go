//go:build !race

package static

import (
	"path/filepath"
	"testing"
	"time"

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

// TestServeAllocs pins the cost Serve documents for a GET of a file.
func TestServeAllocs(t *testing.T) {
	_, root := tree(t)
	opts := testOptions()
	req := &Request{Method: http1.MethodGet, Path: []byte("/hello.txt")}
	if n := testing.AllocsPerRun(100, func() {
		res := Serve(root, req, opts)
		res.Close()
	}); n > 7 {
		t.Errorf("Serve GET: %v allocations, want at most 7", n)
	}
}

// TestCacheAllocs checks that a Cache hit allocates nothing, whether the
// body is in memory or in an open file, whether the Result is closed or
// its file released as an engine does, and that a SharedCache hit does
// not either.
func TestCacheAllocs(t *testing.T) {
	_, root := tree(t)
	opts := testOptions()
	now := time.Now()
	etag := etagOf(t, filepath.Join(root, "hello.txt"))
	cases := []struct {
		name string
		req  Request
	}{
		{"GET", Request{Method: http1.MethodGet, Path: []byte("/hello.txt")}},
		{"GET index", Request{Method: http1.MethodGet, Path: []byte("/sub/")}},
		{"GET dots", Request{Method: http1.MethodGet, Path: []byte("/sub/../%68ello.txt")}},
		{"HEAD", Request{Method: http1.MethodHead, Path: []byte("/hello.txt")}},
		{"304", Request{Method: http1.MethodGet, Path: []byte("/hello.txt"), IfNoneMatch: []byte(etag)}},
		{"304 date", Request{Method: http1.MethodGet, Path: []byte("/hello.txt"), IfModifiedSince: []byte(lastMod)}},
		{"OPTIONS", Request{Method: http1.MethodOptions, Path: []byte("/hello.txt")}},
		{"POST", Request{Method: http1.MethodPost, Path: []byte("/hello.txt")}},
		{"404", Request{Method: http1.MethodGet, Path: []byte("/nope.txt")}},
		{"403", Request{Method: http1.MethodGet, Path: []byte("/link-in.txt")}},
		{"400", Request{Method: http1.MethodGet, Path: []byte("/../x")}},
	}
	for _, cfg := range []struct {
		name string
		cfg  CacheConfig
	}{{"memory", CacheConfig{}}, {"files", filesOnly}} {
		c := NewCache(cfg.cfg)
		release := c.ReleaseFile // made once per worker
		for _, tc := range cases {
			res := c.Serve(root, &tc.req, opts, now) // the miss
			res.Close()
			if n := testing.AllocsPerRun(100, func() {
				res := c.Serve(root, &tc.req, opts, now)
				res.Close()
			}); n != 0 {
				t.Errorf("%s %s: %v allocations, want 0", cfg.name, tc.name, n)
			}
			if n := testing.AllocsPerRun(100, func() {
				res := c.Serve(root, &tc.req, opts, now)
				if res.File != nil {
					release(res.File)
				}
			}); n != 0 {
				t.Errorf("%s %s with ReleaseFile: %v allocations, want 0", cfg.name, tc.name, n)
			}
		}
		c.Close()
	}
	for _, cfg := range []CacheConfig{{}, filesOnly} {
		sc := NewSharedCache(cfg)
		for _, tc := range cases {
			res := sc.Serve(root, &tc.req, opts, now)
			res.Close()
			if n := testing.AllocsPerRun(100, func() {
				res := sc.Serve(root, &tc.req, opts, now)
				res.Close()
			}); n != 0 {
				t.Errorf("SharedCache (in memory up to %d) %s: %v allocations, want 0", cfg.InMemoryMax, tc.name, n)
			}
		}
		sc.Close()
	}
}

// benchCases are the requests of BenchmarkServe and BenchmarkCacheServe.
var benchCases = []struct {
	name string
	req  Request
}{
	{"file", Request{Method: http1.MethodGet, Path: []byte("/hello.txt")}},
	{"index", Request{Method: http1.MethodGet, Path: []byte("/sub/")}},
	{"range", Request{Method: http1.MethodGet, Path: []byte("/digits.txt"), Range: []byte("bytes=1-2,5-9")}},
	{"missing", Request{Method: http1.MethodGet, Path: []byte("/nope.txt")}},
}

func BenchmarkServe(b *testing.B) {
	_, root := tree(b)
	opts := testOptions()
	for _, bc := range benchCases {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				res := Serve(root, &bc.req, opts)
				res.Close()
			}
		})
	}
}

// BenchmarkCacheServe measures hits: the clock stands still, so no entry
// is checked again. "memory" serves the small test files from memory,
// "files" from open files, "shared" is a SharedCache (in memory).
func BenchmarkCacheServe(b *testing.B) {
	_, root := tree(b)
	opts := testOptions()
	now := time.Now()
	mem, files, shared := NewCache(CacheConfig{}), NewCache(filesOnly), NewSharedCache(CacheConfig{})
	defer mem.Close()
	defer files.Close()
	defer shared.Close()
	for _, c := range []struct {
		name  string
		serve func(string, *Request, *Options, time.Time) Result
	}{{"memory", mem.Serve}, {"files", files.Serve}, {"shared", shared.Serve}} {
		for _, bc := range benchCases {
			b.Run(c.name+"/"+bc.name, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					res := c.serve(root, &bc.req, opts, now)
					res.Close()
				}
			})
		}
	}
}

// BenchmarkCacheServeRevalidate measures a Cache that checks every entry
// on every request (Validity < 0): the cost paid once per Validity.
func BenchmarkCacheServeRevalidate(b *testing.B) {
	_, root := tree(b)
	opts := testOptions()
	c := NewCache(CacheConfig{Validity: -1})
	defer c.Close()
	now := time.Now()
	for _, bc := range benchCases[:2] {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				res := c.Serve(root, &bc.req, opts, now)
				res.Close()
			}
		})
	}
}
