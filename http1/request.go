package http1

// Header is one header field line. Name and Value are views into the buffer
// given to [Parse]; Value has its surrounding whitespace removed.
type Header struct{ Name, Value []byte }

// Request is a parsed request head.
//
// All []byte fields are views into the buffer passed to [Parse] and are valid
// only until that buffer is reused. A Request may be reused for the next
// request of a connection: Parse calls [Request.Reset] first, which keeps the
// backing array of Headers so that a warmed-up Request parses without
// allocating. The zero value is ready for Parse. A Request is not safe for
// concurrent use.
type Request struct {
	Method     Method // MethodUnknown never survives Parse (it is a 501)
	MethodName []byte // the method token as sent
	Target     []byte // request-target as sent

	// Path is the still percent-encoded path: the origin-form path, the path
	// of an absolute-form target ("/" if it has none), or "*" for the
	// asterisk-form. It is nil for CONNECT (authority-form).
	Path []byte
	// Query is the part of the target after '?', without it; nil if the
	// target has no '?', empty (not nil) for a bare "?".
	Query []byte

	Version Version
	// Host is the authority of an absolute-form target, else the Host header
	// value; it may carry ":port" and may be empty (RFC 9112 §3.2).
	Host []byte
	// Headers holds every header line in order, duplicates included.
	Headers []Header

	ContentLength int64 // -1 when the request has no Content-Length
	Chunked       bool  // Transfer-Encoding has chunked as its final coding
	// KeepAlive tells whether the connection persists after this request:
	// HTTP/1.1 unless Connection lists "close"; HTTP/1.0 only when
	// Connection lists "keep-alive" and not "close".
	KeepAlive bool
	// Expect100 is set for an HTTP/1.1 request with Expect: 100-continue
	// (RFC 9110 §10.1.1: ignored for HTTP/1.0).
	Expect100 bool
	// Upgrade is the first Upgrade header value, nil if none.
	Upgrade []byte

	// The first value of each conditional and range header, nil if absent,
	// cached for the static file handler.
	IfNoneMatch, IfModifiedSince, IfRange, Range, IfMatch, IfUnmodifiedSince []byte
}

// Reset clears r for reuse, keeping the backing array of r.Headers.
func (r *Request) Reset() {
	h := r.Headers[:0]
	*r = Request{Headers: h, ContentLength: -1}
}

// Header returns the value of the first header whose name equals name,
// compared case-insensitively (ASCII), or nil if there is none. It does not
// allocate.
func (r *Request) Header(name string) []byte {
	for i := range r.Headers {
		if equalFold(r.Headers[i].Name, name) {
			return r.Headers[i].Value
		}
	}
	return nil
}

// HasBody reports whether a request body follows the head.
func (r *Request) HasBody() bool { return r.ContentLength > 0 || r.Chunked }

// equalFold reports whether b and s are equal under ASCII case folding.
func equalFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := 0; i < len(b); i++ {
		if lower(b[i]) != lower(s[i]) {
			return false
		}
	}
	return true
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}
