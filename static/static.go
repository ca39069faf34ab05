package static

import (
	"os"

	"gibbon/http1"
)

// Allow is the value of the Allow header for a static file: the methods
// Serve answers.
const Allow = "GET, HEAD, OPTIONS"

// MaxRanges is the most byte ranges one Range header may ask for. A request
// with more is answered with the whole file (200), as is one whose ranges
// add up to more than the file: both are ways to make a server do much work
// (and send many part headers) for a small request, and RFC 9110 §14.2
// lets a server ignore such a Range.
const MaxRanges = 16

// DefaultMimeType is used when neither Options.Mime nor
// Options.DefaultMimeType gives a type.
const DefaultMimeType = "application/octet-stream"

// Options are the static-file settings of a server or virtual host. Serve
// only reads them; one Options may be shared by concurrent calls.
type Options struct {
	// IndexFiles are tried in order for a path ending in "/". Names holding
	// a "/" (and "." and "..") are skipped.
	IndexFiles []string
	// Resume allows byte ranges (Range, If-Range, Accept-Ranges).
	Resume bool
	// SymLink allows symbolic links. When false, a link anywhere between
	// the document root and the file (the file included) answers 403; the
	// root itself may be a link. When true, links are followed wherever
	// they point, even out of the document root: whoever can create a link
	// in the document root is trusted with the files the server can read.
	SymLink bool
	// DefaultMimeType is the Content-Type of a file whose extension is not
	// in Mime; "" means [DefaultMimeType].
	DefaultMimeType string
	// Mime maps a lower-case extension without its dot to a media type.
	Mime map[string]string
	// UserDir, when not "", serves "/~name/rest" from
	// "<home of user name>/<UserDir>/rest". When "", "~" is an ordinary
	// path byte.
	UserDir string
}

// Request is what Serve needs from an HTTP request. The []byte fields are
// only read, and only during the call; they may be views into a parser's
// buffer. An empty field means the header is absent.
type Request struct {
	Method http1.Method
	// Path is the raw, still percent-encoded path of the request target,
	// without the query.
	Path []byte
	// Conditional and range headers, as sent.
	IfNoneMatch, IfModifiedSince, IfRange, Range, IfMatch, IfUnmodifiedSince []byte
}

// Part is one piece of a response body: the Prefix bytes, then Length bytes
// of the file starting at Offset (of Result.Body when it is set, else of
// Result.File).
type Part struct {
	Prefix []byte
	Offset int64
	Length int64
}

// Result is the answer Serve (or [Cache.Serve]) chose. The caller writes
// the status line and headers from it, then the body: for each Part its
// Prefix and its file bytes, then Trailer.
//
// When Parts is not nil exactly one of File and Body is set: Body for a
// small file a [Cache] keeps in memory, File otherwise (always from
// Serve). The caller owns the Result's hold on File and must give it back
// once the body is sent or abandoned, with Close (or, for a Cache's
// Result, [Cache.ReleaseFile]). From Serve the file is the Result's own;
// from a Cache it is shared with the cache and with other Results: never
// close it directly, seek it or change it, and read it only at explicit
// offsets (pread, sendfile with an offset). Body needs no release. Parts,
// Prefix, Trailer and Body are read-only (a Cache's are shared).
//
// For a status without a body, and for HEAD, File, Body and Parts are nil. For an
// error status (400, 403, 404, 405, 412, 500) only Status (and Allow for
// 405) is set; the caller renders the error page.
type Result struct {
	// Status is the response status: 200, 206, 301, 304, 400, 403, 404,
	// 405, 412, 416 or 500.
	Status int
	// Location is set for 301 (a directory named without its trailing
	// slash): the request path as sent, with "/" appended. The caller
	// appends the query, if any.
	Location string
	// Allow is set for 405 and for OPTIONS.
	Allow string
	// File is the open file the Parts are read from, or nil.
	File *os.File
	// Body, when not nil, is the whole content of the file, which the
	// Parts' offsets index (Body[Offset:Offset+Length]): a file a Cache
	// keeps in memory. It is shared with the cache and other Results and
	// never modified; it stays valid as long as it is referenced, with
	// nothing to release (see [Cache]).
	Body []byte
	// ContentType is the Content-Type header (for multiple ranges,
	// "multipart/byteranges; boundary=...").
	ContentType string
	// ContentLength is the body length: the sum of the Parts (prefixes
	// included) and the Trailer. For HEAD it is the length a GET would
	// send. It is 0 for 301, 304, OPTIONS and the error statuses, and
	// must not be written for 304.
	ContentLength int64
	// ETag and LastModified are the validators of the file (set for 200,
	// 206 and 304).
	ETag         string
	LastModified string
	// ContentRange is set for a single-range 206 ("bytes a-b/size") and
	// for 416 ("bytes */size").
	ContentRange string
	// AcceptRanges asks for "Accept-Ranges: bytes" (200 and 206 when
	// ranges are allowed).
	AcceptRanges bool
	// Parts is the body: one Part with an empty Prefix for a 200 or a
	// single-range 206, one Part per range with its part header as Prefix
	// for multipart/byteranges. It is nil when the body is empty.
	Parts []Part
	// Trailer is written after the last Part: the closing boundary of a
	// multipart body, else nil.
	Trailer []byte

	// ent is the Cache entry whose file File is, holding one reference,
	// or nil when File (if any) belongs to the Result.
	ent *entry
}

