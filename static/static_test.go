package static

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"gibbon/http1"
)

// mtime is the modification time of every test file.
var mtime = time.Date(2024, 1, 2, 3, 4, 5, 123456789, time.UTC)

const (
	lastMod    = "Tue, 02 Jan 2024 03:04:05 GMT"
	digitsBody = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	hello      = "hello, world\n"
)

// tree builds the test file tree and returns its document root.
//
//	root/                   the document root
//	  index.html  hello.txt  digits.txt  empty.txt  Photo.JPG  noext  a b%.txt
//	  sub/index.htm          (second index name)
//	  noindex/file.txt       (no index file)
//	  idxdir/index.html/     (an index name that is a directory)
//	  link-in.txt  -> hello.txt         link-out.txt -> ../outside/secret.txt
//	  linkdir      -> sub               outdir       -> ../outside
//	  idxlink/index.html -> ../hello.txt
//	  fifo
//	outside/secret.txt
//	rootlink -> root
//	home/alice/public_html/{index.html,page.txt}
func tree(t testing.TB) (base, root string) {
	t.Helper()
	base = t.TempDir()
	root = filepath.Join(base, "root")
	files := map[string]string{
		"root/index.html":                   "<h1>root</h1>",
		"root/hello.txt":                    hello,
		"root/digits.txt":                   digitsBody,
		"root/empty.txt":                    "",
		"root/Photo.JPG":                    "jpeg",
		"root/noext":                        "noext",
		"root/a b%.txt":                     "spaced",
		"root/sub/index.htm":                "sub index",
		"root/noindex/file.txt":             "file",
		"root/idxdir/index.htm":             "idxdir htm",
		"outside/secret.txt":                "secret",
		"home/alice/public_html/index.html": "alice",
		"home/alice/public_html/page.txt":   "alice page",
	}
	for name, body := range files {
		p := filepath.Join(base, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range []string{"root/idxdir/index.html", "root/idxlink"} {
		if err := os.MkdirAll(filepath.Join(base, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	links := map[string]string{
		"root/link-in.txt":         "hello.txt",
		"root/link-out.txt":        "../outside/secret.txt",
		"root/linkdir":             "sub",
		"root/outdir":              "../outside",
		"root/idxlink/index.html":  "../hello.txt",
		"rootlink":                 "root",
		"root/dangling.txt":        "nowhere.txt",
		"root/sub/up":              "..",
		"home/alice/public_html/l": "../../../root/hello.txt",
	}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(base, name)); err != nil {
			t.Fatal(err)
		}
	}
	if err := syscall.Mkfifo(filepath.Join(root, "fifo"), 0o644); err != nil {
		t.Fatal(err)
	}
	return base, root
}

func testOptions() *Options {
	return &Options{
		IndexFiles:      []string{"index.html", "index.htm"},
		Resume:          true,
		DefaultMimeType: "application/x-default",
		Mime: map[string]string{
			"html": "text/html",
			"htm":  "text/html",
			"txt":  "text/plain",
			"jpg":  "image/jpeg",
		},
	}
}

// body reads the body a Result describes, as the server would send it.
func body(t *testing.T, r *Result) string {
	t.Helper()
	var b strings.Builder
	for _, p := range r.Parts {
		b.Write(p.Prefix)
		if p.Length == 0 {
			continue
		}
		if r.Body != nil {
			if r.File != nil {
				t.Fatalf("Result with both a Body and a File")
			}
			b.Write(r.Body[p.Offset : p.Offset+p.Length])
			continue
		}
		if r.File == nil {
			t.Fatalf("Part %+v without a File or a Body", p)
		}
		buf := make([]byte, p.Length)
		if _, err := r.File.ReadAt(buf, p.Offset); err != nil {
			t.Fatalf("ReadAt(%d, %d): %v", p.Offset, p.Length, err)
		}
		b.Write(buf)
	}
	b.Write(r.Trailer)
	return b.String()
}

func etagOf(t *testing.T, name string) string {
	t.Helper()
	info, err := os.Stat(name)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf(`"%x-%x"`, info.ModTime().UnixNano(), info.Size())
}

type serveCase struct {
	name    string
	method  http1.Method // 0 means GET
	path    string
	opts    func(*Options)
	req     func(*Request)
	status  int
	body    string // checked for 200 and 206 unless skipBody
	ctype   string
	loc     string
	allow   string
	crange  string
	ranges  bool // AcceptRanges
	noBody  bool // File and Parts must be nil
	headers bool // ETag and Last-Modified must be set
}

// serveMode is a way to answer a request: plain Serve, or a Cache.
type serveMode struct {
	name string
	// serve answers req and passes each Result to check, then closes it.
	serve func(t *testing.T, root string, req *Request, opts *Options, check func(*Result))
}

// serveModes are the ways every Serve test runs. A cache answers each
// request three times: on a miss, on a hit, and after Validity, when the
// entry is checked against the file system and found unchanged. Each
// time must give what Serve gives: from memory (the default for the
// small test files), from open files, and from a SharedCache.
var serveModes = []serveMode{
	{"Serve", func(t *testing.T, root string, req *Request, opts *Options, check func(*Result)) {
		res := Serve(root, req, opts)
		defer res.Close()
		check(&res)
	}},
	{"Cache", func(t *testing.T, root string, req *Request, opts *Options, check func(*Result)) {
		serveCached(t, NewCache(CacheConfig{}), root, req, opts, check)
	}},
	{"Cache/files", func(t *testing.T, root string, req *Request, opts *Options, check func(*Result)) {
		serveCached(t, NewCache(filesOnly), root, req, opts, check)
	}},
	{"SharedCache", func(t *testing.T, root string, req *Request, opts *Options, check func(*Result)) {
		c := NewSharedCache(CacheConfig{})
		defer c.Close()
		now := time.Now()
		for _, at := range []time.Time{now, now, now.Add(2 * DefaultValidity)} {
			res := c.Serve(root, req, opts, at)
			check(&res)
			res.Close()
		}
		for i := range c.shards {
			checkReleased(t, &c.shards[i].c)
		}
	}},
}

// filesOnly configures a Cache that keeps every file open, none in memory.
var filesOnly = CacheConfig{InMemoryMax: -1}

// serveCached answers req from c as serveModes says, then closes c.
func serveCached(t *testing.T, c *Cache, root string, req *Request, opts *Options, check func(*Result)) {
	defer c.Close()
	now := time.Now()
	for _, at := range []time.Time{now, now, now.Add(2 * DefaultValidity)} {
		res := c.Serve(root, req, opts, at)
		check(&res)
		res.Close()
	}
	checkReleased(t, c)
}

// checkReleased fails if an entry of c still has references or a retired
// entry still has its file.
func checkReleased(t *testing.T, c *Cache) {
	t.Helper()
	for _, e := range c.ring {
		if e.refs != 0 {
			t.Errorf("entry %q: %d references left", e.key, e.refs)
		}
	}
	for f, e := range c.files {
		if !e.live {
			t.Errorf("retired entry %q keeps %s open", e.key, f.Name())
		}
	}
}

func runServe(t *testing.T, root string, tests []serveCase) {
	t.Helper()
	for _, m := range serveModes {
		for _, tc := range tests {
			t.Run(m.name+"/"+tc.name, func(t *testing.T) {
				t.Parallel()
				opts := testOptions()
				if tc.opts != nil {
					tc.opts(opts)
				}
				req := &Request{Method: tc.method, Path: []byte(tc.path)}
				if req.Method == 0 {
					req.Method = http1.MethodGet
				}
				if tc.req != nil {
					tc.req(req)
				}
				m.serve(t, root, req, opts, func(res *Result) { checkResult(t, res, tc) })
			})
		}
	}
}

func checkResult(t *testing.T, res *Result, tc serveCase) {
	t.Helper()
	if res.Status != tc.status {
		t.Fatalf("Status = %d, want %d (%+v)", res.Status, tc.status, res)
	}
	if res.Location != tc.loc || res.Allow != tc.allow || res.ContentRange != tc.crange {
		t.Errorf("Location, Allow, ContentRange = %q, %q, %q; want %q, %q, %q",
			res.Location, res.Allow, res.ContentRange, tc.loc, tc.allow, tc.crange)
	}
	if res.AcceptRanges != tc.ranges {
		t.Errorf("AcceptRanges = %v, want %v", res.AcceptRanges, tc.ranges)
	}
	if tc.ctype != "" && res.ContentType != tc.ctype {
		t.Errorf("ContentType = %q, want %q", res.ContentType, tc.ctype)
	}
	if tc.headers && (res.ETag == "" || res.LastModified != lastMod) {
		t.Errorf("ETag, LastModified = %q, %q; want an ETag and %q", res.ETag, res.LastModified, lastMod)
	}
	if !tc.headers && (res.ETag != "" || res.LastModified != "") {
		t.Errorf("unexpected validators %q, %q", res.ETag, res.LastModified)
	}
	if tc.noBody || (res.Status != 200 && res.Status != 206) {
		if res.File != nil || res.Parts != nil || res.Trailer != nil {
			t.Errorf("File, Parts, Trailer = %v, %v, %q; want none", res.File, res.Parts, res.Trailer)
		}
		if res.Status != 200 && res.ContentLength != 0 {
			t.Errorf("ContentLength = %d, want 0", res.ContentLength)
		}
		if tc.noBody && res.Status == 200 && tc.method == http1.MethodHead && res.ContentLength != int64(len(tc.body)) {
			t.Errorf("HEAD ContentLength = %d, want %d", res.ContentLength, len(tc.body))
		}
		return
	}
	got := body(t, res)
	if res.ContentLength != int64(len(got)) {
		t.Errorf("ContentLength = %d, body has %d bytes", res.ContentLength, len(got))
	}
	if tc.body != "" || res.Status == 200 {
		if got != tc.body {
			t.Errorf("body = %q, want %q", got, tc.body)
		}
	}
	for _, p := range res.Parts {
		if res.Status == 200 || (res.Status == 206 && res.ContentRange != "") {
			if len(p.Prefix) != 0 {
				t.Errorf("Part prefix %q on a single-part body", p.Prefix)
			}
		}
	}
	if len(got) == 0 && (res.File != nil || res.Parts != nil) {
		t.Errorf("empty body with File %v, Parts %v", res.File, res.Parts)
	}
}

func TestServe(t *testing.T) {
	t.Parallel()
	base, root := tree(t)
	symlinkOn := func(o *Options) { o.SymLink = true }
	tests := []serveCase{
		{name: "file", path: "/hello.txt", status: 200, body: hello, ctype: "text/plain", ranges: true, headers: true},
		{name: "root index", path: "/", status: 200, body: "<h1>root</h1>", ctype: "text/html", ranges: true, headers: true},
		{name: "sub second index", path: "/sub/", status: 200, body: "sub index", ctype: "text/html", ranges: true, headers: true},
		{name: "index that is a directory is skipped", path: "/idxdir/", status: 200, body: "idxdir htm", ranges: true, headers: true},
		{name: "encoded name", path: "/a%20b%25.txt", status: 200, body: "spaced", ranges: true, headers: true},
		{name: "dot segments", path: "/sub/../hello.txt", status: 200, body: hello, ranges: true, headers: true},
		{name: "encoded dots", path: "/sub/%2E%2e/hello.txt", status: 200, body: hello, ranges: true, headers: true},
		{name: "double slash", path: "//hello.txt", status: 200, body: hello, ranges: true, headers: true},
		{name: "mime case-insensitive", path: "/Photo.JPG", status: 200, body: "jpeg", ctype: "image/jpeg", ranges: true, headers: true},
		{name: "mime default", path: "/noext", status: 200, body: "noext", ctype: "application/x-default", ranges: true, headers: true},
		{name: "mime fallback", path: "/noext", opts: func(o *Options) { o.DefaultMimeType = "" }, status: 200, body: "noext", ctype: DefaultMimeType, ranges: true, headers: true},
		{name: "empty file", path: "/empty.txt", status: 200, body: "", ctype: "text/plain", ranges: true, headers: true, noBody: true},
		{name: "resume off", path: "/hello.txt", opts: func(o *Options) { o.Resume = false }, status: 200, body: hello, headers: true},
		{name: "head", method: http1.MethodHead, path: "/hello.txt", status: 200, body: hello, ranges: true, headers: true, noBody: true},
		{name: "head index", method: http1.MethodHead, path: "/", status: 200, body: "<h1>root</h1>", ranges: true, headers: true, noBody: true},

		{name: "dir redirect", path: "/sub", status: 301, loc: "/sub/"},
		{name: "dir redirect head", method: http1.MethodHead, path: "/sub", status: 301, loc: "/sub/"},
		{name: "dir redirect keeps encoding", path: "/%73ub", status: 301, loc: "/%73ub/"},
		{name: "dir redirect never protocol-relative", path: "//sub", status: 301, loc: "/sub/"},
		{name: "dir redirect with dots", path: "/sub/../noindex", status: 301, loc: "/sub/../noindex/"},
		{name: "dir without index", path: "/noindex/", status: 403},
		{name: "dir without index files configured", path: "/", opts: func(o *Options) { o.IndexFiles = nil }, status: 403},
		{name: "bad index names skipped", path: "/sub/", opts: func(o *Options) { o.IndexFiles = []string{"", ".", "..", "../hello.txt", "index.htm"} }, status: 200, body: "sub index", ranges: true, headers: true},
		{name: "missing dir", path: "/nope/", status: 404},
		{name: "file with slash", path: "/hello.txt/", status: 404},
		{name: "file with slash symlink on", path: "/hello.txt/", opts: symlinkOn, status: 404},
		{name: "file below a file", path: "/hello.txt/x", status: 404},
		{name: "missing", path: "/nope.txt", status: 404},
		{name: "missing in missing dir", path: "/nope/x.txt", status: 404},
		{name: "fifo", path: "/fifo", status: 403},
		{name: "fifo symlink on", path: "/fifo", opts: symlinkOn, status: 403},

		{name: "options", method: http1.MethodOptions, path: "/hello.txt", status: 200, allow: Allow},
		{name: "options dir", method: http1.MethodOptions, path: "/sub", status: 200, allow: Allow},
		{name: "options missing", method: http1.MethodOptions, path: "/nope", status: 404},
		{name: "post", method: http1.MethodPost, path: "/hello.txt", status: 405, allow: Allow},
		{name: "delete index", method: http1.MethodDelete, path: "/", status: 405, allow: Allow},
		{name: "put dir", method: http1.MethodPut, path: "/sub", status: 405, allow: Allow},
		{name: "post missing", method: http1.MethodPost, path: "/nope.txt", status: 404},

		{name: "climb", path: "/../outside/secret.txt", status: 400},
		{name: "climb encoded", path: "/%2e%2e/outside/secret.txt", status: 400},
		{name: "encoded slash", path: "/sub%2Findex.htm", status: 400},
		{name: "backslash", path: "/sub\\index.htm", status: 400},
		{name: "nul", path: "/hello.txt%00.html", status: 400},
		{name: "bad escape", path: "/hello%zz", status: 400},
		{name: "not origin form", path: "*", status: 400},

		{name: "link inside, symlink off", path: "/link-in.txt", status: 403},
		{name: "link outside, symlink off", path: "/link-out.txt", status: 403},
		{name: "link dir, symlink off", path: "/linkdir/index.htm", status: 403},
		{name: "link dir slash, symlink off", path: "/linkdir/", status: 403},
		{name: "link dir no slash, symlink off", path: "/linkdir", status: 403},
		{name: "link out dir, symlink off", path: "/outdir/secret.txt", status: 403},
		{name: "index link, symlink off", path: "/idxlink/", status: 403},
		{name: "dangling link, symlink off", path: "/dangling.txt", status: 403},
		{name: "link up, symlink off", path: "/sub/up/hello.txt", status: 403},
		{name: "link inside, symlink on", path: "/link-in.txt", opts: symlinkOn, status: 200, body: hello, ranges: true, headers: true},
		{name: "link outside, symlink on", path: "/link-out.txt", opts: symlinkOn, status: 200, body: "secret", ranges: true, headers: true},
		{name: "link dir, symlink on", path: "/linkdir/", opts: symlinkOn, status: 200, body: "sub index", ranges: true, headers: true},
		{name: "link dir no slash, symlink on", path: "/linkdir", opts: symlinkOn, status: 301, loc: "/linkdir/"},
		{name: "link out dir, symlink on", path: "/outdir/secret.txt", opts: symlinkOn, status: 200, body: "secret", ranges: true, headers: true},
		{name: "index link, symlink on", path: "/idxlink/", opts: symlinkOn, status: 200, body: hello, ranges: true, headers: true},
		{name: "dangling link, symlink on", path: "/dangling.txt", opts: symlinkOn, status: 404},
	}
	runServe(t, root, tests)

	// The document root itself may be a link, whatever SymLink says.
	runServe(t, filepath.Join(base, "rootlink"), []serveCase{
		{name: "root link/file", path: "/hello.txt", status: 200, body: hello, ranges: true, headers: true},
		{name: "root link/index", path: "/", status: 200, body: "<h1>root</h1>", ranges: true, headers: true},
		{name: "root link/link", path: "/link-in.txt", status: 403},
	})
	runServe(t, root+"/", []serveCase{
		{name: "root with slash", path: "/hello.txt", status: 200, body: hello, ranges: true, headers: true},
	})
	runServe(t, "", []serveCase{{name: "empty root", path: "/hello.txt", status: 500}})
	runServe(t, filepath.Join(base, "missing"), []serveCase{
		{name: "missing root", path: "/", status: 404},
		{name: "missing root file", path: "/x", status: 404},
	})
}

func TestServePermissions(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root reads every file")
	}
	t.Parallel()
	_, root := tree(t)
	if err := os.Chmod(filepath.Join(root, "hello.txt"), 0); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(root, "noindex"), 0); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(filepath.Join(root, "noindex"), 0o755) })
	runServe(t, root, []serveCase{
		{name: "unreadable file", path: "/hello.txt", status: 403},
		{name: "unsearchable dir", path: "/noindex/file.txt", status: 403},
	})
}

