package stage

import (
	"context"
	"io"
	"net/netip"
	"time"

	"gibbon/config"
	"gibbon/http1"
)

// ConnInfo describes one client connection. It is a small value; hooks may
// keep copies.
type ConnInfo struct {
	// ID identifies the connection for the life of the server (never 0 for
	// a real connection).
	ID uint64
	// Remote and Local are the peer's and our address. An IPv4 peer on a
	// dual-stack socket may appear as an IPv4-mapped IPv6 address; use
	// Remote.Addr().Unmap() to compare.
	Remote, Local netip.AddrPort
	// Worker is the index of the worker that owns the connection.
	Worker int
	// TLS is set for a connection that arrived on a tls listener.
	TLS bool
	// Accepted is when the connection was accepted.
	Accepted time.Time
}

// VHost is a virtual host as plugins see it. It is built once by [Load]
// and is read-only afterwards.
type VHost struct {
	// Index is the position of the host in config.Config.Hosts (0 is the
	// default host); plugins index their per-host tables with it.
	Index int
	// Name is the first server name, or "default" for a default host
	// without names.
	Name string
	// DocumentRoot is the absolute directory the host serves.
	DocumentRoot string
	// SymLink tells whether symbolic links may be followed below the
	// document root (the server's SymLink setting).
	SymLink bool
	// IndexFiles are the index file names tried for a directory.
	IndexFiles []string
	// Config is the host's configuration, with the sections that belong to
	// plugins. It must not be modified.
	Config *config.Host
}

// Request is what a hook sees of one request.
//
// Lifetime: the server owns the Request and reuses it for the next request
// of the connection. The []byte fields are views into the connection's read
// buffer, valid only until the hook returns; a hook that keeps anything
// copies it or calls [Request.Clone]. Strings may be kept.
//
// A Request is used by one goroutine at a time: hooks of one connection run
// one after the other.
type Request struct {
	// Method is the parsed method; MethodName is the token as sent.
	Method     http1.Method
	MethodName []byte
	// Proto is the protocol version.
	Proto http1.Version
	// Target is the request target as sent (path and query, still
	// percent-encoded). Access logs print it.
	Target []byte
	// Path is the decoded, clean path (static.CleanPath): it begins with
	// "/" and holds no "." or ".." segment. Change it with Rewrite.
	Path string
	// Query is the query string without '?' ("" when there is none).
	// Change it with Rewrite.
	Query string
	// Host is the Host header (or the authority of an absolute target),
	// port included, as sent.
	Host []byte
	// Headers are the request header lines, in order, as views.
	Headers []http1.Header
	// VHost is the virtual host the request was routed to. Never nil for a
	// request that reached stage 20; at stage 40 after a stage-10 refusal it
	// is the default host.
	VHost *VHost
	// Conn is the connection the request arrived on.
	Conn ConnInfo
	// File is the file system path the server resolved for the request (the
	// document root joined with Path), or "" when it did not resolve one.
	// Handlers that read files must still apply the SymLink rule.
	File string
	// Body reads the request body. It is nil except for blocking handlers,
	// which run off the event loop; it returns io.EOF at the end of the
	// body and must not be used after the handler returns.
	Body io.Reader
	// Start is when the request head was complete.
	Start time.Time
	// User is the authenticated user name, set by an authentication
	// filter, "" otherwise. Access logs print it.
	User string

	rewritten bool
	by        string // plugin that answered or refused, see Outcome
	at        Stage
	ctx       context.Context // see Context; nil means Background
}

// Header returns the value of the first header named name (ASCII
// case-insensitive), or nil. The result is a view (see [Request]).
func (r *Request) Header(name string) []byte {
	for i := range r.Headers {
		if equalFold(r.Headers[i].Name, name) {
			return r.Headers[i].Value
		}
	}
	return nil
}

// Rewrite replaces the path and the query of the request. path must be a
// clean decoded path, as static.CleanPath returns it (the rewrite plugin
// cleans its results); the server routes and serves the new path.
func (r *Request) Rewrite(path, query string) {
	r.Path, r.Query, r.rewritten = path, query, true
}

// Rewritten reports whether a filter called Rewrite. The server then serves
// [EscapePath](r.Path) instead of the path as sent.
func (r *Request) Rewritten() bool { return r.rewritten }

// AnsweredBy reports which plugin answered or refused the request, and at
// which stage; "" and 0 when the core or a content handler answered.
func (r *Request) AnsweredBy() (plugin string, at Stage) { return r.by, r.at }

// Reset clears r for the next request, keeping the Headers array.
func (r *Request) Reset() {
	h := r.Headers[:0]
	*r = Request{Headers: h}
}

// Clone returns a deep copy of r that owns its bytes and may be kept after
// the hook returns. Body is not copied (the clone's Body is nil).
func (r *Request) Clone() *Request {
	c := *r
	c.Body = nil
	c.MethodName = clone(r.MethodName)
	c.Target = clone(r.Target)
	c.Host = clone(r.Host)
	c.Headers = make([]http1.Header, len(r.Headers))
	for i, h := range r.Headers {
		c.Headers[i] = http1.Header{Name: clone(h.Name), Value: clone(h.Value)}
	}
	return &c
}

func clone(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append([]byte(nil), b...)
}

func equalFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := 0; i < len(b); i++ {
		x, y := b[i], s[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// EscapePath percent-encodes a clean decoded path so that decoding it once
// (as static.CleanPath does) gives p back: '%', '?', '#', blanks, control
// bytes, '\\' and bytes ≥ 0x80 are encoded; '/' is kept.
func EscapePath(p string) string {
	n := 0
	for i := 0; i < len(p); i++ {
		if escapeByte(p[i]) {
			n++
		}
	}
	if n == 0 {
		return p
	}
	const hex = "0123456789ABCDEF"
	b := make([]byte, 0, len(p)+2*n)
	for i := 0; i < len(p); i++ {
		c := p[i]
		if escapeByte(c) {
			b = append(b, '%', hex[c>>4], hex[c&15])
			continue
		}
		b = append(b, c)
	}
	return string(b)
}

func escapeByte(c byte) bool {
	return c <= ' ' || c >= 0x7f || c == '%' || c == '?' || c == '#' || c == '\\' || c == '"'
}
