package static

import (
	"strings"

	"gibbon/http1"
)

// fileMeta is what answering a GET or HEAD needs to know about a regular
// file. Its strings are computed once: per request by Serve, per entry by
// a Cache.
type fileMeta struct {
	size    int64
	secs    int64 // modification time in whole seconds, the precision of HTTP dates
	etag    string
	lastMod string
	ctype   string
	// whole is the body of a 200, one Part covering the file, shared by
	// every Result made from this fileMeta; nil makes respond allocate one.
	whole []Part
}

// newFileMeta describes the regular file name whose status is st.
func newFileMeta(st *fileStat, name string, opts *Options) fileMeta {
	return fileMeta{
		size:    st.size,
		secs:    st.mtime.Unix(),
		etag:    makeETag(st.mtime, st.size),
		lastMod: formatHTTPDate(st.mtime),
		ctype:   mimeType(name, opts),
	}
}

// respond answers a GET or HEAD for the file m describes. The Result has
// no File: the caller attaches the file when Parts is not nil (a body is
// to be sent), and otherwise does not need it.
func (m *fileMeta) respond(req *Request, opts *Options) Result {
	res := Result{
		Status:        200,
		ContentType:   m.ctype,
		ContentLength: m.size,
		ETag:          m.etag,
		LastModified:  m.lastMod,
		AcceptRanges:  opts.Resume,
	}
	switch preconditions(req, m.etag, m.secs) {
	case 304:
		return Result{Status: 304, ETag: m.etag, LastModified: m.lastMod}
	case 412:
		return Result{Status: 412}
	}
	if req.Method == http1.MethodHead {
		return res // no body: the caller sends only the headers
	}
	if opts.Resume && len(req.Range) > 0 && ifRangeMatches(req.IfRange, m.etag, m.secs) {
		if res = applyRange(res, req.Range, m.size); res.Status != 200 {
			return res
		}
	}
	if m.size == 0 {
		return res
	}
	res.Parts = m.whole
	if res.Parts == nil {
		res.Parts = []Part{{Offset: 0, Length: m.size}}
	}
	return res
}

// methodAllowed reports whether method may fetch an existing file or
// directory; when it may not, res is the answer (OPTIONS 200 or 405).
func methodAllowed(method http1.Method) (res Result, ok bool) {
	switch method {
	case http1.MethodGet, http1.MethodHead:
		return Result{}, true
	case http1.MethodOptions:
		return Result{Status: 200, Allow: Allow}, false
	}
	return Result{Status: 405, Allow: Allow}, false
}

// mimeType returns the media type for the file name by its extension
// (case-insensitive), without allocating.
func mimeType(name string, opts *Options) string {
	def := opts.DefaultMimeType
	if def == "" {
		def = DefaultMimeType
	}
	dot := strings.LastIndexByte(name, '.')
	if dot < 0 || dot < strings.LastIndexByte(name, '/') || len(opts.Mime) == 0 {
		return def
	}
	ext := name[dot+1:]
	var buf [32]byte
	if len(ext) == 0 || len(ext) > len(buf) {
		return def
	}
	for i := 0; i < len(ext); i++ {
		c := ext[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	if t, ok := opts.Mime[string(buf[:len(ext)])]; ok && t != "" {
		return t
	}
	return def
}
