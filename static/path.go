package static

// CleanPath turns the raw, percent-encoded path of a request target into the
// clean path used to find a file. It returns the path and 0, or "" and the
// status to answer (always 400). The rules, in order:
//
//   - The path must begin with "/" and must not hold a space or an ASCII
//     control byte (the HTTP parser already refuses those; this is a second
//     line of defence for other callers).
//   - It is percent-decoded exactly once: "%252e" becomes "%2e", never ".".
//     A '%' not followed by two hex digits is an error.
//   - A NUL or a backslash, raw or encoded (%00, %5C), is an error: NUL
//     truncates paths in C and backslash is a separator on other systems.
//   - An encoded slash (%2F) is an error. Decoded, it would be
//     indistinguishable from a real separator, so "/a%2Fb" and "/a/b" would
//     name the same file while proxies, rewrite rules and access rules in
//     front of us see different paths; refusing it removes the ambiguity.
//   - Empty segments collapse ("//" becomes "/").
//   - Dot segments are removed as in RFC 3986 §5.2.4, after decoding, so
//     "%2e%2e" counts as "..". A ".." that would climb above "/" is an error
//     (RFC 3986 would silently drop it; a client sending it is probing).
//   - A trailing slash is kept, and a path ending in "/." or "/.." gets one:
//     it names a directory.
//
// The result begins with "/", has no empty, "." or ".." segment, no NUL and
// no backslash. It may contain any other byte, including '%' (from "%25").
// CleanPath allocates only the returned string.
func CleanPath(raw []byte) (string, int) {
	var stack [512]byte
	buf, status := appendClean(stack[:0], raw)
	if status != 0 {
		return "", status
	}
	return string(buf), 0
}

// appendClean appends the clean form of raw to dst. The clean path's
// leading "/" is dst[len(dst)] on return; ".." never removes bytes of dst
// that were there before the call.
func appendClean(dst, raw []byte) ([]byte, int) {
	if len(raw) == 0 || raw[0] != '/' {
		return dst, 400
	}
	base := len(dst)
	dst = append(dst, '/')
	for i := 1; i <= len(raw); {
		j := i
		for j < len(raw) && raw[j] != '/' {
			j++
		}
		start := len(dst)
		var ok bool
		if dst, ok = appendDecoded(dst, raw[i:j]); !ok {
			return dst[:base], 400
		}
		switch seg := dst[start:]; {
		case len(seg) == 0:
			// empty segment: "//" collapses, and a final one leaves the
			// trailing slash already in dst.
		case len(seg) == 1 && seg[0] == '.':
			dst = dst[:start]
		case len(seg) == 2 && seg[0] == '.' && seg[1] == '.':
			dst = dst[:start]
			if start == base+1 {
				return dst[:base], 400 // would climb above the root
			}
			k := start - 2 // dst[start-1] is the '/' ending the previous segment
			for dst[k] != '/' {
				k--
			}
			dst = dst[:k+1]
		default:
			if j < len(raw) {
				dst = append(dst, '/')
			}
		}
		i = j + 1
	}
	return dst, 0
}

// appendDecoded appends the percent-decoded seg (one path segment, no '/')
// to dst, reporting false for a bad escape or a forbidden byte.
func appendDecoded(dst, seg []byte) ([]byte, bool) {
	for i := 0; i < len(seg); i++ {
		c := seg[i]
		if c <= ' ' || c == 0x7f || c == '\\' {
			return dst, false
		}
		if c == '%' {
			if i+2 >= len(seg) {
				return dst, false
			}
			hi, ok1 := unhex(seg[i+1])
			lo, ok2 := unhex(seg[i+2])
			if !ok1 || !ok2 {
				return dst, false
			}
			c = hi<<4 | lo
			if c == 0 || c == '/' || c == '\\' {
				return dst, false
			}
			i += 2
		}
		dst = append(dst, c)
	}
	return dst, true
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}
