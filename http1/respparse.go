package http1

import "bytes"

// Response is a parsed response head, as a client (the proxy) reads it
// from a server. All []byte fields are views into the buffer passed to
// [ParseResponse], valid until that buffer is reused. ParseResponse resets
// it first, keeping the backing array of Headers, so a warmed-up Response
// parses without allocating. A Response is not safe for concurrent use.
type Response struct {
	Version Version // Version10 or Version11
	Status  int     // 100–999
	Reason  []byte  // reason phrase, possibly empty
	// Headers holds every header line in order, duplicates included.
	Headers []Header
	// ContentLength is the Content-Length value, -1 when absent or when the
	// body is chunked (Transfer-Encoding overrides it, RFC 9112 §6.3).
	ContentLength int64
	// Chunked is set when chunked is the final transfer coding.
	Chunked bool
	// KeepAlive tells whether the server keeps the connection open after
	// this response: HTTP/1.1 unless Connection lists "close"; HTTP/1.0 only
	// with Connection: keep-alive and not close.
	KeepAlive bool
}

// Reset clears r for reuse, keeping the backing array of r.Headers.
func (r *Response) Reset() {
	h := r.Headers[:0]
	*r = Response{Headers: h, ContentLength: -1}
}

// Header returns the value of the first header whose name equals name
// (ASCII case-insensitive), or nil.
func (r *Response) Header(name string) []byte {
	for i := range r.Headers {
		if equalFold(r.Headers[i].Name, name) {
			return r.Headers[i].Value
		}
	}
	return nil
}

// The errors ParseResponse returns: a malformed or refused answer of a
// server, which a gateway reports as 502.
var (
	errRespTooLarge    = perr(502, "response head too large")
	errRespTooMany     = perr(502, "too many response header fields")
	errRespStatusLine  = perr(502, "malformed status line")
	errRespVersion     = perr(502, "response HTTP version not supported")
	errRespLineEnd     = perr(502, "response line not terminated by CRLF")
	errRespObsFold     = perr(502, "obsolete line folding in response")
	errRespFieldName   = perr(502, "malformed response header field name")
	errRespFieldValue  = perr(502, "invalid character in response header field value")
	errRespCL          = perr(502, "malformed or conflicting Content-Length in response")
	errRespTE          = perr(502, "response transfer coding not supported")
	errRespTE10        = perr(502, "Transfer-Encoding in an HTTP/1.0 response")
	errRespStatusRange = perr(502, "response status code out of range")
)

// ParseResponse parses one response head at the start of buf into resp and
// returns:
//
//   - n > 0, nil: the head is complete; n is its length including the
//     final CRLF CRLF. The body starts at buf[n:].
//   - 0, nil: more bytes are needed (and the head is still within
//     MaxHeaderBytes).
//   - 0, *[ParseError] (Status 502): the head is malformed or over a limit.
//
// The status line is "HTTP/1.0" or "HTTP/1.1", SP, three digits, then SP
// and an optional reason phrase (a missing SP before an empty reason is
// accepted). Line endings must be CRLF; obs-fold, control characters in
// values, invalid field names, whitespace before a colon, conflicting or
// malformed Content-Length values, a Transfer-Encoding whose final coding
// is not chunked, and a Transfer-Encoding in an HTTP/1.0 response (whose
// framing RFC 9112 §6.1 says to treat as faulty) are refused. lim's
// MaxHeaderBytes and MaxHeaders apply (MaxURI is ignored); lim may be nil.
// It does not decide whether the response has a body: that also depends
// on the request method and the status (HEAD, 1xx, 204, 304).
func ParseResponse(buf []byte, resp *Response, lim *Limits) (n int, err error) {
	resp.Reset()
	maxHead, _, maxHeaders := lim.resolve()
	limit := min(len(buf), maxHead)
	end := bytes.Index(buf[:limit], headEnd)
	if end < 0 {
		if len(buf) >= maxHead {
			return 0, errRespTooLarge
		}
		if lf := bytes.IndexByte(buf[:limit], '\n'); lf >= 0 {
			if _, err := parseStatusLine(buf[:lf+1], resp); err != nil {
				return 0, err
			}
		}
		return 0, nil
	}
	n = end + len(headEnd)
	head := buf[:n]
	pos, err := parseStatusLine(head, resp)
	if err != nil {
		return 0, err
	}
	if err := parseResponseFields(head, pos, resp, maxHeaders); err != nil {
		return 0, err
	}
	return n, nil
}

