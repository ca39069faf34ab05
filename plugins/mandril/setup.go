package mandril

import (
	"net/netip"
	"strings"

	"gibbon/config"
	"gibbon/stage"
)

func init() { stage.Register("mandril", func() stage.Plugin { return new(Mandril) }) }

// Decode reads the [RULES] sections of plugins/mandril/mandril.conf:
//
//	IP  <addr>[/bits]      deny connections from an address or network
//	Allow <addr>[/bits]    allow-list: when present, only these pass
//	URL <substring>        403 when the decoded path contains it (any case)
//	deny_hotlink <prefix>  403 for a path under prefix whose Referer names another site
func (m *Mandril) Decode(c *stage.PluginConfig) error {
	for _, sec := range c.Sections {
		if sec.Name != "RULES" {
			return &config.Error{File: sec.File, Line: sec.Line, Key: "[" + sec.Name + "]",
				Msg: "unknown section (want [RULES])"}
		}
		for _, e := range sec.Entries {
			if err := m.decodeRule(e); err != nil {
				return err
			}
		}
	}
	return nil
}

func (m *Mandril) decodeRule(e config.Entry) error {
	switch {
	case strings.EqualFold(e.Key, "IP"):
		p, err := parsePrefix(e.Value)
		if err != nil {
			return e.Errorf("%v", err)
		}
		m.deny = append(m.deny, p)
	case strings.EqualFold(e.Key, "Allow"):
		p, err := parsePrefix(e.Value)
		if err != nil {
			return e.Errorf("%v", err)
		}
		m.allow = append(m.allow, p)
	case strings.EqualFold(e.Key, "URL"):
		m.urls = append(m.urls, strings.ToLower(e.Value))
	case strings.EqualFold(e.Key, "deny_hotlink"):
		if !strings.HasPrefix(e.Value, "/") {
			return e.Errorf("path prefix must begin with /")
		}
		m.hotlink = append(m.hotlink, e.Value)
	default:
		return stage.UnknownKey(e, "RULES")
	}
	return nil
}

// parsePrefix reads "addr" or "addr/bits", IPv4 or IPv6. Host bits are
// cleared, as Monkey does: 10.20.1.1/24 is 10.20.1.0/24.
func parsePrefix(s string) (netip.Prefix, error) {
	if strings.ContainsRune(s, '/') {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, err
		}
		if p.Addr().Is4In6() {
			p = netip.PrefixFrom(p.Addr().Unmap(), max(p.Bits()-96, 0))
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}
