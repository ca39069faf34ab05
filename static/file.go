package static

import (
	"os"
	"strings"

	"gibbon/http1"
)

// serveFile answers a GET or HEAD for the open regular file f.
func serveFile(f *os.File, info os.FileInfo, name string, req *Request, opts *Options) Result {
	size := info.Size()
	mtime := info.ModTime()
	secs := mtime.Unix()
	res := Result{
		Status:        200,
		File:          f,
		ContentType:   mimeType(name, opts),
		ContentLength: size,
		ETag:          makeETag(mtime, size),
		LastModified:  formatHTTPDate(mtime),
		AcceptRanges:  opts.Resume,
	}
	switch preconditions(req, res.ETag, secs) {
	case 304:
		res.Close()
		return Result{Status: 304, ETag: res.ETag, LastModified: res.LastModified}
	case 412:
		res.Close()
		return Result{Status: 412}
	}
	if req.Method == http1.MethodHead {
		res.Close() // no body: the caller sends only the headers
		return res
	}
	if opts.Resume && len(req.Range) > 0 && ifRangeMatches(req.IfRange, res.ETag, secs) {
		if res = applyRange(res, req.Range, size); res.Status != 200 {
			return res
		}
	}
	if size == 0 {
		res.Close()
		return res
	}
	res.Parts = []Part{{Offset: 0, Length: size}}
	return res
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
