package static

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"gibbon/http1"
)

// t0 is the time of the first request in the cache tests.
var t0 = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

// cget serves a GET of path through c at now.
func cget(c *Cache, root, path string, opts *Options, now time.Time) Result {
	return c.Serve(root, &Request{Method: http1.MethodGet, Path: []byte(path)}, opts, now)
}

// wantBody checks the status and body of res.
func wantBody(t *testing.T, res *Result, status int, want string) {
	t.Helper()
	if res.Status != status {
		t.Fatalf("Status = %d, want %d (%+v)", res.Status, status, res)
	}
	if got := body(t, res); got != want {
		t.Fatalf("body = %q, want %q", got, want)
	}
}

// isClosed reports whether f has been closed.
func isClosed(f *os.File) bool {
	_, err := f.Stat()
	return errors.Is(err, os.ErrClosed)
}

func TestCacheHit(t *testing.T) {
	t.Parallel()
	_, root := tree(t)
	opts := testOptions()
	c := NewCache(filesOnly)
	a := cget(c, root, "/hello.txt", opts, t0)
	wantBody(t, &a, 200, hello)
	// Another spelling of the same clean path is the same entry.
	b := cget(c, root, "/sub/../%68ello.txt", opts, t0.Add(DefaultValidity-1))
	wantBody(t, &b, 200, hello)
	if c.Len() != 1 || a.File != b.File || &a.Parts[0] != &b.Parts[0] {
		t.Fatalf("a hit made a new entry: Len %d, files %p %p", c.Len(), a.File, b.File)
	}
	e := c.entries[string(append([]byte(root+"\x00"), "/hello.txt"...))]
	if e == nil || e.refs != 2 {
		t.Fatalf("entry %+v, want 2 references", e)
	}
	a.Close()
	a.Close() // a second Close of the same Result is harmless
	if e.refs != 1 || isClosed(b.File) {
		t.Fatalf("refs %d after one Close", e.refs)
	}
	f := b.File
	b.Close()
	if e.refs != 0 || isClosed(f) {
		t.Fatalf("refs %d, closed %v: a live entry keeps its file", e.refs, isClosed(f))
	}
	c.Close()
	if !isClosed(f) || c.Len() != 0 || len(c.files) != 0 {
		t.Fatalf("after Close: file closed %v, Len %d, files %d", isClosed(f), c.Len(), len(c.files))
	}
	// The cache works again after Close.
	res := cget(c, root, "/hello.txt", opts, t0)
	wantBody(t, &res, 200, hello)
	res.Close()
	c.Close()
}

