package mandril

import (
	"net/netip"
	"net/url"
	"strings"

	"gibbon/stage"
)

// Mandril holds the rules. The zero value has no rules and lets everything
// through. Its hooks are safe for concurrent use.
type Mandril struct {
	deny    []netip.Prefix
	allow   []netip.Prefix
	urls    []string // lower-case substrings
	hotlink []string // path prefixes
}

// OnAccept closes a connection whose client address matches an IP rule, or,
// when Allow rules exist, matches none of them. Deny wins over allow.
func (m *Mandril) OnAccept(c stage.ConnInfo) stage.Verdict {
	if m.Allowed(c.Remote.Addr()) {
		return stage.Continue
	}
	return stage.Close
}

// Allowed reports whether the rules let addr in.
func (m *Mandril) Allowed(addr netip.Addr) bool {
	addr = addr.Unmap()
	for _, p := range m.deny {
		if p.Contains(addr) {
			return false
		}
	}
	if len(m.allow) == 0 {
		return true
	}
	for _, p := range m.allow {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// OnRequest answers 403 to a request whose decoded path contains a URL
// substring (ignoring case), or which asks for a path under a
// deny_hotlink prefix with a Referer naming another host.
func (m *Mandril) OnRequest(w stage.ResponseWriter, r *stage.Request) stage.Verdict {
	for _, u := range m.urls {
		if containsFold(r.Path, u) {
			w.Respond(403, "", nil)
			return stage.Handled
		}
	}
	for _, prefix := range m.hotlink {
		if strings.HasPrefix(r.Path, prefix) && hotlinked(r) {
			w.Respond(403, "", nil)
			return stage.Handled
		}
	}
	return stage.Continue
}

// hotlinked reports whether the Referer of r names a site other than the
// request's host. No Referer is allowed (browsers and privacy settings
// often send none); an unreadable one is not.
func hotlinked(r *stage.Request) bool {
	ref := r.Header("Referer")
	if len(ref) == 0 {
		return false
	}
	u, err := url.Parse(string(ref))
	if err != nil || u.Host == "" {
		return true
	}
	return !strings.EqualFold(u.Hostname(), hostname(string(r.Host)))
}

// hostname removes the port from a Host header value.
func hostname(h string) string {
	if strings.HasPrefix(h, "[") {
		if i := strings.IndexByte(h, ']'); i > 0 {
			return h[1:i]
		}
	}
	if i := strings.LastIndexByte(h, ':'); i >= 0 {
		return h[:i]
	}
	return h
}

// containsFold reports whether s contains the lower-case sub, ignoring
// ASCII case, without allocating.
func containsFold(s, sub string) bool {
	if sub == "" {
		return true
	}
	for i := 0; i+len(sub) <= len(s); i++ {
		j := 0
		for ; j < len(sub); j++ {
			c := s[i+j]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			if c != sub[j] {
				break
			}
		}
		if j == len(sub) {
			return true
		}
	}
	return false
}

var (
	_ stage.Acceptor      = (*Mandril)(nil)
	_ stage.RequestFilter = (*Mandril)(nil)
)
