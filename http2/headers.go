package http2

import (
	"strings"

	"golang.org/x/net/http2/hpack"
)

// parseRequest fills the request fields of s from a decoded header list and
// reports whether the request is well-formed (RFC 9113 §8.1.1, §8.2, §8.3).
// A malformed request is a stream error of type PROTOCOL_ERROR.
func parseRequest(s *Stream, fields []hpack.HeaderField) bool {
	var seen uint8 // bits: method, scheme, authority, path
	regular := 0
	for i, f := range fields {
		if len(f.Name) > 0 && f.Name[0] == ':' {
			if i > 0 && regular > 0 {
				return false // pseudo-header after a regular field
			}
			if !setPseudo(s, f, &seen) {
				return false
			}
			continue
		}
		regular++
		if !validField(f) || !checkRequestField(s, f) {
			return false
		}
	}
	const method, scheme, authority, path = 1, 2, 4, 8
	if s.Method == "CONNECT" {
		// RFC 9113 §8.5: only :method and :authority.
		if seen&(scheme|path) != 0 || s.Authority == "" {
			return false
		}
	} else {
		if seen&(method|scheme|path) != method|scheme|path || s.Path == "" {
			return false
		}
		if s.Path[0] != '/' && !(s.Path == "*" && s.Method == "OPTIONS") {
			return false
		}
	}
	if regular > 0 {
		s.Header = make([]HeaderField, 0, regular)
		for _, f := range fields {
			if f.Name[0] != ':' {
				s.Header = append(s.Header, HeaderField{f.Name, f.Value})
			}
		}
	}
	if s.Authority == "" {
		s.Authority = s.HeaderValue("host")
	}
	return true
}

// setPseudo records one request pseudo-header field; duplicates, empty
// values and unknown or response pseudo-headers are malformed.
func setPseudo(s *Stream, f hpack.HeaderField, seen *uint8) bool {
	var bit uint8
	var dst *string
	switch f.Name {
	case ":method":
		bit, dst = 1, &s.Method
	case ":scheme":
		bit, dst = 2, &s.Scheme
	case ":authority":
		bit, dst = 4, &s.Authority
	case ":path":
		bit, dst = 8, &s.Path
	default:
		return false // :status, :protocol (extended CONNECT is not offered), unknown
	}
	if *seen&bit != 0 || f.Value == "" && bit != 4 {
		return false
	}
	if bit == 1 && !validToken(f.Value) || !validValue(f.Value) {
		return false
	}
	*seen |= bit
	*dst = f.Value
	return true
}

// checkRequestField applies the rules on particular regular fields.
func checkRequestField(s *Stream, f hpack.HeaderField) bool {
	switch {
	case connectionSpecific(f.Name):
		return false
	case f.Name == "te":
		return f.Value == "trailers"
	case f.Name == "content-length":
		n, ok := parseContentLength(f.Value)
		if !ok || s.ContentLength >= 0 && s.ContentLength != n {
			return false
		}
		s.ContentLength = n
	}
	return true
}

// parseTrailers validates and stores the request trailers. A field that
// must not be a trailer ([forbiddenTrailer]) is treated as x/net/http2's
// server treats it: the stream is malformed when the request announced
// trailers (see [announcesTrailers]); otherwise the field is dropped, as
// x/net drops unannounced trailers.
func parseTrailers(s *Stream, fields []hpack.HeaderField) bool {
	announced := announcesTrailers(s)
	n := 0
	for _, f := range fields {
		switch {
		case len(f.Name) > 0 && f.Name[0] == ':' || !validField(f) || connectionSpecific(f.Name):
			return false
		case !forbiddenTrailer(f.Name):
			n++
		case announced:
			return false
		}
	}
	if n > 0 {
		s.Trailer = make([]HeaderField, 0, n)
		for _, f := range fields {
			if !forbiddenTrailer(f.Name) {
				s.Trailer = append(s.Trailer, HeaderField{f.Name, f.Value})
			}
		}
	}
	return true
}

// announcesTrailers reports whether the request's "trailer" fields name a
// key other than transfer-encoding, trailer and content-length (any case),
// the keys x/net/http2's server ignores; an empty element counts, as it
// does there.
func announcesTrailers(s *Stream) bool {
	for _, f := range s.Header {
		if f.Name != "trailer" {
			continue
		}
		for key := range strings.SplitSeq(f.Value, ",") {
			key = strings.Trim(key, " \t")
			if !strings.EqualFold(key, "transfer-encoding") && !strings.EqualFold(key, "trailer") &&
				!strings.EqualFold(key, "content-length") {
				return true
			}
		}
	}
	return false
}

// forbiddenTrailer reports whether the lower-case name may not be a
// trailer field: the names of x/net/http2's httpguts.ValidTrailerHeader
// (framing, routing, request modifiers, authentication, content handling;
// RFC 9110 §6.5.1), any "if-" precondition included.
func forbiddenTrailer(name string) bool {
	switch name {
	case "authorization", "cache-control", "connection", "content-encoding", "content-length",
		"content-range", "content-type", "expect", "host", "keep-alive", "max-forwards", "pragma",
		"proxy-authenticate", "proxy-authorization", "proxy-connection", "range", "realm", "te",
		"trailer", "transfer-encoding", "www-authenticate":
		return true
	}
	return strings.HasPrefix(name, "if-")
}

func parseContentLength(v string) (int64, bool) {
	if v == "" || len(v) > 18 {
		return 0, false
	}
	var n int64
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// connectionSpecific reports whether name (any case) is a
// connection-specific field, which HTTP/2 forbids (RFC 9113 §8.2.2).
func connectionSpecific(name string) bool {
	switch len(name) {
	case 7:
		return strings.EqualFold(name, "upgrade")
	case 10:
		return strings.EqualFold(name, "connection") || strings.EqualFold(name, "keep-alive")
	case 16:
		return strings.EqualFold(name, "proxy-connection")
	case 17:
		return strings.EqualFold(name, "transfer-encoding")
	}
	return false
}

// validField checks a regular field: a non-empty lower-case token name
// (RFC 9113 §8.2.1: no 0x00-0x20, 0x41-0x5a, 0x7f-0xff) and a valid value.
func validField(f hpack.HeaderField) bool {
	if f.Name == "" {
		return false
	}
	for i := 0; i < len(f.Name); i++ {
		if !tokenTable[f.Name[i]] || 'A' <= f.Name[i] && f.Name[i] <= 'Z' {
			return false
		}
	}
	return validValue(f.Value)
}

// validValue checks a field value: no NUL, CR or LF, and no leading or
// trailing space or tab (RFC 9113 §8.2.1).
func validValue(v string) bool {
	if v == "" {
		return true
	}
	if v[0] == ' ' || v[0] == '\t' || v[len(v)-1] == ' ' || v[len(v)-1] == '\t' {
		return false
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; c == 0 || c == '\r' || c == '\n' {
			return false
		}
	}
	return true
}

func validToken(v string) bool {
	for i := 0; i < len(v); i++ {
		if !tokenTable[v[i]] {
			return false
		}
	}
	return v != ""
}

// tokenTable marks the tchar octets of RFC 9110 §5.6.2.
var tokenTable = func() (t [256]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c], t[c-'a'+'A'] = true, true
	}
	for _, c := range "!#$%&'*+-.^_`|~" {
		t[c] = true
	}
	return t
}()

func hasUpper(s string) bool {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			return true
		}
	}
	return false
}

func lower(s string) string { return strings.ToLower(s) }
