package static

import (
	"math/rand/v2"
	"strconv"
)

// span is a satisfiable byte range, first and last byte included.
type span struct{ first, last int64 }

func (s span) length() int64 { return s.last - s.first + 1 }

// parseRange parses a Range header value against a file of the given size.
// It stores the satisfiable ranges in spans and returns their number. ok is
// false when the header must be ignored: a unit other than "bytes", a
// syntax error, or more than MaxRanges ranges. With ok true and n == 0 no
// range is satisfiable (416).
func parseRange(v []byte, size int64, spans *[MaxRanges]span) (n int, ok bool) {
	v = trimOWS(v)
	if len(v) < 6 || !equalFold(v[:6], "bytes=") {
		return 0, false
	}
	v = v[6:]
	count := 0
	for len(v) > 0 {
		var elem []byte
		if i := indexByte(v, ','); i >= 0 {
			elem, v = v[:i], v[i+1:]
		} else {
			elem, v = v, nil
		}
		elem = trimOWS(elem)
		if len(elem) == 0 {
			continue // empty list elements are allowed (RFC 9110 §5.6.1)
		}
		if count++; count > MaxRanges {
			return 0, false
		}
		s, satisfiable, valid := parseSpec(elem, size)
		if !valid {
			return 0, false
		}
		if satisfiable {
			spans[n] = s
			n++
		}
	}
	return n, count > 0
}

// parseSpec parses one range-spec: "a-b", "a-" or "-n".
func parseSpec(elem []byte, size int64) (s span, satisfiable, valid bool) {
	dash := indexByte(elem, '-')
	if dash < 0 {
		return span{}, false, false
	}
	if dash == 0 { // suffix-range
		n, ok := parseInt(elem[1:])
		if !ok {
			return span{}, false, false
		}
		if n == 0 || size == 0 {
			return span{}, false, true
		}
		return span{max(0, size-n), size - 1}, true, true
	}
	first, ok := parseInt(elem[:dash])
	if !ok {
		return span{}, false, false
	}
	last := int64(-1)
	if dash+1 < len(elem) {
		if last, ok = parseInt(elem[dash+1:]); !ok || last < first {
			return span{}, false, false
		}
	}
	if first >= size {
		return span{}, false, true
	}
	if last < 0 || last >= size {
		last = size - 1
	}
	return span{first, last}, true, true
}

// parseInt parses a non-empty run of decimal digits, refusing overflow.
func parseInt(b []byte) (int64, bool) {
	if len(b) == 0 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		if n > (1<<63-1-9)/10 {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

func equalFold(b []byte, lower string) bool {
	for i := range b {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

// coalesce merges overlapping and adjacent spans, keeping each merged span
// at the position of its first member, so the parts keep the order of the
// request (RFC 9110 §14.6). It returns the new count.
func coalesce(s []span) int {
	n := len(s)
	for i := 0; i < n; i++ {
		for j := i + 1; j < n; {
			if s[j].first > s[i].last+1 || s[i].first > s[j].last+1 {
				j++
				continue
			}
			s[i] = span{min(s[i].first, s[j].first), max(s[i].last, s[j].last)}
			copy(s[j:n], s[j+1:n])
			n--
			j = i + 1 // s[i] grew: look again at the spans it skipped
		}
	}
	return n
}

// applyRange turns the 200 res for a file of the given size into the answer
// to the Range header v: 206, 416, or res unchanged when v is ignored.
func applyRange(res Result, v []byte, size int64) Result {
	var buf [MaxRanges]span
	n, ok := parseRange(v, size, &buf)
	if !ok {
		return res
	}
	if n == 0 {
		return Result{Status: 416, ContentRange: "bytes */" + strconv.FormatInt(size, 10)}
	}
	var total int64
	for _, s := range buf[:n] {
		total += s.length()
	}
	if total > size {
		return res // overlapping ranges asking for more than the file: serve it once
	}
	spans := buf[:coalesce(buf[:n])]
	res.Status = 206
	if len(spans) == 1 {
		s := spans[0]
		res.ContentLength = s.length()
		res.ContentRange = string(appendContentRange(make([]byte, 0, 64), s, size))
		res.Parts = []Part{{Offset: s.first, Length: s.length()}}
		return res
	}
	return multipartBody(res, spans, size)
}

func appendContentRange(b []byte, s span, size int64) []byte {
	b = append(b, "bytes "...)
	b = strconv.AppendInt(b, s.first, 10)
	b = append(b, '-')
	b = strconv.AppendInt(b, s.last, 10)
	b = append(b, '/')
	return strconv.AppendInt(b, size, 10)
}

// multipartBody builds a multipart/byteranges body (RFC 9110 §14.6) with a
// fresh random boundary. The part headers and the closing boundary share
// one buffer.
func multipartBody(res Result, spans []span, size int64) Result {
	var bb [32]byte
	for i := 0; i < len(bb); i += 16 {
		x := rand.Uint64()
		for j := range 16 {
			bb[i+j] = "0123456789abcdef"[x&15]
			x >>= 4
		}
	}
	boundary := bb[:]
	ctype := res.ContentType

	perPart := len("\r\n--\r\nContent-Type: \r\nContent-Range: bytes -/\r\n\r\n") + len(boundary) + len(ctype) + 3*20
	buf := make([]byte, 0, len(spans)*perPart+len(boundary)+8)
	ends := make([]int, len(spans))
	for i, s := range spans {
		buf = append(buf, "\r\n--"...)
		buf = append(buf, boundary...)
		buf = append(buf, "\r\nContent-Type: "...)
		buf = append(buf, ctype...)
		buf = append(buf, "\r\nContent-Range: "...)
		buf = appendContentRange(buf, s, size)
		buf = append(buf, "\r\n\r\n"...)
		ends[i] = len(buf)
	}
	trailerStart := len(buf)
	buf = append(buf, "\r\n--"...)
	buf = append(buf, boundary...)
	buf = append(buf, "--\r\n"...)

	res.Parts = make([]Part, len(spans))
	start := 0
	var length int64
	for i, s := range spans {
		res.Parts[i] = Part{Prefix: buf[start:ends[i]:ends[i]], Offset: s.first, Length: s.length()}
		length += int64(ends[i]-start) + s.length()
		start = ends[i]
	}
	res.Trailer = buf[trailerStart:]
	res.ContentLength = length + int64(len(res.Trailer))
	res.ContentType = "multipart/byteranges; boundary=" + string(boundary)
	return res
}