func TestServeUserDir(t *testing.T) {
	base, root := tree(t)
	old := lookupHome
	t.Cleanup(func() { lookupHome = old })
	lookupHome = func(name string) (string, error) {
		if name == "alice" {
			return filepath.Join(base, "home", "alice"), nil
		}
		return "", errors.New("unknown user")
	}
	userDir := func(o *Options) { o.UserDir = "public_html" }
	both := func(o *Options) { o.UserDir = "public_html"; o.SymLink = true }
	runServe(t, root, []serveCase{
		{name: "user index", path: "/~alice/", opts: userDir, status: 200, body: "alice", ranges: true, headers: true},
		{name: "user file", path: "/~alice/page.txt", opts: userDir, status: 200, body: "alice page", ctype: "text/plain", ranges: true, headers: true},
		{name: "encoded tilde", path: "/%7Ealice/page.txt", opts: userDir, status: 200, body: "alice page", ranges: true, headers: true},
		{name: "user dir redirect", path: "/~alice", opts: userDir, status: 301, loc: "/~alice/"},
		{name: "unknown user", path: "/~bob/", opts: userDir, status: 404},
		{name: "empty user", path: "/~/", opts: userDir, status: 404},
		{name: "user missing file", path: "/~alice/nope", opts: userDir, status: 404},
		{name: "user dots stay in user dir", path: "/~alice/x/../page.txt", opts: userDir, status: 200, body: "alice page", ranges: true, headers: true},
		{name: "user climb", path: "/~alice/../../x", opts: userDir, status: 400},
		{name: "user link off", path: "/~alice/l", opts: userDir, status: 403},
		{name: "user link on", path: "/~alice/l", opts: both, status: 200, body: hello, ranges: true, headers: true},
		{name: "userdir off", path: "/~alice/", status: 404},
	})
}