// Close releases File, if any: it closes a file Serve opened, and gives
// back the reference to a file shared by a [Cache] (which closes it only
// once its entry is gone and no Result refers to it). It may be called
// from any goroutine for a [SharedCache]'s Result, and leaves Body alone. It is safe to call
// more than once on the same Result, but a Result's reference must be
// released once in all: by Close on one copy of the Result, or by
// [Cache.ReleaseFile], not both.
func (r *Result) Close() {
	if r.ent != nil {
		r.ent.cache.release(r.ent)
		r.ent, r.File = nil, nil
		return
	}
	if r.File != nil {
		r.File.Close()
		r.File = nil
	}
}

// Serve finds the file for req under root and decides the response. root
// should be an absolute directory path; "" answers 500. Serve does no socket
// I/O and is safe for concurrent use. A [Cache] answers the same way from
// open files kept between requests.
//
// Cost: on the usual path one open (with O_NOATIME) and one fstat system
// call (the os package adds two fcntl and one epoll_ctl, which fails for a
// regular file and leaves it out of the poller), plus one lstat per
// directory level below the root when SymLink is off, and one open per
// index file tried for a path ending in "/". A GET of a file allocates
// seven times: the joined path, the kernel path copy, the *os.File (two),
// the ETag and Last-Modified strings and the one-element Parts slice. A
// multipart answer adds the shared part-header buffer and its Parts slice.
//
// A directory path ("/dir/") with no index file answers 403 whatever the
// method; any other existing file or directory answers OPTIONS with 200 and
// other methods than GET, HEAD and OPTIONS with 405.
func Serve(root string, req *Request, opts *Options) Result {
	t, status := locate(root, req.Path, opts)
	if status != 0 {
		return Result{Status: status}
	}
	var st fileStat
	f, name, status := t.open(opts, &st)
	if status != 0 {
		return Result{Status: status}
	}
	switch {
	case st.isDir():
		f.Close()
		return redirectDir(req)
	case !st.isRegular():
		f.Close()
		return Result{Status: 403}
	}
	if res, ok := methodAllowed(req.Method); !ok {
		f.Close()
		return res
	}
	m := newFileMeta(&st, name, opts)
	res := m.respond(req, opts)
	if res.Parts == nil {
		f.Close()
	} else {
		res.File = f
	}
	return res
}

// redirectDir answers a directory named without its trailing slash.
func redirectDir(req *Request) Result {
	if res, ok := methodAllowed(req.Method); !ok {
		return res
	}
	// Keep the path as sent (percent-encoding included) but never let it
	// begin with "//": "//evil.example/" would be a network-path reference
	// sending the client to another host.
	p := req.Path
	for len(p) > 1 && p[1] == '/' {
		p = p[1:]
	}
	return Result{Status: 301, Location: string(p) + "/"}
}
