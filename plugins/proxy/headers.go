package proxy

import (
	"bytes"
	"maps"
	"net/http"
	"net/netip"
	"slices"
	"strings"

	"gibbon/http1"
	"gibbon/stage"
)

// via is the Via element the proxy appends both ways (RFC 9110 §7.6.3).
const via = "1.1 gibbon"

// hopByHop are the header fields that describe one connection, never
// forwarded (RFC 9110 §7.6.1), besides those named by Connection.
// Proxy-Connection is the old non-standard form some clients still send.
var hopByHop = []string{
	"Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate",
	"Proxy-Authorization", "TE", "Trailer", "Transfer-Encoding", "Upgrade",
}

// connectionTokens returns the field names listed in Connection values.
func connectionTokens(values []string) []string {
	var out []string
	for _, v := range values {
		for _, t := range strings.Split(v, ",") {
			if t = strings.TrimSpace(t); t != "" {
				out = append(out, t)
			}
		}
	}
	return out
}

// removeHopByHop deletes the hop-by-hop fields from h, including the ones
// its Connection fields name.
func removeHopByHop(h http.Header) {
	for _, t := range connectionTokens(h.Values("Connection")) {
		h.Del(t)
	}
	for _, n := range hopByHop {
		h.Del(n)
	}
}

// hasToken reports whether the comma-separated list in any of values holds
// token (ASCII case-insensitive).
func hasToken(values []string, token string) bool {
	for _, t := range connectionTokens(values) {
		if strings.EqualFold(t, token) {
			return true
		}
	}
	return false
}

// outboundHeader builds the header for the upstream request from r's
// header lines: hop-by-hop fields removed (Upgrade and Connection: Upgrade
// kept when upgrade is set), Expect dropped (the server already answered
// it), then X-Forwarded-For appended, X-Forwarded-Proto and
// X-Forwarded-Host set, a Forwarded element and Via appended.
func outboundHeader(r *stage.Request, upgrade string) http.Header {
	h := make(http.Header, len(r.Headers)+6)
	for _, f := range r.Headers {
		h.Add(string(f.Name), string(f.Value))
	}
	removeHopByHop(h)
	h.Del("Expect")
	h.Del("Host") // sent from Request.Host
	if upgrade != "" {
		h.Set("Connection", "Upgrade")
		h.Set("Upgrade", upgrade)
	}
	if _, ok := h["User-Agent"]; !ok {
		h["User-Agent"] = []string{""} // keep net/http from adding its own
	}
	ip := r.Conn.Remote.Addr().Unmap()
	proto := "http"
	if r.Conn.TLS {
		proto = "https"
	}
	if ip.IsValid() {
		xff := ip.String()
		if prior := h.Values("X-Forwarded-For"); len(prior) > 0 {
			xff = strings.Join(prior, ", ") + ", " + xff
		}
		h.Set("X-Forwarded-For", xff)
	}
	h.Set("X-Forwarded-Proto", proto)
	if len(r.Host) > 0 {
		h.Set("X-Forwarded-Host", string(r.Host))
	} else {
		h.Del("X-Forwarded-Host")
	}
	appendList(h, "Forwarded", forwardedElement(ip, string(r.Host), proto))
	appendList(h, "Via", via)
	return h
}

// inboundHeader copies the upstream response header to w without its
// hop-by-hop fields (kept: Connection and Upgrade of a 101 answer, which
// the tunnel writes itself) and appends Via. Fields are copied in sorted
// name order so that responses are stable.
func inboundHeader(dst *stage.Header, src http.Header) {
	removeHopByHop(src)
	appendList(src, "Via", via)
	for _, k := range sortedKeys(src) {
		for _, v := range src[k] {
			dst.Add(k, v)
		}
	}
}

func appendList(h http.Header, name, elem string) {
	if prior := h.Values(name); len(prior) > 0 {
		elem = strings.Join(prior, ", ") + ", " + elem
	}
	h.Set(name, elem)
}