func TestServeConditional(t *testing.T) {
	t.Parallel()
	_, root := tree(t)
	etag := etagOf(t, filepath.Join(root, "hello.txt"))
	if want := fmt.Sprintf(`"%x-%x"`, mtime.UnixNano(), len(hello)); etag != want {
		t.Fatalf("test setup: ETag %s, want %s", etag, want)
	}
	weak := "W/" + etag
	before := "Tue, 02 Jan 2024 03:04:04 GMT"
	after := "Tue, 02 Jan 2024 03:04:06 GMT"
	h := func(set func(*Request)) func(*Request) { return set }
	ok := serveCase{status: 200, body: hello, ranges: true, headers: true}
	notMod := serveCase{status: 304, headers: true}
	failed := serveCase{status: 412}
	tests := []struct {
		name string
		head bool
		req  func(*Request)
		want serveCase
	}{
		{"inm match", false, h(func(r *Request) { r.IfNoneMatch = []byte(etag) }), notMod},
		{"inm head", true, h(func(r *Request) { r.IfNoneMatch = []byte(etag) }), notMod},
		{"inm weak match", false, h(func(r *Request) { r.IfNoneMatch = []byte(weak) }), notMod},
		{"inm list", false, h(func(r *Request) { r.IfNoneMatch = []byte(`"x", W/"y",` + etag + ` , "z"`) }), notMod},
		{"inm star", false, h(func(r *Request) { r.IfNoneMatch = []byte(" * ") }), notMod},
		{"inm other", false, h(func(r *Request) { r.IfNoneMatch = []byte(`"other"`) }), ok},
		{"inm tag with comma", false, h(func(r *Request) { r.IfNoneMatch = []byte(`"a,` + etag[1:]) }), ok},
		{"inm malformed", false, h(func(r *Request) { r.IfNoneMatch = []byte(`junk, ` + etag) }), ok},
		{"inm wins over ims", false, h(func(r *Request) {
			r.IfNoneMatch = []byte(`"other"`)
			r.IfModifiedSince = []byte(after)
		}), ok},
		{"ims same second", false, h(func(r *Request) { r.IfModifiedSince = []byte(lastMod) }), notMod},
		{"ims later", false, h(func(r *Request) { r.IfModifiedSince = []byte(after) }), notMod},
		{"ims earlier", false, h(func(r *Request) { r.IfModifiedSince = []byte(before) }), ok},
		{"ims rfc850", false, h(func(r *Request) { r.IfModifiedSince = []byte("Tuesday, 02-Jan-24 03:04:05 GMT") }), notMod},
		{"ims asctime", false, h(func(r *Request) { r.IfModifiedSince = []byte("Tue Jan  2 03:04:05 2024") }), notMod},
		{"ims invalid", false, h(func(r *Request) { r.IfModifiedSince = []byte("yesterday") }), ok},
		{"im match", false, h(func(r *Request) { r.IfMatch = []byte(etag) }), ok},
		{"im star", false, h(func(r *Request) { r.IfMatch = []byte("*") }), ok},
		{"im list", false, h(func(r *Request) { r.IfMatch = []byte(`"a", ` + etag) }), ok},
		{"im weak fails", false, h(func(r *Request) { r.IfMatch = []byte(weak) }), failed},
		{"im other fails", false, h(func(r *Request) { r.IfMatch = []byte(`"other"`) }), failed},
		{"im other head fails", true, h(func(r *Request) { r.IfMatch = []byte(`"other"`) }), failed},
		{"im beats inm", false, h(func(r *Request) {
			r.IfMatch = []byte(`"other"`)
			r.IfNoneMatch = []byte(etag)
		}), failed},
		{"ius later", false, h(func(r *Request) { r.IfUnmodifiedSince = []byte(after) }), ok},
		{"ius same", false, h(func(r *Request) { r.IfUnmodifiedSince = []byte(lastMod) }), ok},
		{"ius earlier fails", false, h(func(r *Request) { r.IfUnmodifiedSince = []byte(before) }), failed},
		{"ius ignored with im", false, h(func(r *Request) {
			r.IfMatch = []byte(etag)
			r.IfUnmodifiedSince = []byte(before)
		}), ok},
		{"ius invalid ignored", false, h(func(r *Request) { r.IfUnmodifiedSince = []byte("Tue, 32 Jan 2024 03:04:05 GMT") }), ok},
	}
	for _, tc := range tests {
		c := tc.want
		c.name, c.path, c.req = tc.name, "/hello.txt", tc.req
		if tc.head {
			c.method = http1.MethodHead
			c.noBody = true
		}
		runServe(t, root, []serveCase{c})
	}
	// A 304 carries exactly the file's validators.
	for _, m := range serveModes {
		req := &Request{Method: http1.MethodGet, Path: []byte("/hello.txt"), IfNoneMatch: []byte(etag)}
		m.serve(t, root, req, testOptions(), func(res *Result) {
			if res.ETag != etag || res.LastModified != lastMod {
				t.Errorf("%s: 304 validators = %q, %q", m.name, res.ETag, res.LastModified)
			}
		})
	}
}

