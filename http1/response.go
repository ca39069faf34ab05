package http1

import "strconv"

// LastChunk ends a chunked body that has no trailer fields.
const LastChunk = "0\r\n\r\n"

// AppendStatusLine appends "HTTP/1.x <code> <reason>\r\n" to dst, e.g.
// "HTTP/1.1 200 OK\r\n". v is Version10 for "HTTP/1.0"; any other value
// writes "HTTP/1.1" (a server answers with its highest version, RFC 9110
// §6.2). An unknown code gets an empty reason phrase, as RFC 9112 §4
// allows. It does not allocate when dst has room.
func AppendStatusLine(dst []byte, v Version, code int) []byte {
	if v == Version10 {
		dst = append(dst, "HTTP/1.0 "...)
	} else {
		dst = append(dst, "HTTP/1.1 "...)
	}
	if 100 <= code && code <= 999 {
		dst = append(dst, byte('0'+code/100), byte('0'+code/10%10), byte('0'+code%10))
	} else {
		dst = strconv.AppendInt(dst, int64(code), 10)
	}
	dst = append(dst, ' ')
	dst = append(dst, StatusText(code)...)
	return append(dst, '\r', '\n')
}

// AppendHeader appends "name: value\r\n" to dst. name must be a valid field
// name (callers pass constants). Any control character other than HTAB in
// value (CR, LF, NUL ...) is written as a space, so that a value derived
// from request data can never split the response.
func AppendHeader(dst []byte, name string, value []byte) []byte {
	dst = appendName(dst, name)
	start := len(dst)
	dst = append(dst, value...)
	sanitize(dst[start:])
	return append(dst, '\r', '\n')
}

// AppendHeaderString is AppendHeader for a string value.
func AppendHeaderString(dst []byte, name, value string) []byte {
	dst = appendName(dst, name)
	start := len(dst)
	dst = append(dst, value...)
	sanitize(dst[start:])
	return append(dst, '\r', '\n')
}

// AppendHeaderInt appends "name: <decimal v>\r\n" to dst.
func AppendHeaderInt(dst []byte, name string, v int64) []byte {
	dst = appendName(dst, name)
	dst = strconv.AppendInt(dst, v, 10)
	return append(dst, '\r', '\n')
}

// AppendChunkHeader appends the chunk-size line "<hex n>\r\n" for a chunk
// of n > 0 bytes; the chunk data and its CRLF follow. End the body with
// [LastChunk] (a chunk of size 0 is the last chunk).
func AppendChunkHeader(dst []byte, n int) []byte {
	dst = strconv.AppendUint(dst, uint64(n), 16)
	return append(dst, '\r', '\n')
}

func appendName(dst []byte, name string) []byte {
	dst = append(dst, name...)
	return append(dst, ':', ' ')
}

// sanitize replaces the control characters a field value must not carry.
func sanitize(b []byte) {
	for i, c := range b {
		if !valueChar[c] {
			b[i] = ' '
		}
	}
}