func TestCacheChange(t *testing.T) {
	t.Parallel()
	_, root := tree(t)
	opts := testOptions()
	c := NewCache(filesOnly)
	defer c.Close()
	name := filepath.Join(root, "hello.txt")
	half, past := t0.Add(DefaultValidity/2), t0.Add(DefaultValidity)

	old := cget(c, root, "/hello.txt", opts, t0)
	wantBody(t, &old, 200, hello)
	oldFile, oldETag := old.File, old.ETag

	// Replace the file, as a deployment does: write a new one and rename
	// it over the old.
	tmp := filepath.Join(root, "hello.tmp")
	if err := os.WriteFile(tmp, []byte("new hello\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, name); err != nil {
		t.Fatal(err)
	}
	res := cget(c, root, "/hello.txt", opts, half)
	wantBody(t, &res, 200, hello) // within Validity: the old file
	res.Close()

	res = cget(c, root, "/hello.txt", opts, past)
	wantBody(t, &res, 200, "new hello\n")
	if res.ETag == oldETag || res.File == oldFile || c.Len() != 1 {
		t.Fatalf("new ETag %s (old %s), same file %v, Len %d", res.ETag, oldETag, res.File == oldFile, c.Len())
	}
	// The replaced entry's file stays readable for the Result holding it.
	if isClosed(oldFile) {
		t.Fatal("replaced file closed while a Result holds it")
	}
	wantBody(t, &old, 200, hello)
	old.Close()
	if !isClosed(oldFile) {
		t.Fatal("replaced file still open after its last Close")
	}
	res.Close()

	// Rewrite in place: same inode, new size and time.
	if err := os.WriteFile(name, []byte("rewritten in place\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	later := time.Now().Add(time.Hour)
	if err := os.Chtimes(name, later, later); err != nil {
		t.Fatal(err)
	}
	res = cget(c, root, "/hello.txt", opts, past.Add(DefaultValidity))
	wantBody(t, &res, 200, "rewritten in place\n")
	if res.ETag != etagOf(t, name) {
		t.Errorf("ETag %s, want %s", res.ETag, etagOf(t, name))
	}
	res.Close()

	// Removed: 404 once Validity has passed.
	if err := os.Remove(name); err != nil {
		t.Fatal(err)
	}
	res = cget(c, root, "/hello.txt", opts, past.Add(2*DefaultValidity))
	if res.Status != 404 {
		t.Fatalf("removed file: %d", res.Status)
	}
	checkReleased(t, c)
}

// TestCacheChmod checks that a change of permissions alone (the status
// change time) makes the file be opened again.
func TestCacheChmod(t *testing.T) {
	t.Parallel()
	_, root := tree(t)
	opts := testOptions()
	c := NewCache(filesOnly)
	defer c.Close()
	res := cget(c, root, "/digits.txt", opts, t0)
	first := res.File
	res.Close()
	if err := os.Chmod(filepath.Join(root, "digits.txt"), 0); err != nil {
		t.Fatal(err)
	}
	res = cget(c, root, "/digits.txt", opts, t0.Add(DefaultValidity))
	defer res.Close()
	if os.Geteuid() == 0 { // root reads it anyway, from a new open
		if res.Status != 200 || res.File == first {
			t.Fatalf("status %d, same file %v: the entry was not opened again", res.Status, res.File == first)
		}
		return
	}
	if res.Status != 403 {
		t.Fatalf("unreadable file: %d, want 403", res.Status)
	}
}

func TestCacheNegative(t *testing.T) {
	t.Parallel()
	_, root := tree(t)
	opts := testOptions()
	c := NewCache(CacheConfig{})
	defer c.Close()
	for _, tc := range []struct {
		path   string
		status int
	}{{"/new.txt", 404}, {"/noindex/", 403}, {"/fifo", 403}, {"/link-in.txt", 403}, {"/sub", 301}} {
		res := cget(c, root, tc.path, opts, t0)
		if res.Status != tc.status {
			t.Errorf("%s: %d, want %d", tc.path, res.Status, tc.status)
		}
	}
	if c.Len() != 5 || len(c.files) != 0 {
		t.Fatalf("Len %d, files %d: want 5 entries without files", c.Len(), len(c.files))
	}
	// Requests that never reach the file system are not kept.
	for _, p := range []string{"/../x", "/a%2Fb"} {
		if res := cget(c, root, p, opts, t0); res.Status != 400 {
			t.Errorf("%s: %d", p, res.Status)
		}
	}
	if res := cget(c, "", "/x", opts, t0); res.Status != 500 {
		t.Errorf("empty root: %d", res.Status)
	}
	if c.Len() != 5 {
		t.Fatalf("Len %d after refused requests", c.Len())
	}

	// A created file is seen once the 404 has expired.
	if err := os.WriteFile(filepath.Join(root, "new.txt"), []byte("new"), 0o644); err != nil {
		t.Fatal(err)
	}
	if res := cget(c, root, "/new.txt", opts, t0.Add(DefaultValidity/2)); res.Status != 404 {
		t.Fatalf("within Validity: %d, want the remembered 404", res.Status)
	}
	res := cget(c, root, "/new.txt", opts, t0.Add(DefaultValidity))
	wantBody(t, &res, 200, "new")
	res.Close()

	// A remembered directory answers per method and keeps the path as sent.
	res = c.Serve(root, &Request{Method: http1.MethodGet, Path: []byte("/%73ub")}, opts, t0)
	if res.Status != 301 || res.Location != "/%73ub/" {
		t.Errorf("dir: %d %q", res.Status, res.Location)
	}
	res = c.Serve(root, &Request{Method: http1.MethodPost, Path: []byte("/sub")}, opts, t0)
	if res.Status != 405 {
		t.Errorf("POST dir: %d", res.Status)
	}
	checkReleased(t, c)
}

func TestCacheIndexChange(t *testing.T) {
	t.Parallel()
	_, root := tree(t)
	opts := testOptions()
	c := NewCache(CacheConfig{})
	defer c.Close()
	res := cget(c, root, "/sub/", opts, t0)
	wantBody(t, &res, 200, "sub index")
	res.Close()
	// An index file earlier in IndexFiles appears.
	if err := os.WriteFile(filepath.Join(root, "sub", "index.html"), []byte("sub html"), 0o644); err != nil {
		t.Fatal(err)
	}
	res = cget(c, root, "/sub/", opts, t0.Add(DefaultValidity))
	wantBody(t, &res, 200, "sub html")
	res.Close()
	// Unchanged: revalidation keeps the entry.
	e := c.entries[string(append([]byte(root+"\x00"), "/sub/"...))]
	res = cget(c, root, "/sub/", opts, t0.Add(3*DefaultValidity))
	wantBody(t, &res, 200, "sub html")
	res.Close()
	if e2 := c.entries[string(append([]byte(root+"\x00"), "/sub/"...))]; e2 != e || !e.checked.Equal(t0.Add(3*DefaultValidity)) {
		t.Fatalf("unchanged index entry replaced or not rechecked")
	}
}

// TestCacheSymlinkChange checks that revalidation applies the SymLink off
// rules: a directory or a file swapped for a link to the very same file
// answers 403 once Validity has passed.
func TestCacheSymlinkChange(t *testing.T) {
	t.Parallel()
	base, root := tree(t)
	opts := testOptions()
	c := NewCache(CacheConfig{})
	defer c.Close()
	for _, p := range []string{"/noindex/file.txt", "/digits.txt"} {
		res := cget(c, root, p, opts, t0)
		if res.Status != 200 {
			t.Fatalf("%s: %d", p, res.Status)
		}
		res.Close()
	}
	swap := func(name string) {
		moved := filepath.Join(base, filepath.Base(name)+".moved")
		if err := os.Rename(name, moved); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(moved, name); err != nil {
			t.Fatal(err)
		}
	}
	swap(filepath.Join(root, "noindex"))
	swap(filepath.Join(root, "digits.txt"))
	for _, p := range []string{"/noindex/file.txt", "/digits.txt"} {
		if res := cget(c, root, p, opts, t0.Add(DefaultValidity/2)); res.Status != 200 {
			t.Errorf("%s within Validity: %d", p, res.Status)
		} else {
			res.Close()
		}
		if res := cget(c, root, p, opts, t0.Add(DefaultValidity)); res.Status != 403 {
			t.Errorf("%s swapped for a link: %d, want 403", p, res.Status)
		}
	}
	// With SymLink on, the same links are followed.
	on := testOptions()
	on.SymLink = true
	res := cget(c, root, "/digits.txt", on, t0.Add(DefaultValidity))
	wantBody(t, &res, 200, digitsBody)
	res.Close()
	checkReleased(t, c)
}

func TestCacheOptions(t *testing.T) {
	t.Parallel()
	_, root := tree(t)
	c := NewCache(filesOnly)
	defer c.Close()
	off, on := testOptions(), testOptions()
	on.SymLink = true
	if res := cget(c, root, "/link-in.txt", off, t0); res.Status != 403 {
		t.Fatalf("SymLink off: %d", res.Status)
	}
	res := cget(c, root, "/link-in.txt", on, t0)
	wantBody(t, &res, 200, hello)
	res.Close()
	if res := cget(c, root, "/link-in.txt", off, t0); res.Status != 403 {
		t.Fatalf("SymLink off again: %d", res.Status)
	}
	if c.Len() != 1 {
		t.Fatalf("Len %d: an entry per (root, path), replaced when the options differ", c.Len())
	}
	// Different roots are different entries, even for the same file.
	r1 := cget(c, root, "/hello.txt", off, t0)
	r2 := cget(c, root+"/", "/hello.txt", off, t0)
	r3 := cget(c, filepath.Dir(root), "/root/hello.txt", off, t0)
	if r1.File != r2.File || r1.File == r3.File || c.Len() != 3 {
		t.Errorf("root keys: Len %d", c.Len())
	}
	r1.Close()
	r2.Close()
	r3.Close()
}

func TestCacheEviction(t *testing.T) {
	t.Parallel()
	_, root := tree(t)
	opts := testOptions()
	c := NewCache(CacheConfig{MaxEntries: 3, InMemoryMax: -1})
	defer c.Close()
	paths := []string{"/hello.txt", "/digits.txt", "/Photo.JPG", "/noext", "/index.html", "/nope", "/sub/", "/a%20b%25.txt"}
	held := cget(c, root, paths[0], opts, t0)
	heldFile := held.File
	for round := range 3 {
		for _, p := range paths {
			res := cget(c, root, p, opts, t0)
			res.Close()
			if c.Len() > 3 || len(c.entries) != c.Len() {
				t.Fatalf("round %d %s: Len %d, map %d", round, p, c.Len(), len(c.entries))
			}
			if len(c.files) > 4 { // three live entries and the held one
				t.Fatalf("%d files open", len(c.files))
			}
		}
	}
	for i, e := range c.ring {
		if e.slot != i || !e.live || c.entries[e.key] != e {
			t.Fatalf("ring slot %d inconsistent: %+v", i, e)
		}
	}
	// The held Result's entry was evicted, but its file stays readable.
	if isClosed(heldFile) {
		t.Fatal("evicted file closed while held")
	}
	wantBody(t, &held, 200, hello)
	held.Close()
	if !isClosed(heldFile) {
		t.Fatal("evicted file open after its last reference")
	}
	checkReleased(t, c)

	// The clock spares an entry hit since it was made.
	c2 := NewCache(CacheConfig{MaxEntries: 2})
	defer c2.Close()
	for _, p := range []string{"/hello.txt", "/digits.txt", "/hello.txt", "/noext"} {
		res := cget(c2, root, p, opts, t0)
		res.Close()
	}
	key := func(p string) string { return root + "\x00" + p }
	if c2.entries[key("/hello.txt")] == nil || c2.entries[key("/digits.txt")] != nil {
		t.Error("the clock evicted the entry in use, not the one used once")
	}
}

func TestCacheReleaseFile(t *testing.T) {
	t.Parallel()
	_, root := tree(t)
	opts := testOptions()
	c := NewCache(filesOnly)
	release := c.ReleaseFile // once, as a worker would
	res := cget(c, root, "/digits.txt", opts, t0)
	f := res.File
	e := res.ent
	release(f) // instead of res.Close
	if e.refs != 0 || isClosed(f) {
		t.Fatalf("refs %d after ReleaseFile", e.refs)
	}
	c.Close()
	if !isClosed(f) {
		t.Fatal("Close left the file open")
	}
	// Held across Close: closed by the last release.
	res = cget(c, root, "/digits.txt", opts, t0)
	f = res.File
	c.Close()
	if isClosed(f) {
		t.Fatal("Close closed a held file")
	}
	release(f)
	if !isClosed(f) || len(c.files) != 0 {
		t.Fatal("last release did not close the file")
	}
	// A file that is not the cache's is closed.
	plain := Serve(root, &Request{Method: http1.MethodGet, Path: []byte("/hello.txt")}, opts)
	release(plain.File)
	if !isClosed(plain.File) {
		t.Fatal("ReleaseFile left a plain Serve file open")
	}
}

func TestCacheValidity(t *testing.T) {
	t.Parallel()
	_, root := tree(t)
	opts := testOptions()
	name := filepath.Join(root, "hello.txt")
	for _, tc := range []struct {
		validity time.Duration
		after    time.Duration // when the change must be seen
	}{
		{-1, 0},
		{10 * time.Millisecond, 10 * time.Millisecond},
		{0, DefaultValidity},
	} {
		t.Run(fmt.Sprint(tc.validity), func(t *testing.T) {
			if err := os.WriteFile(name, []byte(hello), 0o644); err != nil {
				t.Fatal(err)
			}
			c := NewCache(CacheConfig{Validity: tc.validity})
			defer c.Close()
			res := cget(c, root, "/hello.txt", opts, t0)
			res.Close()
			if err := os.WriteFile(name, []byte("changed"), 0o644); err != nil {
				t.Fatal(err)
			}
			res = cget(c, root, "/hello.txt", opts, t0.Add(tc.after))
			wantBody(t, &res, 200, "changed")
			res.Close()
			// A clock going back makes the entry checked again.
			if err := os.WriteFile(name, []byte("back"), 0o644); err != nil {
				t.Fatal(err)
			}
			res = cget(c, root, "/hello.txt", opts, t0.Add(-time.Hour))
			wantBody(t, &res, 200, "back")
			res.Close()
		})
	}
}

func TestCacheResultOwnership(t *testing.T) {
	t.Parallel()
	_, root := tree(t)
	opts := testOptions()
	c := NewCache(filesOnly)
	defer c.Close()
	// Answers without a body hold no reference.
	for _, req := range []*Request{
		{Method: http1.MethodHead, Path: []byte("/hello.txt")},
		{Method: http1.MethodGet, Path: []byte("/empty.txt")},
		{Method: http1.MethodGet, Path: []byte("/hello.txt"), IfNoneMatch: []byte("*")},
		{Method: http1.MethodOptions, Path: []byte("/hello.txt")},
		{Method: http1.MethodGet, Path: []byte("/digits.txt"), Range: []byte("bytes=100-")},
	} {
		res := c.Serve(root, req, opts, t0)
		if res.File != nil || res.ent != nil {
			t.Errorf("%s %s: status %d holds a file", req.Method, req.Path, res.Status)
		}
	}
	checkReleased(t, c)
	// Ranges share the entry's file; the whole-file Parts are the entry's.
	one := c.Serve(root, &Request{Method: http1.MethodGet, Path: []byte("/digits.txt"), Range: []byte("bytes=1-2")}, opts, t0)
	wantBody(t, &one, 206, digitsBody[1:3])
	whole := cget(c, root, "/digits.txt", opts, t0)
	if one.File != whole.File || whole.ent.refs != 2 || &one.Parts[0] == &whole.Parts[0] {
		t.Fatalf("range and whole: files %p %p, refs %d", one.File, whole.File, whole.ent.refs)
	}
	one.Close()
	whole.Close()
	checkReleased(t, c)
}

// TestCacheInMemory checks the entries that keep a small file's content
// instead of an open file: the Body, the threshold, the memory budget and
// its accounting, and change detection.
func TestCacheInMemory(t *testing.T) {
	t.Parallel()
	_, root := tree(t)
	opts := testOptions()
	c := NewCache(CacheConfig{})
	defer c.Close()
	a := cget(c, root, "/hello.txt", opts, t0)
	wantBody(t, &a, 200, hello)
	b := cget(c, root, "/hello.txt", opts, t0)
	if a.File != nil || a.ent != nil || len(c.files) != 0 || &a.Body[0] != &b.Body[0] {
		t.Fatalf("in-memory hit: File %v, ent %v, %d files open, same Body %v",
			a.File, a.ent, len(c.files), &a.Body[0] == &b.Body[0])
	}
	if c.mem != int64(len(hello)) {
		t.Fatalf("mem %d, want %d", c.mem, len(hello))
	}
	// An empty file needs neither.
	e := cget(c, root, "/empty.txt", opts, t0)
	if e.Status != 200 || e.Parts != nil || e.Body != nil || e.File != nil || len(c.files) != 0 {
		t.Fatalf("empty file: %+v, %d files open", e, len(c.files))
	}

	// Replaced by a rename: the old content within Validity, then the new.
	name := filepath.Join(root, "hello.txt")
	tmp := filepath.Join(root, "hello.tmp")
	if err := os.WriteFile(tmp, []byte("new hello\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, name); err != nil {
		t.Fatal(err)
	}
	res := cget(c, root, "/hello.txt", opts, t0.Add(DefaultValidity/2))
	wantBody(t, &res, 200, hello)
	res = cget(c, root, "/hello.txt", opts, t0.Add(DefaultValidity))
	wantBody(t, &res, 200, "new hello\n")
	wantBody(t, &a, 200, hello) // an earlier Result keeps what it was given
	if c.mem != int64(len("new hello\n")) {
		t.Fatalf("mem %d after the change, want %d", c.mem, len("new hello\n"))
	}
	c.Close()
	if c.mem != 0 {
		t.Fatalf("mem %d after Close", c.mem)
	}

	// The threshold: hello (10 bytes now) in memory, digits (62) open.
	small := NewCache(CacheConfig{InMemoryMax: 10})
	defer small.Close()
	h, d := cget(small, root, "/hello.txt", opts, t0), cget(small, root, "/digits.txt", opts, t0)
	if h.Body == nil || d.Body != nil || d.File == nil {
		t.Fatalf("threshold 10: hello in memory %v, digits in memory %v", h.Body != nil, d.Body != nil)
	}
	d.Close()

	// The budget: what does not fit stays open.
	budget := NewCache(CacheConfig{MemoryBudget: 16})
	defer budget.Close()
	for _, tc := range []struct {
		path   string
		memory bool
		mem    int64
	}{
		{"/hello.txt", true, 10}, // "new hello\n"
		{"/digits.txt", false, 10},
		{"/noext", true, 15},
		{"/Photo.JPG", false, 15}, // 4 bytes: 19 > 16
	} {
		res := cget(budget, root, tc.path, opts, t0)
		if (res.Body != nil) != tc.memory || budget.mem != tc.mem {
			t.Fatalf("%s: in memory %v, mem %d; want %v, %d", tc.path, res.Body != nil, budget.mem, tc.memory, tc.mem)
		}
		res.Close()
	}
	checkReleased(t, budget)
	// An evicted entry gives its bytes back.
	one := NewCache(CacheConfig{MaxEntries: 1})
	defer one.Close()
	cget(one, root, "/hello.txt", opts, t0)
	cget(one, root, "/noext", opts, t0)
	if one.Len() != 1 || one.mem != 5 {
		t.Fatalf("after eviction: Len %d, mem %d, want 1, 5", one.Len(), one.mem)
	}
}