func TestServeRange(t *testing.T) {
	t.Parallel()
	_, root := tree(t)
	etag := etagOf(t, filepath.Join(root, "digits.txt"))
	size := len(digitsBody) // 62
	rng := func(v string) func(*Request) { return func(r *Request) { r.Range = []byte(v) } }
	full := serveCase{status: 200, body: digitsBody, ranges: true, headers: true}
	part := func(a, b int) serveCase {
		return serveCase{status: 206, body: digitsBody[a : b+1], ranges: true, headers: true,
			crange: fmt.Sprintf("bytes %d-%d/%d", a, b, size)}
	}
	unsat := serveCase{status: 416, crange: fmt.Sprintf("bytes */%d", size)}
	tests := []struct {
		name string
		req  func(*Request)
		opts func(*Options)
		head bool
		want serveCase
	}{
		{name: "first-last", req: rng("bytes=0-9"), want: part(0, 9)},
		{name: "middle", req: rng("bytes=10-19"), want: part(10, 19)},
		{name: "open", req: rng("bytes=50-"), want: part(50, 61)},
		{name: "suffix", req: rng("bytes=-5"), want: part(57, 61)},
		{name: "suffix larger than file", req: rng("bytes=-100"), want: part(0, 61)},
		{name: "last clamped", req: rng("bytes=60-1000"), want: part(60, 61)},
		{name: "whole", req: rng("bytes=0-"), want: part(0, 61)},
		{name: "unit case", req: rng("Bytes=1-1"), want: part(1, 1)},
		{name: "spaces", req: rng(" bytes= 1-2 ,"), want: part(1, 2)},
		{name: "coalesce overlap", req: rng("bytes=0-5,3-9"), want: part(0, 9)},
		{name: "coalesce adjacent", req: rng("bytes=0-4,5-9"), want: part(0, 9)},
		{name: "unsatisfiable dropped", req: rng("bytes=100-200,2-3"), want: part(2, 3)},
		{name: "unsatisfiable", req: rng("bytes=62-"), want: unsat},
		{name: "unsatisfiable several", req: rng("bytes=62-70,100-"), want: unsat},
		{name: "suffix zero", req: rng("bytes=-0"), want: unsat},
		{name: "invalid last before first", req: rng("bytes=5-1"), want: full},
		{name: "invalid unit", req: rng("items=0-1"), want: full},
		{name: "invalid syntax", req: rng("bytes=a-b"), want: full},
		{name: "invalid no dash", req: rng("bytes=5"), want: full},
		{name: "invalid empty", req: rng("bytes="), want: full},
		{name: "invalid only commas", req: rng("bytes=,,"), want: full},
		{name: "invalid negative", req: rng("bytes=--5"), want: full},
		{name: "invalid overflow", req: rng("bytes=0-99999999999999999999"), want: full},
		{name: "invalid one of many", req: rng("bytes=0-1,x"), want: full},
		{name: "too many ranges", req: rng("bytes=" + strings.Repeat("0-0,", MaxRanges) + "1-1"), want: full},
		{name: "total beyond size", req: rng("bytes=0-,0-"), want: full},
		{name: "resume off", req: rng("bytes=0-9"), opts: func(o *Options) { o.Resume = false },
			want: serveCase{status: 200, body: digitsBody, headers: true}},
		{name: "head ignores range", req: rng("bytes=0-9"), head: true,
			want: serveCase{status: 200, body: digitsBody, ranges: true, headers: true, noBody: true}},
		{name: "if-range etag", req: func(r *Request) { r.Range = []byte("bytes=0-9"); r.IfRange = []byte(etag) }, want: part(0, 9)},
		{name: "if-range date", req: func(r *Request) { r.Range = []byte("bytes=0-9"); r.IfRange = []byte(lastMod) }, want: part(0, 9)},
		{name: "if-range other etag", req: func(r *Request) { r.Range = []byte("bytes=0-9"); r.IfRange = []byte(`"x"`) }, want: full},
		{name: "if-range weak etag", req: func(r *Request) { r.Range = []byte("bytes=0-9"); r.IfRange = []byte("W/" + etag) }, want: full},
		{name: "if-range other date", req: func(r *Request) {
			r.Range = []byte("bytes=0-9")
			r.IfRange = []byte("Tue, 02 Jan 2024 03:04:06 GMT")
		}, want: full},
		{name: "if-range bad date", req: func(r *Request) { r.Range = []byte("bytes=0-9"); r.IfRange = []byte("soon") }, want: full},
		{name: "if-range unsatisfiable", req: func(r *Request) { r.Range = []byte("bytes=99-"); r.IfRange = []byte(`"x"`) }, want: full},
		{name: "conditional before range", req: func(r *Request) { r.Range = []byte("bytes=0-9"); r.IfNoneMatch = []byte(etag) },
			want: serveCase{status: 304, headers: true}},
	}
	for _, tc := range tests {
		c := tc.want
		c.name, c.path, c.req, c.opts = tc.name, "/digits.txt", tc.req, tc.opts
		if tc.head {
			c.method = http1.MethodHead
		}
		runServe(t, root, []serveCase{c})
	}
	runServe(t, root, []serveCase{
		{name: "empty file range", path: "/empty.txt", req: rng("bytes=0-"), status: 416, crange: "bytes */0"},
		{name: "empty file suffix", path: "/empty.txt", req: rng("bytes=-1"), status: 416, crange: "bytes */0"},
		{name: "empty file invalid range", path: "/empty.txt", req: rng("bytes=x"), status: 200, ranges: true, headers: true, noBody: true},
	})
}