// forwardedElement returns the RFC 7239 element for=…;host=…;proto=… of a
// request. An IPv6 node is bracketed and quoted; host is a token when it
// is one, else a quoted string with '"' and '\' escaped; an empty host or
// an invalid address is left out (for=unknown).
func forwardedElement(ip netip.Addr, host, proto string) string {
	var b strings.Builder
	b.WriteString("for=")
	switch {
	case !ip.IsValid():
		b.WriteString("unknown")
	case ip.Is6():
		b.WriteString(`"[` + ip.String() + `]"`)
	default:
		b.WriteString(ip.String())
	}
	if host != "" {
		b.WriteString(";host=")
		b.WriteString(forwardedValue(host))
	}
	b.WriteString(";proto=")
	b.WriteString(proto)
	return b.String()
}

// forwardedValue renders v as an RFC 7230 token when it is one, else as a
// quoted-string. Bytes that cannot appear in a quoted-string (controls
// other than HTAB, DEL) are dropped.
func forwardedValue(v string) string {
	if isToken(v) {
		return v
	}
	return string(appendForwardedValue(nil, v))
}

// appendForwardedValue appends what forwardedValue returns.
func appendForwardedValue[T string | []byte](dst []byte, v T) []byte {
	if isToken(v) {
		return append(dst, v...)
	}
	dst = append(dst, '"')
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c == '"' || c == '\\':
			dst = append(dst, '\\', c)
		case c == '\t' || c >= 0x20 && c != 0x7f:
			dst = append(dst, c)
		}
	}
	return append(dst, '"')
}

func isToken[T string | []byte](s T) bool {
	if len(s) == 0 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}

func sortedKeys(h http.Header) []string {
	return slices.Sorted(maps.Keys(h))
}

// isHopByHop reports whether name is one of hopByHop (ASCII
// case-insensitive).
func isHopByHop(name []byte) bool {
	switch len(name) {
	case 2:
		return equalFold(name, "TE")
	case 7:
		return equalFold(name, "Trailer") || equalFold(name, "Upgrade")
	case 10:
		return equalFold(name, "Connection") || equalFold(name, "Keep-Alive")
	case 16:
		return equalFold(name, "Proxy-Connection")
	case 17:
		return equalFold(name, "Transfer-Encoding")
	case 18:
		return equalFold(name, "Proxy-Authenticate")
	case 19:
		return equalFold(name, "Proxy-Authorization")
	}
	return false
}

// hopFields tells which fields of one head are not forwarded as they
// are: the hop-by-hop ones and those its Connection fields name.
type hopFields struct {
	named [4][]byte      // the names Connection lists, when they fit
	n     int            // names in named; -1: more, see conn
	conn  []http1.Header // the head's fields from its first Connection field on
}

func (h *hopFields) init(fields []http1.Header) {
	h.n, h.conn = 0, nil
	for i := range fields {
		if !equalFold(fields[i].Name, "Connection") {
			continue
		}
		if h.conn == nil {
			h.conn = fields[i:]
		}
		for rest := fields[i].Value; len(rest) > 0 && h.n >= 0; {
			var t []byte
			t, rest = nextToken(rest)
			switch {
			case len(t) == 0:
			case h.n == len(h.named):
				h.n = -1
			default:
				h.named[h.n] = t
				h.n++
			}
		}
	}
}

// dropped reports whether the field name is not forwarded as it is.
func (h *hopFields) dropped(name []byte) bool {
	if isHopByHop(name) {
		return true
	}
	if h.n < 0 {
		return listedIn(h.conn, name)
	}
	for _, t := range h.named[:h.n] {
		if len(t) == len(name) && bytes.EqualFold(t, name) { // ASCII: equal lengths
			return true
		}
	}
	return false
}

// nextToken splits the first element off a comma-separated list: t is
// trimmed of spaces and tabs, and may be empty.
func nextToken(list []byte) (t, rest []byte) {
	if i := bytes.IndexByte(list, ','); i >= 0 {
		t, rest = list[:i], list[i+1:]
	} else {
		t = list
	}
	return bytes.TrimSpace(t), rest
}

