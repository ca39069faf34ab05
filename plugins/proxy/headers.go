package proxy

import (
	"maps"
	"net/http"
	"net/netip"
	"slices"
	"strings"

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
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c == '\t' || c >= 0x20 && c != 0x7f:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

func isToken(s string) bool {
	if s == "" {
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
