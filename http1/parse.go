package http1

import (
	"bytes"
	"strconv"
)

// Default limits used when a [Limits] field is zero or negative (or the
// *Limits is nil).
const (
	// DefaultMaxHeaderBytes bounds the whole request head: leading empty
	// lines, request line, header lines and the final empty line. 16 KiB
	// leaves room for a DefaultMaxURI target plus the usual browser headers
	// and cookies (Apache allows 8190 per line, nginx 8 KiB per line).
	DefaultMaxHeaderBytes = 16 << 10
	// DefaultMaxURI bounds the request-target; RFC 9112 §3 recommends
	// supporting at least 8000 octets.
	DefaultMaxURI = 8000
	// DefaultMaxHeaders bounds the number of header lines (as Apache's
	// LimitRequestFields).
	DefaultMaxHeaders = 100
)

// Limits bounds what [Parse] accepts. The zero value (and a nil *Limits)
// means the defaults. A Limits is read-only during Parse and may be shared.
type Limits struct {
	MaxHeaderBytes int // whole head incl. request line; <= 0 → DefaultMaxHeaderBytes; over → 431
	MaxURI         int // request-target length; <= 0 → DefaultMaxURI; over → 414
	MaxHeaders     int // number of header lines; <= 0 → DefaultMaxHeaders; over → 431
}

func (l *Limits) resolve() (maxHead, maxURI, maxHeaders int) {
	maxHead, maxURI, maxHeaders = DefaultMaxHeaderBytes, DefaultMaxURI, DefaultMaxHeaders
	if l == nil {
		return
	}
	if l.MaxHeaderBytes > 0 {
		maxHead = l.MaxHeaderBytes
	}
	if l.MaxURI > 0 {
		maxURI = l.MaxURI
	}
	if l.MaxHeaders > 0 {
		maxHeaders = l.MaxHeaders
	}
	return
}

// ParseError is a malformed or refused request. Status is the response
// status to send (400, 414, 431, 501, 505); Reason is a short lower-case
// explanation for logs, not API. After a ParseError the connection must be
// closed. The values returned by this package are shared and must not be
// modified.
type ParseError struct {
	Status int
	Reason string
}

// Error returns "http1: <reason> (<status>)".
func (e *ParseError) Error() string {
	return "http1: " + e.Reason + " (" + strconv.Itoa(e.Status) + ")"
}

func perr(status int, reason string) *ParseError {
	return &ParseError{Status: status, Reason: reason}
}

// The errors Parse returns. Sharing them keeps the error path allocation-free.
var (
	errHeadTooLarge     = perr(431, "request head too large")
	errTooManyHeaders   = perr(431, "too many header fields")
	errURITooLong       = perr(414, "request-target too long")
	errBadMethod        = perr(400, "malformed method")
	errBadTarget        = perr(400, "malformed request-target")
	errNoVersion        = perr(400, "missing HTTP version (HTTP/0.9 is not supported)")
	errBadVersion       = perr(400, "malformed HTTP version")
	errVersion          = perr(505, "HTTP version not supported")
	errBadLineEnd       = perr(400, "line not terminated by CRLF")
	errNotImplemented   = perr(501, "method not implemented")
	errAsterisk         = perr(400, "asterisk-form target with a method other than OPTIONS")
	errBadAuthority     = perr(400, "malformed authority")
	errObsFold          = perr(400, "obsolete line folding")
	errBadFieldName     = perr(400, "malformed header field name")
	errSpaceBeforeColon = perr(400, "whitespace between field name and colon")
	errBadFieldValue    = perr(400, "invalid character in header field value")
	errNoHost           = perr(400, "HTTP/1.1 request without Host")
	errDupHost          = perr(400, "more than one Host")
	errBadHost          = perr(400, "malformed Host")
	errBadCL            = perr(400, "malformed Content-Length")
	errDupCL            = perr(400, "conflicting Content-Length values")
	errCLAndTE          = perr(400, "both Content-Length and Transfer-Encoding")
	errTE10             = perr(400, "Transfer-Encoding in an HTTP/1.0 request")
	errBadTE            = perr(400, "chunked is not the final transfer coding")
	errUnknownTE        = perr(501, "transfer coding not implemented")
)

// headEnd terminates a request head.
var headEnd = []byte("\r\n\r\n")