// listedIn reports whether a Connection field among fields names name.
func listedIn(fields []http1.Header, name []byte) bool {
	for _, f := range fields {
		if !equalFold(f.Name, "Connection") {
			continue
		}
		for rest := f.Value; len(rest) > 0; {
			var t []byte
			t, rest = nextToken(rest)
			if len(t) == len(name) && bytes.EqualFold(t, name) { // ASCII: equal lengths
				return true
			}
		}
	}
	return false
}

// appendJoined appends the values of the forwarded fields named name,
// joined by ", ", each followed by ", " — the prefix of a list the proxy
// extends.
func appendJoined(dst []byte, fields []http1.Header, hop *hopFields, name string) []byte {
	for _, f := range fields {
		if equalFold(f.Name, name) && !hop.dropped(f.Name) {
			dst = append(dst, f.Value...)
			dst = append(dst, ", "...)
		}
	}
	return dst
}

// appendRequestHead renders the request head for a proto=http server:
// the request line (the target as sent, or the rewritten path and query),
// Host (the client's, else addr, the server's address), the client's
// fields without hop-by-hop ones, Expect, Host and framing fields, then
// the same additions as outboundHeader (Upgrade, X-Forwarded-*,
// Forwarded, Via) and the body framing of length (0: none, -1: chunked).
// closeConn asks the server to close the connection after the answer (no
// keep-alive).
func appendRequestHead(dst []byte, r *stage.Request, addr, upgrade string, length int64, closeConn bool) []byte {
	dst = append(dst, r.MethodName...)
	dst = append(dst, ' ')
	if !r.Rewritten() && len(r.Target) > 0 && r.Target[0] == '/' {
		dst = append(dst, r.Target...)
	} else {
		dst = append(dst, stage.EscapePath(r.Path)...)
		if r.Query != "" {
			dst = append(dst, '?')
			dst = append(dst, r.Query...)
		}
	}
	dst = append(dst, " HTTP/1.1\r\n"...)
	if len(r.Host) > 0 {
		dst = http1.AppendHeader(dst, "Host", r.Host)
	} else {
		dst = http1.AppendHeaderString(dst, "Host", addr)
	}
	var hop hopFields
	hop.init(r.Headers)
	for _, f := range r.Headers {
		if len(f.Value) == 0 && equalFold(f.Name, "User-Agent") {
			continue // net/http did not send an empty one either
		}
		if hop.dropped(f.Name) || skipOutbound(f.Name) {
			continue
		}
		dst = append(dst, f.Name...)
		dst = append(dst, ':', ' ')
		start := len(dst)
		dst = append(dst, f.Value...)
		sanitizeValue(dst[start:])
		dst = append(dst, '\r', '\n')
	}
	switch {
	case upgrade != "":
		dst = append(dst, "Connection: Upgrade\r\n"...)
		dst = http1.AppendHeaderString(dst, "Upgrade", upgrade)
	case closeConn:
		dst = append(dst, "Connection: close\r\n"...)
	}
	ip := r.Conn.Remote.Addr().Unmap()
	proto := "http"
	if r.Conn.TLS {
		proto = "https"
	}
	dst = appendListField(dst, r.Headers, &hop, "X-Forwarded-For", func(b []byte) []byte {
		if ip.IsValid() {
			return ip.AppendTo(b)
		}
		return b
	})
	dst = append(dst, "X-Forwarded-Proto: "...)
	dst = append(dst, proto...)
	dst = append(dst, '\r', '\n')
	if len(r.Host) > 0 {
		dst = http1.AppendHeader(dst, "X-Forwarded-Host", r.Host)
	}
	dst = appendListField(dst, r.Headers, &hop, "Forwarded", func(b []byte) []byte {
		return appendForwardedElement(b, ip, r.Host, proto)
	})
	dst = appendListField(dst, r.Headers, &hop, "Via", func(b []byte) []byte { return append(b, via...) })
	switch {
	case length > 0:
		dst = http1.AppendHeaderInt(dst, "Content-Length", length)
	case length < 0:
		dst = append(dst, "Transfer-Encoding: chunked\r\n"...)
	case r.Method != http1.MethodGet && r.Method != http1.MethodHead:
		dst = append(dst, "Content-Length: 0\r\n"...) // as net/http sends
	}
	return append(dst, '\r', '\n')
}

