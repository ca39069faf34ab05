package static

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"gibbon/http1"
)

// readBody is body for goroutines that may not call t.Fatal.
func readBody(r *Result) (string, error) {
	var b []byte
	for _, p := range r.Parts {
		b = append(b, p.Prefix...)
		switch {
		case r.Body != nil:
			b = append(b, r.Body[p.Offset:p.Offset+p.Length]...)
		case r.File != nil:
			buf := make([]byte, p.Length)
			if _, err := r.File.ReadAt(buf, p.Offset); err != nil {
				return "", err
			}
			b = append(b, buf...)
		default:
			return "", fmt.Errorf("part %+v without a File or a Body", p)
		}
	}
	return string(append(b, r.Trailer...)), nil
}

// TestSharedCacheConcurrent serves the same paths from many goroutines,
// with the clock moving so that entries are checked again, with few
// entries so that held files are evicted, and with Results closed on
// other goroutines than the one that served them. Run it with -race.
func TestSharedCacheConcurrent(t *testing.T) {
	t.Parallel()
	_, root := tree(t)
	opts := testOptions()
	want := map[string]string{
		"/hello.txt": hello, "/digits.txt": digitsBody, "/sub/": "sub index",
		"/noext": "noext", "/Photo.JPG": "jpeg", "/index.html": "<h1>root</h1>", "/nope": "",
	}
	paths := make([]string, 0, len(want))
	for p := range want {
		paths = append(paths, p)
	}
	for _, cfg := range []CacheConfig{{}, filesOnly, {MaxEntries: 16, InMemoryMax: -1}, {MemoryBudget: 32}} {
		t.Run(fmt.Sprintf("%+v", cfg), func(t *testing.T) {
			sc := NewSharedCache(cfg)
			closer := make(chan Result, 64)
			closed := make(chan struct{})
			go func() {
				for res := range closer {
					res.Close()
				}
				close(closed)
			}()
			var wg sync.WaitGroup
			for g := range 8 {
				wg.Go(func() {
					for i := range 200 {
						p := paths[(g+i)%len(paths)]
						now := t0.Add(time.Duration(i/10) * DefaultValidity / 2)
						res := cget2(sc, root, p, opts, now)
						got, err := readBody(&res)
						if err != nil || got != want[p] && res.Status == 200 || (res.Status == 404) != (p == "/nope") {
							t.Errorf("%s: status %d, body %q, %v", p, res.Status, got, err)
						}
						closer <- res
					}
				})
			}
			wg.Wait()
			close(closer)
			<-closed
			sc.Close()
			for i := range sc.shards {
				c := &sc.shards[i].c
				checkReleased(t, c)
				if len(c.files) != 0 || c.mem != 0 || c.Len() != 0 {
					t.Errorf("shard %d after Close: %d files, mem %d, Len %d", i, len(c.files), c.mem, c.Len())
				}
			}
		})
	}
}

// cget2 is cget for a SharedCache.
func cget2(sc *SharedCache, root, path string, opts *Options, now time.Time) Result {
	return sc.Serve(root, &Request{Method: http1.MethodGet, Path: []byte(path)}, opts, now)
}

// TestSharedCacheBounds checks that MaxEntries and MemoryBudget bound the
// whole SharedCache.
func TestSharedCacheBounds(t *testing.T) {
	t.Parallel()
	sc := NewSharedCache(CacheConfig{MaxEntries: 40, MemoryBudget: 1 << 20})
	for i := range sc.shards {
		if c := &sc.shards[i].c; c.max != 3 || c.budget != (1<<20)/sharedShards || c.mu != &sc.shards[i].mu {
			t.Fatalf("shard %d: max %d, budget %d", i, c.max, c.budget)
		}
	}
	if sc := NewSharedCache(CacheConfig{MemoryBudget: -1}); sc.shards[0].c.budget != -1 {
		t.Fatalf("no memory: budget %d", sc.shards[0].c.budget)
	}
}