// parseStatusLine parses "HTTP-version SP status-code [SP reason] CRLF" at
// the start of b, which holds at least one LF, and returns the offset past
// its CRLF.
func parseStatusLine(b []byte, resp *Response) (int, error) {
	if len(b) < 12 || string(b[:7]) != "HTTP/1." {
		return 0, errRespStatusLine
	}
	switch b[7] {
	case '0':
		resp.Version = Version10
	case '1':
		resp.Version = Version11
	default:
		if isDigit(b[7]) {
			return 0, errRespVersion
		}
		return 0, errRespStatusLine
	}
	if b[8] != ' ' || !isDigit(b[9]) || !isDigit(b[10]) || !isDigit(b[11]) {
		return 0, errRespStatusLine
	}
	resp.Status = int(b[9]-'0')*100 + int(b[10]-'0')*10 + int(b[11]-'0')
	if resp.Status < 100 {
		return 0, errRespStatusRange
	}
	i := 12
	switch b[i] {
	case '\r':
	case ' ':
		i++
		s := i
		for i < len(b) && (valueChar[b[i]]) {
			i++
		}
		resp.Reason = b[s:i]
	default:
		return 0, errRespStatusLine
	}
	if i+1 >= len(b) || b[i] != '\r' || b[i+1] != '\n' {
		if i < len(b) && b[i] == '\n' || i+1 < len(b) && b[i] == '\r' {
			return 0, errRespLineEnd
		}
		return 0, errRespStatusLine
	}
	return i + 2, nil
}

// parseResponseFields parses the header section of head (which ends with
// CRLF CRLF) from pos and applies the framing rules.
func parseResponseFields(head []byte, pos int, resp *Response, maxHeaders int) error {
	var te, teChunkedLast, connClose, connKeep bool
	for head[pos] != '\r' {
		if head[pos] == ' ' || head[pos] == '\t' {
			return errRespObsFold
		}
		s := pos
		for tokenChar[head[pos]] {
			pos++
		}
		if head[pos] != ':' || pos == s {
			return errRespFieldName
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
				return errRespLineEnd
			}
			return errRespFieldValue
		}
		if head[pos+1] != '\n' {
			return errRespLineEnd
		}
		value := trimOWS(head[vs:pos])
		pos += 2
		if len(resp.Headers) == maxHeaders {
			return errRespTooMany
		}
		resp.Headers = append(resp.Headers, Header{Name: name, Value: value})
		switch len(name) {
		case 10:
			if eqLower(name, "connection") {
				connectionOptions(value, &connClose, &connKeep)
			}
		case 14:
			if eqLower(name, "content-length") {
				v, ok := parseListedLength(value)
				if !ok || resp.ContentLength >= 0 && resp.ContentLength != v {
					return errRespCL
				}
				resp.ContentLength = v
			}
		case 17:
			if eqLower(name, "transfer-encoding") {
				te = true
				for rest := value; len(rest) > 0; {
					var coding []byte
					coding, rest = nextListElem(rest)
					if len(coding) == 0 {
						continue
					}
					if k := bytes.IndexByte(coding, ';'); k >= 0 {
						coding = trimOWS(coding[:k])
					}
					teChunkedLast = eqLower(coding, "chunked")
				}
			}
		}
	}
	if head[pos+1] != '\n' {
		return errRespLineEnd
	}
	if te {
		if resp.Version == Version10 {
			return errRespTE10
		}
		if !teChunkedLast {
			return errRespTE
		}
		resp.Chunked = true
		resp.ContentLength = -1
	}
	if resp.Version == Version11 {
		resp.KeepAlive = !connClose
	} else {
		resp.KeepAlive = connKeep && !connClose
	}
	return nil
}

// parseListedLength parses a Content-Length value: 1*DIGIT or a list of
// equal values ("5, 5").
func parseListedLength(value []byte) (int64, bool) {
	cl := int64(-1)
	for rest := value; ; {
		var e []byte
		e, rest = nextListElem(rest)
		v, ok := parseDecimal(e)
		if !ok || cl >= 0 && v != cl {
			return 0, false
		}
		cl = v
		if rest == nil {
			return cl, true
		}
	}
}