func TestServeMultipart(t *testing.T) {
	t.Parallel()
	_, root := tree(t)
	tests := []struct {
		rng   string
		parts [][2]int // first, last, in the order expected
	}{
		{"bytes=0-1,5-6", [][2]int{{0, 1}, {5, 6}}},
		{"bytes=50-,-2,0-0", [][2]int{{50, 61}, {0, 0}}},
		{"bytes=10-12,0-3,11-14,4-4", [][2]int{{10, 14}, {0, 4}}},
		{"bytes=-3,0-0,100-", [][2]int{{59, 61}, {0, 0}}},
		{"bytes=" + strings.Repeat("0-0,", MaxRanges-1) + "3-3", [][2]int{{0, 0}, {3, 3}}},
	}
	for _, m := range serveModes {
		for _, tc := range tests {
			t.Run(m.name+"/"+tc.rng, func(t *testing.T) {
				t.Parallel()
				req := &Request{Method: http1.MethodGet, Path: []byte("/digits.txt"), Range: []byte(tc.rng)}
				m.serve(t, root, req, testOptions(), func(res *Result) { checkMultipart(t, res, tc.parts) })
			})
		}
	}
	// Every response gets a fresh boundary.
	req := &Request{Method: http1.MethodGet, Path: []byte("/digits.txt"), Range: []byte("bytes=0-0,2-2")}
	a, b := Serve(root, req, testOptions()), Serve(root, req, testOptions())
	defer a.Close()
	defer b.Close()
	if a.ContentType == b.ContentType {
		t.Errorf("two responses share the boundary: %s", a.ContentType)
	}
	c := NewCache(CacheConfig{})
	defer c.Close()
	now := time.Now()
	ca, cb := c.Serve(root, req, testOptions(), now), c.Serve(root, req, testOptions(), now)
	defer ca.Close()
	defer cb.Close()
	if ca.ContentType == cb.ContentType {
		t.Errorf("two cached responses share the boundary: %s", ca.ContentType)
	}
}