// Parse parses one request head at the start of buf into req (after
// [Request.Reset]) and returns:
//
//   - n > 0, nil: the head is complete; n is its length including leading
//     empty lines and the final CRLF CRLF. The body or the next pipelined
//     request starts at buf[n:].
//   - 0, nil: more bytes are needed, and the bytes so far are within the
//     limits. req's content is then unspecified.
//   - 0, *[ParseError]: the request is malformed or refused.
//
// Line endings must be CRLF. Empty lines (CRLF) before the request line are
// skipped (RFC 9112 §2.2) and count towards n and MaxHeaderBytes. Parse
// does not allocate for a valid request once req.Headers has the capacity
// for its header lines (lim may be nil for the defaults).
//
// Refusals: 400 for a malformed request line, method token, target (a
// character outside visible ASCII and obs-text, a '#', or a '%' not
// followed by two hex digits) or version, a bare CR or bare LF, NUL or another control character (other
// than HTAB) in a field value, an invalid field-name character, whitespace
// between a field name and its colon, obs-fold, HTTP/0.9, an HTTP/1.1
// request without Host, more than one Host or an invalid Host value,
// userinfo, a percent-escape or a non-http(s) scheme in an absolute-form
// target, a percent-escape in a CONNECT target's authority, "*" with a
// method other than OPTIONS, an invalid or conflicting
// Content-Length, both Content-Length and Transfer-Encoding,
// Transfer-Encoding in an HTTP/1.0 request, and a Transfer-Encoding whose
// final coding is not chunked
// (RFC 9112 §6.3); 414 for a target longer than MaxURI; 431 for a head over
// MaxHeaderBytes or more than MaxHeaders lines; 501 for an unknown method
// or a transfer coding other than chunked, gzip, x-gzip, deflate, compress
// and x-compress; 505 for a well-formed version other than 1.0 and 1.1
// (HTTP/2.0, HTTP/1.2, HTTP/3).
//
// Parse only reports malformed bytes of an incomplete head when they are in
// a complete request line or when a limit is already exceeded; the rest is
// checked once the head is complete.
func Parse(buf []byte, req *Request, lim *Limits) (n int, err error) {
	req.Reset()
	maxHead, maxURI, maxHeaders := lim.resolve()
	start := skipEmptyLines(buf)
	// A head within the limit ends within buf[:maxHead]; don't look further.
	limit := max(min(len(buf), maxHead), start)
	end := bytes.Index(buf[start:limit], headEnd)
	if end < 0 {
		return 0, checkPartial(buf, start, limit, req, maxHead, maxURI)
	}
	n = start + end + len(headEnd)
	head := buf[start:n]
	pos, err := parseRequestLine(head, req, maxURI)
	if err != nil {
		return 0, err
	}
	if n > maxHead {
		return 0, errHeadTooLarge
	}
	if err := parseFields(head, pos, req, maxHeaders); err != nil {
		return 0, err
	}
	return n, nil
}

// skipEmptyLines returns the offset of the first byte after leading CRLFs.
func skipEmptyLines(buf []byte) int {
	i := 0
	for i+1 < len(buf) && buf[i] == '\r' && buf[i+1] == '\n' {
		i += 2
	}
	return i
}

// checkPartial vets an incomplete head: a complete request line is
// validated, a target already over maxURI is 414, and a head that cannot
// end within maxHead is 431.
func checkPartial(buf []byte, start, limit int, req *Request, maxHead, maxURI int) error {
	rest := buf[start:limit]
	if lf := bytes.IndexByte(rest, '\n'); lf >= 0 {
		if _, err := parseRequestLine(rest[:lf+1], req, maxURI); err != nil {
			return err
		}
	} else if sp := bytes.IndexByte(rest, ' '); sp >= 0 {
		target := rest[sp+1:]
		if sp2 := bytes.IndexByte(target, ' '); sp2 >= 0 {
			target = target[:sp2]
		}
		if len(target) > maxURI {
			return errURITooLong
		}
	}
	// The head needs at least one more byte, so it would exceed maxHead.
	if len(buf) >= maxHead {
		return errHeadTooLarge
	}
	return nil
}

