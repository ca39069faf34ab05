package static

import (
	"errors"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"
)

// DefaultValidity is how long a [Cache] trusts what it found before it
// looks at the file system again.
const DefaultValidity = time.Second

// DefaultMaxEntries is the default bound on a [Cache]'s entries. Each entry
// for a file holds an open descriptor, so a server holds up to workers ×
// MaxEntries descriptors for its caches.
const DefaultMaxEntries = 1024

// DefaultInMemoryMax is the default size of the largest regular file
// whose content a [Cache] entry keeps in memory (see [Result.Body]).
const DefaultInMemoryMax = 16 << 10

// DefaultMemoryBudget is the default bound on the file content one
// [Cache] keeps in memory: 512 files of [DefaultInMemoryMax] bytes. A
// server holds up to workers × DefaultMemoryBudget for the caches of its
// event loops, plus one budget for the cache its goroutine connections
// share.
const DefaultMemoryBudget = 8 << 20

// CacheConfig configures a [Cache].
type CacheConfig struct {
	// Validity is how long an entry is used without looking at the file
	// system. A file changed, replaced, created or removed is seen by
	// the first request after Validity has passed since the entry was
	// last checked. Zero means [DefaultValidity]; a negative value checks
	// on every request.
	Validity time.Duration
	// MaxEntries bounds the number of entries: files, and the remembered
	// answers for paths that are missing (404), refused (403) or
	// directories (301). It bounds the cache's open descriptors too.
	// Zero or negative means [DefaultMaxEntries].
	MaxEntries int
	// InMemoryMax is the size of the largest regular file an entry
	// keeps in memory instead of open: its content is read once, when
	// the entry is made, and served from memory (Result.Body) until the
	// entry is checked again and found changed. Zero means
	// [DefaultInMemoryMax]; a negative value keeps every file open
	// instead.
	InMemoryMax int64
	// MemoryBudget bounds the bytes of file content the cache's live
	// entries keep in memory; a file that does not fit is kept open
	// instead. Zero means [DefaultMemoryBudget]; a negative value keeps
	// none in memory.
	MemoryBudget int64
}