// appendListField appends "name: <prior values>, <elem>": the values of
// the client's fields of that name joined, extended by what elem appends.
// With no prior values and an empty elem nothing is written.
func appendListField(dst []byte, fields []http1.Header, hop *hopFields, name string, elem func([]byte) []byte) []byte {
	start := len(dst)
	dst = append(dst, name...)
	dst = append(dst, ':', ' ')
	vs := len(dst)
	dst = appendJoined(dst, fields, hop, name)
	if e := elem(dst); len(e) > len(dst) {
		dst = e
	} else if len(dst) > vs {
		dst = dst[:len(dst)-2] // no element: drop the last ", "
	} else {
		return dst[:start]
	}
	sanitizeValue(dst[vs:])
	return append(dst, '\r', '\n')
}

// skipOutbound reports the client's fields the proxy replaces or drops:
// Host, Expect, the body framing and the forwarding fields it writes
// itself.
func skipOutbound(name []byte) bool {
	switch len(name) {
	case 3:
		return equalFold(name, "Via")
	case 4:
		return equalFold(name, "Host")
	case 6:
		return equalFold(name, "Expect")
	case 9:
		return equalFold(name, "Forwarded")
	case 14:
		return equalFold(name, "Content-Length")
	case 15:
		return equalFold(name, "X-Forwarded-For")
	case 16:
		return equalFold(name, "X-Forwarded-Host")
	case 17:
		return equalFold(name, "X-Forwarded-Proto") || equalFold(name, "Transfer-Encoding")
	}
	return false
}

// sanitizeValue replaces CR, LF and NUL in a field value by spaces.
func sanitizeValue(b []byte) {
	for i, c := range b {
		if c == '\r' || c == '\n' || c == 0 {
			b[i] = ' '
		}
	}
}

// headerTo copies the fields of a parsed response head to dst without the
// hop-by-hop ones (nor Content-Length of a chunked body), then appends
// Via. head is the head the fields are views into: the names and values
// are substrings of one string copy of it.
func headerTo(dst *stage.Header, head []byte, resp *http1.Response) {
	hs := string(head)
	at := func(b []byte) string {
		o := cap(head) - cap(b)
		return hs[o : o+len(b)]
	}
	var hop hopFields
	hop.init(resp.Headers)
	var prior []byte
	for _, f := range resp.Headers {
		switch {
		case hop.dropped(f.Name) || resp.Chunked && equalFold(f.Name, "Content-Length"):
		case equalFold(f.Name, "Via"):
			prior = append(prior, f.Value...)
			prior = append(prior, ", "...)
		default:
			dst.Add(at(f.Name), at(f.Value))
		}
	}
	if prior == nil {
		dst.Add("Via", via)
	} else {
		dst.Add("Via", string(append(prior, via...)))
	}
}

// equalFold reports whether b equals s under ASCII case folding.
func equalFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := 0; i < len(b); i++ {
		c, d := b[i], s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if 'A' <= d && d <= 'Z' {
			d += 'a' - 'A'
		}
		if c != d {
			return false
		}
	}
	return true
}

// appendForwardedElement appends the element forwardedElement returns.
func appendForwardedElement(dst []byte, ip netip.Addr, host []byte, proto string) []byte {
	dst = append(dst, "for="...)
	switch {
	case !ip.IsValid():
		dst = append(dst, "unknown"...)
	case ip.Is6():
		dst = append(dst, `"[`...)
		dst = ip.AppendTo(dst)
		dst = append(dst, `]"`...)
	default:
		dst = ip.AppendTo(dst)
	}
	if len(host) > 0 {
		dst = append(dst, ";host="...)
		dst = appendForwardedValue(dst, host)
	}
	dst = append(dst, ";proto="...)
	return append(dst, proto...)
}
