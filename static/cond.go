package static

import (
	"strconv"
	"time"
)

// timeFormat is the IMF-fixdate layout of Last-Modified (RFC 9110 §5.6.7),
// the same as net/http's TimeFormat.
const timeFormat = "Mon, 02 Jan 2006 15:04:05 GMT"

// makeETag returns the strong entity tag of a file:
// "<mtime in nanoseconds, hex>-<size, hex>".
func makeETag(mtime time.Time, size int64) string {
	var b [48]byte
	e := append(b[:0], '"')
	e = strconv.AppendInt(e, mtime.UnixNano(), 16)
	e = append(e, '-')
	e = strconv.AppendInt(e, size, 16)
	e = append(e, '"')
	return string(e)
}

// formatHTTPDate formats t as an IMF-fixdate.
func formatHTTPDate(t time.Time) string {
	var b [len(timeFormat) + 8]byte
	return string(t.UTC().AppendFormat(b[:0], timeFormat))
}

// preconditions evaluates the conditional headers of a GET or HEAD in the
// order of RFC 9110 §13.2.2. It returns 412, 304 or 0 (serve the file).
// mtime is the modification time in whole seconds, the precision of HTTP
// dates. An unparsable date makes its header be ignored.
func preconditions(req *Request, etag string, mtime int64) int {
	if len(req.IfMatch) > 0 {
		if !matchETags(req.IfMatch, etag, true) {
			return 412
		}
	} else if len(req.IfUnmodifiedSince) > 0 {
		if t, ok := parseHTTPDate(req.IfUnmodifiedSince); ok && mtime > t {
			return 412
		}
	}
	if len(req.IfNoneMatch) > 0 {
		if matchETags(req.IfNoneMatch, etag, false) {
			return 304
		}
	} else if len(req.IfModifiedSince) > 0 {
		if t, ok := parseHTTPDate(req.IfModifiedSince); ok && mtime <= t {
			return 304
		}
	}
	return 0
}

// ifRangeMatches reports whether a Range may be honoured given the If-Range
// value v (RFC 9110 §13.1.5): true when v is empty, is our strong entity
// tag, or is a date equal to the file's Last-Modified. A weak tag never
// matches.
func ifRangeMatches(v []byte, etag string, mtime int64) bool {
	v = trimOWS(v)
	if len(v) == 0 {
		return true
	}
	if v[0] == '"' || (len(v) > 1 && v[0] == 'W' && v[1] == '/') {
		return string(v) == etag
	}
	t, ok := parseHTTPDate(v)
	return ok && t == mtime
}

// matchETags reports whether the list of entity tags in v (If-Match or
// If-None-Match) holds etag, or is "*". strong selects the strong
// comparison (a weak tag never matches); otherwise "W/" is ignored on both
// sides. A malformed list matches nothing past the error.
func matchETags(v []byte, etag string, strong bool) bool {
	v = trimOWS(v)
	if len(v) == 1 && v[0] == '*' {
		return true
	}
	for len(v) > 0 {
		weak := false
		if len(v) > 2 && v[0] == 'W' && v[1] == '/' {
			weak = true
			v = v[2:]
		}
		if len(v) == 0 || v[0] != '"' {
			return false
		}
		end := 1
		for end < len(v) && v[end] != '"' {
			end++
		}
		if end == len(v) {
			return false
		}
		tag := v[:end+1]
		if string(tag) == etag && !(strong && weak) {
			return true
		}
		v = trimOWS(v[end+1:])
		if len(v) == 0 {
			break
		}
		if v[0] != ',' {
			return false
		}
		for len(v) > 0 && (v[0] == ',' || v[0] == ' ' || v[0] == '\t') {
			v = v[1:]
		}
	}
	return false
}

func trimOWS(v []byte) []byte {
	for len(v) > 0 && (v[0] == ' ' || v[0] == '\t') {
		v = v[1:]
	}
	for len(v) > 0 && (v[len(v)-1] == ' ' || v[len(v)-1] == '\t') {
		v = v[:len(v)-1]
	}
	return v
}

// parseHTTPDate parses an HTTP date (RFC 9110 §5.6.7) to Unix seconds. The
// IMF-fixdate form is parsed without allocating; the obsolete RFC 850 and
// asctime forms go through time.Parse.
func parseHTTPDate(v []byte) (int64, bool) {
	v = trimOWS(v)
	if t, ok := parseIMFFixdate(v); ok {
		return t, true
	}
	s := string(v)
	for _, layout := range [...]string{"Monday, 02-Jan-06 15:04:05 GMT", time.ANSIC} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.Unix(), true
		}
	}
	return 0, false
}

var months = [12]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}

var days = [7]string{"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"}

// parseIMFFixdate parses "Sun, 06 Nov 1994 08:49:37 GMT".
func parseIMFFixdate(v []byte) (int64, bool) {
	if len(v) != len(timeFormat) || v[3] != ',' || v[4] != ' ' || v[7] != ' ' ||
		v[11] != ' ' || v[16] != ' ' || v[19] != ':' || v[22] != ':' || string(v[25:]) != " GMT" {
		return 0, false
	}
	dayOK := false
	for _, d := range days {
		if string(v[:3]) == d {
			dayOK = true
			break
		}
	}
	month := 0
	for i, m := range months {
		if string(v[8:11]) == m {
			month = i + 1
			break
		}
	}
	day, ok1 := digits(v[5:7])
	year, ok2 := digits(v[12:16])
	hour, ok3 := digits(v[17:19])
	minute, ok4 := digits(v[20:22])
	sec, ok5 := digits(v[23:25])
	if !dayOK || month == 0 || !ok1 || !ok2 || !ok3 || !ok4 || !ok5 ||
		day < 1 || day > 31 || hour > 23 || minute > 59 || sec > 60 {
		return 0, false
	}
	return time.Date(year, time.Month(month), day, hour, minute, sec, 0, time.UTC).Unix(), true
}

func digits(b []byte) (int, bool) {
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}