// Cache answers requests as [Serve] does, from open files, small files'
// content and metadata kept between requests: Monkey's per-worker file
// descriptor table. On a hit it makes no system call and no allocation.
//
// A Cache is owned by one goroutine (an event-loop worker): Serve,
// ReleaseFile, Close and the Close of its Results must all be called from
// that goroutine. It is not safe for concurrent use; a [SharedCache] is.
//
// # Entries
//
// An entry is keyed by the document root and the clean path (see
// [CleanPath]). It holds what resolving the path found: an open regular
// file with its size, identity, ETag, Last-Modified and Content-Type; or
// a directory (answered 301, OPTIONS or 405 by method, as Serve does); or
// a 403 or 404. A regular file of at most InMemoryMax bytes is read into
// memory when the entry is made, while the cache's MemoryBudget allows,
// and closed: its Results carry the content as Body and no File. A 500 (an I/O error, too many open files) is not kept.
// An entry also remembers the *Options it was resolved with: a request
// with another *Options resolves the path again and replaces the entry,
// so one Cache can serve several virtual hosts. Options must not be
// modified while a Cache holds entries made with them; give the Cache a
// new *Options instead.
//
// Once Validity has passed since an entry was checked, the next request
// for it checks again: for a file, the symbolic-link walk (SymLink off),
// the choice of index file and a stat of the file, and the file is
// reopened if its device, inode, size, modification time or status
// change time (on Linux; a chmod changes it) changed; any other entry is
// resolved afresh. Until then the Cache answers from what it saw: a file
// rewritten in place is served with its old length and validators (the
// reader sees the new bytes, and a file that shrank cuts the body short,
// which makes the engine close the connection; a file kept in memory is
// served as it was read); a new file, a removal or a change of
// permissions is seen late. That is the price of a hit without system
// calls, bounded by Validity. Replacing a file by renaming a new one over
// it, as deployments do, never mixes old and new: a Result keeps the file
// or the content it was given.
//
// When MaxEntries are held, a new entry replaces one chosen by a clock
// hand that spares entries hit since it last passed: an entry used once
// (a scan of missing paths, say) goes before one in use.
//
// # File and content lifetime
//
// A Result with a Body holds nothing to release: the content is shared,
// read-only, with the cache and other Results, and the cache never writes
// to it or reuses it (a changed file gets a new entry with new memory), so
// it stays valid for as long as the caller keeps it; the garbage
// collector frees it once the entry is gone and no one refers to it. Its
// bytes count against MemoryBudget only while the entry is live.
//
// A Result with a File holds one reference to its entry's file, which it
// shares with the cache and other Results. Release the reference once,
// after the body has been sent or abandoned: with [Result.Close], or with
// [Cache.ReleaseFile], which has the shape of an engine's sendfile release
// callback. An entry evicted, replaced or dropped by Close while
// references are held keeps its file open until the last one is given
// back. Close all Results before dropping the Cache: a file still
// referenced when the Cache is forgotten is closed only by the garbage
// collector.
//
// # Use from an event loop
//
//	// Once per worker.
//	cache := static.NewCache(static.CacheConfig{})
//	release := cache.ReleaseFile // a method value allocates: make it once
//
//	// Per request, on the loop.
//	res := cache.Serve(root, &req, &opts, now)
//	// ... write the status line and headers from res ...
//	for i, p := range res.Parts {
//		if res.Body != nil { // in memory: copy, nothing to release
//			conn.Write(p.Prefix)
//			conn.Write(res.Body[p.Offset : p.Offset+p.Length])
//			continue
//		}
//		if len(p.Prefix) > 0 {
//			conn.WriteNoCopy(p.Prefix)
//		}
//		var rel func(*os.File) // one reference per Result, whatever the parts:
//		if i == len(res.Parts)-1 { // given back with the last one
//			rel = release
//		}
//		conn.SendFile(res.File, p.Offset, p.Length, rel)
//	}
//	if len(res.Trailer) > 0 {
//		conn.WriteNoCopy(res.Trailer)
//	}
//	// Without Parts (or with a Body) there is no File and nothing to
//	// release; a file not sent after all is given back with res.Close().
//
//	// When the worker stops, after its connections are gone.
//	cache.Close()
//
// This relies on the engine sending a connection's segments in order and
// calling every pending release when the connection closes.
type Cache struct {
	// mu, when set, is the lock of the SharedCache shard this Cache is,
	// held by whoever uses the Cache; release takes it itself, for
	// Result.Close. Nil for a Cache owned by one goroutine.
	mu *sync.Mutex

	// owned by the goroutine that uses the Cache (or guarded by mu)
	validity time.Duration
	max      int
	inMax    int64               // largest file kept in memory; < 0: none
	budget   int64               // bound on mem
	mem      int64               // content bytes held by live entries
	entries  map[string]*entry   // live entries by key
	files    map[*os.File]*entry // entries with an open file, live or retired
	ring     []*entry            // live entries, in clock order; at most max
	hand     int                 // the ring slot the clock examines next
	key      []byte              // scratch: the key of the request being served
}

// entry is what a Cache knows about one (root, clean path).
type entry struct {
	cache   *Cache
	key     string    // document root, NUL, clean path
	opts    *Options  // the options the entry was resolved with
	checked time.Time // when the entry was resolved or last found unchanged

	// status is 0 for a regular file, 301 for a directory named without
	// its trailing slash (answered by redirectDir), else the status of
	// every request (403, 404).
	status int
	file   *os.File // nil for a file kept in memory (and once closed)
	data   []byte   // a regular file's content when kept in memory, else nil; never modified
	name   string   // the path file was opened with
	stat   fileStat // of file when opened
	meta   fileMeta // meta.whole is whole[:]
	whole  [1]Part

	refs int  // references held by Results to file
	live bool // in entries and ring; a retired entry closes its file at refs 0
	used bool // hit since it was made or the clock hand last passed
	slot int  // index in ring while live
}

// NewCache returns an empty Cache.
func NewCache(cfg CacheConfig) *Cache {
	c := new(Cache)
	c.init(cfg)
	return c
}

// init prepares the empty Cache c.
func (c *Cache) init(cfg CacheConfig) {
	c.validity, c.max = cfg.Validity, cfg.MaxEntries
	c.inMax, c.budget = cfg.InMemoryMax, cfg.MemoryBudget
	if c.validity == 0 {
		c.validity = DefaultValidity
	}
	if c.max <= 0 {
		c.max = DefaultMaxEntries
	}
	if c.inMax == 0 {
		c.inMax = DefaultInMemoryMax
	}
	if c.budget == 0 {
		c.budget = DefaultMemoryBudget
	}
	c.entries = make(map[string]*entry)
	c.files = make(map[*os.File]*entry)
	c.key = make([]byte, 0, 512)
}

// Len returns the number of entries held.
func (c *Cache) Len() int { return len(c.ring) }

