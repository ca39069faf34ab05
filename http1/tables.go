package http1

// Byte classes, indexed by byte value, built once at package initialisation
// and read-only afterwards.
var (
	// tokenChar: tchar of RFC 9110 §5.6.2 (method tokens, field names,
	// transfer codings).
	tokenChar = makeTable(func(c byte) bool {
		return isAlnum(c) || c != 0 && indexOf("!#$%&'*+-.^_`|~", c)
	})
	// valueChar: field-vchar, SP and HTAB (RFC 9110 §5.5); obs-text allowed.
	// Excludes every other control character, CR, LF, NUL and DEL.
	valueChar = makeTable(func(c byte) bool {
		return c == '\t' || c >= ' ' && c != 0x7f
	})
	// targetChar: bytes allowed in a request-target: visible ASCII except
	// '#' (a fragment is never sent, RFC 9112 §3.2), plus bytes >= 0x80
	// (raw UTF-8 is tolerated, as nginx and net/http do).
	targetChar = makeTable(func(c byte) bool {
		return c > ' ' && c != 0x7f && c != '#'
	})
	// hostChar: reg-name, IP literal and port characters (RFC 3986 §3.2.2).
	// Excludes '@' (userinfo), '/', '\\', whitespace and controls.
	hostChar = makeTable(func(c byte) bool {
		return isAlnum(c) || c != 0 && indexOf("-._~!$&'()*+,;=%:[]", c)
	})
)

func makeTable(f func(c byte) bool) (t [256]bool) {
	for i := range t {
		t[i] = f(byte(i))
	}
	return t
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

func indexOf(s string, c byte) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return true
		}
	}
	return false
}

// eqLower reports whether b equals lower under ASCII case folding, where
// lower holds only lower-case letters, digits and '-', and b holds no
// control characters (a validated token or field value). Then b[i]|0x20
// maps exactly the upper-case letters onto lower-case ones and nothing else
// onto lower's alphabet.
func eqLower(b []byte, lower string) bool {
	if len(b) != len(lower) {
		return false
	}
	for i := 0; i < len(b); i++ {
		if b[i]|0x20 != lower[i] {
			return false
		}
	}
	return true
}

// trimOWS removes optional whitespace (SP, HTAB) from both ends of b.
func trimOWS(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

// nextListElem splits the comma-separated list b (RFC 9110 §5.6.1) and
// returns its first element, trimmed, and the rest after the comma. Empty
// elements are returned as empty slices; callers skip them.
func nextListElem(b []byte) (elem, rest []byte) {
	for i := 0; i < len(b); i++ {
		if b[i] == ',' {
			return trimOWS(b[:i]), b[i+1:]
		}
	}
	return trimOWS(b), nil
}
