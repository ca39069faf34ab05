package proxy

import (
	"net/netip"
	"net/url"
	"strings"
	"testing"
)

// unquote reads an RFC 7230 token or quoted-string that must span all of
// s; ok is false when s is neither.
func unquote(s string) (v string, ok bool) {
	if isToken(s) {
		return s, true
	}
	if len(s) < 2 || s[0] != '"' || s[len(s)-1] != '"' {
		return "", false
	}
	var b strings.Builder
	for i := 1; i < len(s)-1; i++ {
		c := s[i]
		switch {
		case c == '\\':
			if i++; i == len(s)-1 {
				return "", false
			}
			b.WriteByte(s[i])
		case c == '"':
			return "", false
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), true
}

// FuzzForwardedValue renders arbitrary Host values (client input) into a
// Forwarded element: the result is one token or quoted-string that reads
// back as the value without its control bytes, and the element never
// holds CR, LF or an unquoted ',' or ';'.
func FuzzForwardedValue(f *testing.F) {
	for _, s := range []string{"example.com", "example.com:8080", `a"b\c`, "[::1]:80", "x;for=evil, for=1.2.3.4", "tab\there", "\r\nX: y", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, host string) {
		v := forwardedValue(host)
		got, ok := unquote(v)
		if want := stripControls(host); !ok || got != want {
			t.Fatalf("forwardedValue(%q) = %q, reads back %q (ok %v), want %q", host, v, got, ok, want)
		}
		el := forwardedElement(netip.MustParseAddr("192.0.2.1"), host, "http")
		if strings.ContainsAny(el, "\r\n\x00") {
			t.Fatalf("element %q holds a control byte", el)
		}
		if host != "" {
			pairs := splitOutsideQuotes(el, ';')
			if len(pairs) != 3 || !strings.HasPrefix(pairs[1], "host=") {
				t.Fatalf("element %q does not split into for;host;proto", el)
			}
			if len(splitOutsideQuotes(el, ',')) != 1 {
				t.Fatalf("element %q splits on ','", el)
			}
		}
	})
}

func stripControls(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '\t' || c >= 0x20 && c != 0x7f {
			b.WriteByte(c)
		}
	}
	return b.String()
}

// splitOutsideQuotes splits s at sep outside quoted-strings.
func splitOutsideQuotes(s string, sep byte) []string {
	var out []string
	quoted, start := false, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case quoted && c == '\\':
			i++
		case c == '"':
			quoted = !quoted
		case !quoted && c == sep:
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

// FuzzQueryParam reads arbitrary query strings (client input) as
// balance url_param does: no panic, and a value found agrees with
// net/url where net/url can parse the query.
func FuzzQueryParam(f *testing.F) {
	for _, s := range []string{"user=42", "a=1&user=x%20y&user=z", "user=", "us%65r=7", "user", "&&=&user=%zz", ";user=1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		v, ok := queryParam(q, "user")
		if ok && v == "" {
			t.Fatalf("ok with an empty value for %q", q)
		}
		want, err := url.ParseQuery(q)
		if err != nil || strings.Contains(q, ";") {
			return
		}
		if w := want.Get("user"); ok && v != w {
			t.Fatalf("queryParam(%q) = %q, net/url says %q", q, v, w)
		}
	})
}

// FuzzConnectionTokens reads arbitrary Connection values: the tokens are
// trimmed and never empty, and every listed field is removed.
func FuzzConnectionTokens(f *testing.F) {
	f.Add("keep-alive, X-Hop", "X-Hop")
	f.Add(" , ,upgrade,", "Upgrade")
	f.Fuzz(func(t *testing.T, conn, name string) {
		for _, tok := range connectionTokens([]string{conn}) {
			if tok == "" || tok != strings.TrimSpace(tok) {
				t.Fatalf("token %q from %q", tok, conn)
			}
		}
		h := map[string][]string{"Connection": {conn}}
		removeHopByHop(h)
		if len(h) != 0 {
			t.Fatalf("left %v", h)
		}
	})
}