// Serve answers req exactly as [Serve](root, req, opts) would have when
// the entry for the path was last checked (see the type's documentation),
// now being the time of the request; a coarse clock will do. A hit (an
// entry checked less than Validity ago, with the same opts) allocates
// nothing for a 200, 304, HEAD or error answer; a single range costs two
// allocations (Content-Range and Parts) and multipart ranges a few more,
// as in Serve.
//
// The Result's Body, when set, is shared and read-only; its File, when
// set, is shared too: release it as the type's documentation says, never
// close it directly.
func (c *Cache) Serve(root string, req *Request, opts *Options, now time.Time) Result {
	if root == "" {
		return Result{Status: 500}
	}
	if status := c.makeKey(root, req.Path); status != 0 {
		return Result{Status: status}
	}
	e := c.entries[string(c.key)]
	switch {
	case e == nil || e.opts != opts:
		e = c.resolve(root, req, opts, now, e)
	case !c.fresh(e, now):
		e.used = true
		e = c.revalidate(root, req, opts, now, e)
	default:
		e.used = true
	}
	if e == nil {
		return Result{Status: 500}
	}
	return c.answer(e, req, opts)
}

// makeKey sets c.key to the entry key of a request: the document root
// without its trailing slash, a NUL (which no clean path holds), and the
// clean path. It returns the status of a path CleanPath refuses.
func (c *Cache) makeKey(root string, raw []byte) int {
	c.key = append(c.key[:0], trimRoot(root)...)
	c.key = append(c.key, 0)
	var status int
	c.key, status = appendClean(c.key, raw)
	return status
}

// fresh reports whether e was checked less than Validity before now.
func (c *Cache) fresh(e *entry, now time.Time) bool {
	d := now.Sub(e.checked)
	return d >= 0 && d < c.validity
}

// answer is Serve's answer from an entry.
func (c *Cache) answer(e *entry, req *Request, opts *Options) Result {
	switch e.status {
	case 0:
	case 301:
		return redirectDir(req)
	default:
		return Result{Status: e.status}
	}
	if res, ok := methodAllowed(req.Method); !ok {
		return res
	}
	res := e.meta.respond(req, opts)
	switch {
	case res.Parts == nil:
	case e.data != nil:
		res.Body = e.data
	default:
		e.refs++
		res.File, res.ent = e.file, e
	}
	return res
}

// revalidate checks the file entry e, found stale, against the file
// system: it returns e, marked checked, if the same file would be opened
// and is unchanged, else a new entry that replaces it.
func (c *Cache) revalidate(root string, req *Request, opts *Options, now time.Time, e *entry) *entry {
	if e.status == 0 {
		if t, status := locate(root, req.Path, opts); status == 0 && e.unchanged(&t, opts) {
			e.checked = now
			return e
		}
	}
	return c.resolve(root, req, opts, now, e)
}

// unchanged reports whether resolving t now would open e's file, and the
// file has not changed since it was opened. It answers false whenever it
// is not sure; the caller then resolves t afresh.
func (e *entry) unchanged(t *target, opts *Options) bool {
	if !opts.SymLink && checkLinks(t.path, t.rootLen) != 0 {
		return false
	}
	name, noFollow := t.path, t.noFollow(opts)
	if t.dir() {
		var ok bool
		if name, ok = t.statIndex(opts); !ok {
			return false
		}
		noFollow = !opts.SymLink
	}
	var st fileStat
	return name == e.name && statPath(name, !noFollow, &st) == nil && st.sameFile(&e.stat)
}

// statIndex returns the name of the index file that openIndex would try
// to open first with success, as far as stat can tell. ok is false when a
// stat fails otherwise than with ENOENT.
func (t *target) statIndex(opts *Options) (name string, ok bool) {
	var st fileStat
	for _, idx := range opts.IndexFiles {
		if !validIndex(idx) {
			continue
		}
		name := t.path + idx
		err := statPath(name, opts.SymLink, &st)
		switch {
		case errors.Is(err, syscall.ENOENT):
			continue
		case err != nil:
			return "", false
		case st.isDir():
			continue
		}
		return name, true
	}
	return "", false
}

// resolve resolves the request's path as Serve does and installs the
// outcome as a new entry in place of old (nil for a miss). It returns nil,
// after dropping old, for an outcome not worth keeping (500).
func (c *Cache) resolve(root string, req *Request, opts *Options, now time.Time, old *entry) *entry {
	e := &entry{cache: c, opts: opts, checked: now}
	t, status := locate(root, req.Path, opts)
	if e.status = status; status == 0 {
		f, name, status := t.open(opts, &e.stat)
		switch {
		case status != 0:
			e.status = status
		case e.stat.isDir():
			f.Close()
			e.status = 301
		case !e.stat.isRegular():
			f.Close()
			e.status = 403
		default:
			e.file, e.name = f, name
			c.keepInMemory(e, old)
			e.meta = newFileMeta(&e.stat, name, opts)
			e.whole[0] = Part{Length: e.stat.size}
			e.meta.whole = e.whole[:]
		}
	}
	if e.status == 500 {
		if old != nil {
			c.drop(old)
		}
		return nil
	}
	c.install(e, old)
	return e
}