// parseRequestLine parses "method SP request-target SP HTTP-version CRLF" at
// the start of b and returns the offset just past its CRLF.
func parseRequestLine(b []byte, req *Request, maxURI int) (int, error) {
	i := 0
	for i < len(b) && tokenChar[b[i]] {
		i++
	}
	if i == 0 || i == len(b) || b[i] != ' ' {
		return 0, errBadMethod
	}
	req.MethodName = b[:i]
	req.Method = lookupMethod(b[:i])

	i++
	t := i
	i = scanTarget(b, i)
	if i-t > maxURI {
		return 0, errURITooLong
	}
	if i == t || i == len(b) {
		return 0, errBadTarget
	}
	if b[i] != ' ' {
		if b[i] == '\r' || b[i] == '\n' {
			return 0, errNoVersion
		}
		return 0, errBadTarget
	}
	req.Target = b[t:i]

	i, err := parseVersion(b, i+1, req)
	if err != nil {
		return 0, err
	}
	if req.Method == MethodUnknown {
		return 0, errNotImplemented
	}
	if err := splitTarget(req); err != nil {
		return 0, err
	}
	return i, nil
}

// parseVersion parses HTTP-version CRLF at b[i:]. The grammar is
// "HTTP/" DIGIT "." DIGIT; "HTTP/" DIGIT alone (HTTP/2, HTTP/3) is taken as
// well-formed too so that it answers 505 rather than 400.
func parseVersion(b []byte, i int, req *Request) (int, error) {
	if len(b)-i < len("HTTP/1\r\n") || string(b[i:i+5]) != "HTTP/" || !isDigit(b[i+5]) {
		return 0, errBadVersion
	}
	major, minor := b[i+5], byte(0)
	i += 6
	if b[i] == '.' {
		if i+1 >= len(b) || !isDigit(b[i+1]) {
			return 0, errBadVersion
		}
		minor = b[i+1]
		i += 2
	}
	switch {
	case i < len(b) && b[i] == '\n':
		return 0, errBadLineEnd
	case i+1 >= len(b) || b[i] != '\r':
		return 0, errBadVersion
	case b[i+1] != '\n':
		return 0, errBadLineEnd
	}
	switch {
	case major == '1' && minor == '1':
		req.Version = Version11
	case major == '1' && minor == '0':
		req.Version = Version10
	default:
		return 0, errVersion
	}
	return i + 2, nil
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// splitTarget classifies req.Target (RFC 9112 §3.2) and sets Path, Query
// and, for the absolute-form, Host.
func splitTarget(req *Request) error {
	t := req.Target
	if !validPercent(t) {
		return errBadTarget
	}
	switch {
	case req.Method == MethodConnect:
		// authority-form: host:port, no path.
		if !validTargetAuthority(t) {
			return errBadAuthority
		}
		return nil
	case t[0] == '/':
		req.Path, req.Query = splitQuery(t)
		return nil
	case t[0] == '*':
		if len(t) != 1 || req.Method != MethodOptions {
			return errAsterisk
		}
		req.Path = t
		return nil
	}
	return splitAbsolute(req, t)
}

// splitQuery splits an origin-form or path-abempty target at the first '?'.
func splitQuery(t []byte) (path, query []byte) {
	if q := bytes.IndexByte(t, '?'); q >= 0 {
		return t[:q], t[q+1:]
	}
	return t, nil
}

// splitAbsolute handles "http://authority/path?query". Only the http and
// https schemes are accepted; userinfo is refused (RFC 9110 §4.2.4), and
// so is a percent-escape in the authority (below).
func splitAbsolute(req *Request, t []byte) error {
	i := 0
	for i < len(t) && t[i] != ':' {
		i++
	}
	scheme := t[:i]
	if !eqLower(scheme, "http") && !eqLower(scheme, "https") {
		return errBadTarget
	}
	if len(t)-i < 3 || t[i+1] != '/' || t[i+2] != '/' {
		return errBadTarget
	}
	a := i + 3
	j := a
	for j < len(t) && t[j] != '/' && t[j] != '?' {
		j++
	}
	auth := t[a:j]
	if !validTargetAuthority(auth) {
		return errBadAuthority
	}
	req.Host = auth
	rest := t[j:]
	if len(rest) == 0 || rest[0] != '/' {
		// No path: it is "/" (RFC 9110 §4.2.3); view the '/' of "://" so
		// that Path still lies in the caller's buffer.
		req.Path = t[i+1 : i+2]
		if len(rest) > 0 && rest[0] == '?' {
			req.Query = rest[1:]
		}
		return nil
	}
	req.Path, req.Query = splitQuery(rest)
	return nil
}

// validTargetAuthority reports whether the authority of an absolute-form
// or authority-form target is a non-empty valid host (validHost) without
// a percent-escape. Escapes are refused although RFC 3986 allows them: no
// client sends one (browsers send IDNs as punycode), net/url refuses the
// ASCII ones ("%00" would put a NUL in the host) and decodes the others,
// so servers and proxies would read the same target as different hosts.
func validTargetAuthority(auth []byte) bool {
	return len(auth) > 0 && validHost(auth) && bytes.IndexByte(auth, '%') < 0
}

// validHost reports whether b is empty or uri-host [ ":" port ]
// (RFC 3986 §3.2.2): an IP literal in brackets or a reg-name (which covers
// IPv4 addresses) with valid percent-encoding, then an optional all-digit
// port. Userinfo is not allowed.
func validHost(b []byte) bool {
	if len(b) == 0 {
		return true
	}
	var host, port []byte
	if b[0] == '[' {
		end := bytes.IndexByte(b, ']')
		if end < 0 {
			return false
		}
		host, port = b[1:end], b[end+1:]
		for _, c := range host {
			if !isHex(c) && c != ':' && c != '.' {
				return false
			}
		}
		if len(host) == 0 {
			return false
		}
	} else {
		host, port = b, nil
		if i := bytes.IndexByte(b, ':'); i >= 0 {
			host, port = b[:i], b[i:]
		}
		for _, c := range host {
			if !hostChar[c] || c == ':' || c == '[' || c == ']' {
				return false
			}
		}
		if len(host) == 0 || !validPercent(host) {
			return false
		}
	}
	if len(port) == 0 {
		return true
	}
	if port[0] != ':' {
		return false
	}
	for _, c := range port[1:] {
		if !isDigit(c) {
			return false
		}
	}
	return true
}

// validPercent reports whether every '%' in b starts a pct-encoded triplet
// ("%" HEXDIG HEXDIG, RFC 3986 §2.1).
func validPercent(b []byte) bool {
	for {
		i := bytes.IndexByte(b, '%')
		if i < 0 {
			return true
		}
		if len(b)-i < 3 || !isHex(b[i+1]) || !isHex(b[i+2]) {
			return false
		}
		b = b[i+3:]
	}
}

func isHex(c byte) bool {
	_, ok := unhex(c)
	return ok
}

// fieldState carries what parseFields learns across header lines.
type fieldState struct {
	hosts        int
	host         []byte
	connClose    bool
	connKeep     bool
	te           bool // a Transfer-Encoding line was seen
	teChunked    int  // how many times chunked was listed
	teLastChunk  bool // the last listed coding was chunked
	teUnknown    bool // a coding this server does not know was listed
	absoluteForm bool
}

// parseFields parses the header section of head from pos, which must end
// with CRLF CRLF (Parse guarantees it), then applies the cross-field rules.
func parseFields(head []byte, pos int, req *Request, maxHeaders int) error {
	st := fieldState{absoluteForm: req.Host != nil}
	for head[pos] != '\r' {
		if head[pos] == ' ' || head[pos] == '\t' {
			return errObsFold
		}
		s := pos
		for tokenChar[head[pos]] {
			pos++
		}
		if head[pos] != ':' || pos == s {
			if head[pos] == ' ' || head[pos] == '\t' {
				return errSpaceBeforeColon
			}
			return errBadFieldName
		}
		name := head[s:pos]
		pos++
		for head[pos] == ' ' || head[pos] == '\t' {
			pos++
		}
		vs := pos
		pos = scanValue(head, pos)
		if head[pos] != '\r' {
			if head[pos] == '\n' {
				return errBadLineEnd
			}
			return errBadFieldValue
		}
		if head[pos+1] != '\n' {
			return errBadLineEnd
		}
		value := trimOWS(head[vs:pos])
		pos += 2
		if len(req.Headers) == maxHeaders {
			return errTooManyHeaders
		}
		req.Headers = append(req.Headers, Header{Name: name, Value: value})
		if err := st.field(req, name, value); err != nil {
			return err
		}
	}
	if head[pos+1] != '\n' {
		return errBadLineEnd
	}
	return st.finish(req)
}

// field applies the meaning of the header fields this package interprets.
func (st *fieldState) field(req *Request, name, value []byte) error {
	switch len(name) {
	case 4:
		if eqLower(name, "host") {
			st.hosts++
			if st.hosts > 1 {
				return errDupHost
			}
			if !validHost(value) {
				return errBadHost
			}
			st.host = value
		}
	case 5:
		if eqLower(name, "range") {
			setFirst(&req.Range, value)
		}
	case 6:
		if eqLower(name, "expect") {
			st.expect(req, value)
		}
	case 7:
		if eqLower(name, "upgrade") {
			setFirst(&req.Upgrade, value)
		}
	case 8:
		if eqLower(name, "if-match") {
			setFirst(&req.IfMatch, value)
		} else if eqLower(name, "if-range") {
			setFirst(&req.IfRange, value)
		}
	case 10:
		if eqLower(name, "connection") {
			st.connection(value)
		}
	case 13:
		if eqLower(name, "if-none-match") {
			setFirst(&req.IfNoneMatch, value)
		}
	case 14:
		if eqLower(name, "content-length") {
			return contentLength(req, value)
		}
	case 17:
		if eqLower(name, "transfer-encoding") {
			st.transferEncoding(value)
		} else if eqLower(name, "if-modified-since") {
			setFirst(&req.IfModifiedSince, value)
		}
	case 19:
		if eqLower(name, "if-unmodified-since") {
			setFirst(&req.IfUnmodifiedSince, value)
		}
	}
	return nil
}

// setFirst records the first value of a header; later duplicates are kept
// in Headers only. A present but empty value is recorded as a non-nil empty
// view so that presence can be told from absence.
func setFirst(dst *[]byte, value []byte) {
	if *dst == nil {
		*dst = value
	}
}

func (st *fieldState) expect(req *Request, value []byte) {
	for rest := value; len(rest) > 0; {
		var e []byte
		e, rest = nextListElem(rest)
		if eqLower(e, "100-continue") {
			req.Expect100 = true
		}
	}
}

func (st *fieldState) connection(value []byte) {
	connectionOptions(value, &st.connClose, &st.connKeep)
}

// connectionOptions sets *sawClose and *sawKeep when the Connection value lists
// close and keep-alive; it never clears them.
func connectionOptions(value []byte, sawClose, sawKeep *bool) {
	for rest := value; len(rest) > 0; {
		var opt []byte
		opt, rest = nextListElem(rest)
		switch {
		case eqLower(opt, "close"):
			*sawClose = true
		case eqLower(opt, "keep-alive"):
			*sawKeep = true
		}
	}
}

func (st *fieldState) transferEncoding(value []byte) {
	st.te = true
	for rest := value; len(rest) > 0; {
		var coding []byte
		coding, rest = nextListElem(rest)
		if len(coding) == 0 {
			continue
		}
		// Drop transfer-parameters (";q=..." and the like).
		if k := bytes.IndexByte(coding, ';'); k >= 0 {
			coding = trimOWS(coding[:k])
		}
		st.teLastChunk = false
		switch {
		case eqLower(coding, "chunked"):
			st.teChunked++
			st.teLastChunk = true
		case eqLower(coding, "gzip"), eqLower(coding, "x-gzip"),
			eqLower(coding, "deflate"), eqLower(coding, "compress"),
			eqLower(coding, "x-compress"):
		default:
			st.teUnknown = true
		}
	}
}

// contentLength parses a Content-Length value: 1*DIGIT, or a list of equal
// values ("5, 5"), without overflow. A second Content-Length line must
// agree with the first.
func contentLength(req *Request, value []byte) error {
	cl, ok := parseListedLength(value)
	if !ok {
		return errBadCL
	}
	if req.ContentLength >= 0 && req.ContentLength != cl {
		return errDupCL
	}
	req.ContentLength = cl
	return nil
}

// parseDecimal parses 1*DIGIT into a non-negative int64.
func parseDecimal(b []byte) (int64, bool) {
	if len(b) == 0 {
		return 0, false
	}
	var v int64
	for _, c := range b {
		if !isDigit(c) {
			return 0, false
		}
		d := int64(c - '0')
		if v > (1<<63-1-d)/10 {
			return 0, false
		}
		v = v*10 + d
	}
	return v, true
}

// finish applies the rules that need the whole header section.
func (st *fieldState) finish(req *Request) error {
	if req.Version == Version11 && st.hosts == 0 {
		return errNoHost
	}
	if !st.absoluteForm {
		req.Host = st.host
	}
	if st.te {
		switch {
		case req.ContentLength >= 0:
			return errCLAndTE
		case req.Version == Version10:
			return errTE10
		case st.teUnknown:
			return errUnknownTE
		case st.teChunked != 1 || !st.teLastChunk:
			return errBadTE
		}
		req.Chunked = true
	}
	if req.Version == Version11 {
		req.KeepAlive = !st.connClose
	} else {
		req.KeepAlive = st.connKeep && !st.connClose
		req.Expect100 = false
	}
	return nil
}