// checkMultipart checks a multipart/byteranges answer for digits.txt
// holding parts, each [first, last].
func checkMultipart(t *testing.T, res *Result, parts [][2]int) {
	t.Helper()
	if res.Status != 206 || res.ContentRange != "" || !res.AcceptRanges || (res.File == nil) == (res.Body == nil) {
		t.Fatalf("got %+v", res)
	}
	mt, params, err := mime.ParseMediaType(res.ContentType)
	if err != nil || mt != "multipart/byteranges" || len(params["boundary"]) < 16 {
		t.Fatalf("ContentType %q: %v", res.ContentType, err)
	}
	b := params["boundary"]
	var want strings.Builder
	for _, p := range parts {
		fmt.Fprintf(&want, "\r\n--%s\r\nContent-Type: text/plain\r\nContent-Range: bytes %d-%d/%d\r\n\r\n%s",
			b, p[0], p[1], len(digitsBody), digitsBody[p[0]:p[1]+1])
	}
	fmt.Fprintf(&want, "\r\n--%s--\r\n", b)
	got := body(t, res)
	if got != want.String() {
		t.Errorf("body =\n%q\nwant\n%q", got, want.String())
	}
	if res.ContentLength != int64(len(got)) {
		t.Errorf("ContentLength = %d, body has %d bytes", res.ContentLength, len(got))
	}
	if len(res.Parts) != len(parts) {
		t.Errorf("%d parts, want %d", len(res.Parts), len(parts))
	}
	// A standard multipart reader agrees.
	mr := multipart.NewReader(strings.NewReader(got), b)
	for i := 0; ; i++ {
		p, err := mr.NextPart()
		if err == io.EOF {
			if i != len(parts) {
				t.Errorf("multipart reader saw %d parts", i)
			}
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(p)
		if i < len(parts) && string(data) != digitsBody[parts[i][0]:parts[i][1]+1] {
			t.Errorf("part %d = %q", i, data)
		}
	}
}

func TestResultClose(t *testing.T) {
	t.Parallel()
	_, root := tree(t)
	res := Serve(root, &Request{Method: http1.MethodGet, Path: []byte("/hello.txt")}, testOptions())
	f := res.File
	res.Close()
	res.Close()
	if res.File != nil {
		t.Error("File not cleared")
	}
	if _, err := f.Stat(); !errors.Is(err, os.ErrClosed) {
		t.Errorf("file still open: %v", err)
	}
	var zero Result
	zero.Close()
}