// keepInMemory reads the content of e's file into e.data and closes the
// file, when the file is small enough and the content fits the memory
// budget (counting old's as given back); otherwise, or when the read
// comes up short (the file shrank), e keeps the file open.
func (c *Cache) keepInMemory(e, old *entry) {
	size := e.stat.size
	avail := c.budget - c.mem
	if old != nil && old.live {
		avail += int64(len(old.data))
	}
	if size > c.inMax || size > avail {
		return
	}
	data := make([]byte, size)
	if n, _ := e.file.ReadAt(data, 0); int64(n) < size {
		return
	}
	e.file.Close()
	e.file, e.data = nil, data
	c.mem += size
}

// install makes e live, in old's place when old is live.
func (c *Cache) install(e, old *entry) {
	e.live = true
	if e.file != nil {
		c.files[e.file] = e
	}
	if old != nil && old.live {
		e.key, e.slot = old.key, old.slot
		c.ring[e.slot] = e
		c.entries[e.key] = e
		c.retire(old)
		return
	}
	e.key = string(c.key)
	c.entries[e.key] = e
	if len(c.ring) < c.max {
		e.slot = len(c.ring)
		c.ring = append(c.ring, e)
		return
	}
	c.evictInto(e)
}

// evictInto puts e in the ring slot of the first entry the clock hand
// finds unused since its last pass, evicting that entry.
func (c *Cache) evictInto(e *entry) {
	for {
		v := c.ring[c.hand]
		if v.used {
			v.used = false
			c.hand = (c.hand + 1) % len(c.ring)
			continue
		}
		delete(c.entries, v.key)
		c.retire(v)
		e.slot = c.hand
		c.ring[c.hand] = e
		c.hand = (c.hand + 1) % len(c.ring)
		return
	}
}

// drop removes the live entry e from the cache.
func (c *Cache) drop(e *entry) {
	if !e.live {
		return
	}
	delete(c.entries, e.key)
	last := len(c.ring) - 1
	if e.slot != last {
		c.ring[e.slot] = c.ring[last]
		c.ring[e.slot].slot = e.slot
	}
	c.ring[last] = nil
	c.ring = c.ring[:last]
	if c.hand >= len(c.ring) {
		c.hand = 0
	}
	c.retire(e)
}

// retire marks e as out of the cache (the caller has taken it out of
// entries and ring) and closes its file unless a Result still holds it.
func (c *Cache) retire(e *entry) {
	e.live = false
	c.mem -= int64(len(e.data))
	if e.refs == 0 {
		c.closeFile(e)
	}
}

// release gives back one reference to e's file. It takes the cache's
// lock, if any: its callers (Result.Close, ReleaseFile) do not hold it.
func (c *Cache) release(e *entry) {
	if c.mu != nil {
		c.mu.Lock()
		defer c.mu.Unlock()
	}
	e.refs--
	if e.refs == 0 && !e.live {
		c.closeFile(e)
	}
}

func (c *Cache) closeFile(e *entry) {
	if e.file != nil {
		delete(c.files, e.file)
		e.file.Close()
		e.file = nil
	}
}

// ReleaseFile gives back the reference a Result of this Cache holds on f,
// as [Result.Close] does. It has the shape of an engine's sendfile release
// callback: make the method value c.ReleaseFile once per worker (a method
// value allocates) and pass it with the last Part of each Result's body,
// so that the reference is given back once the body is sent or the
// connection closes. A file that is not one of the cache's (from plain
// Serve) is closed. It must be called on the Cache's goroutine.
func (c *Cache) ReleaseFile(f *os.File) {
	if e := c.files[f]; e != nil {
		c.release(e)
		return
	}
	f.Close()
}

// Close empties the cache and closes every file no Result holds; a file
// still held is closed when its last reference is given back. The Cache
// may be used again afterwards.
func (c *Cache) Close() {
	for i, e := range c.ring {
		c.ring[i] = nil
		c.retire(e)
	}
	c.ring = c.ring[:0]
	c.hand = 0
	clear(c.entries)
}

// trimRoot returns root without its trailing slash; "/" becomes "".
func trimRoot(root string) string {
	if root == "/" {
		return ""
	}
	return strings.TrimSuffix(root, "/")
}
