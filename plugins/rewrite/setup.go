package rewrite

import (
	"regexp"
	"strings"

	"gibbon/config"
	"gibbon/stage"
)

func init() { stage.Register("rewrite", func() stage.Plugin { return new(Rewrite) }) }

// Decode reads the [REWRITE] sections of the site files:
//
//	Cond QUERY|METHOD|HOST [!]<regex>                      condition on the next Rule
//	Rule <regex> <replacement> [last|redirect|permanent]  rewrite the path
func (rw *Rewrite) Decode(c *stage.PluginConfig) error {
	rw.hosts = make([][]*rule, len(c.Hosts))
	for i, h := range c.Hosts {
		var conds []cond
		for _, sec := range h.Find("REWRITE") {
			for _, e := range sec.Entries {
				switch {
				case strings.EqualFold(e.Key, "Cond"):
					cd, err := parseCond(e)
					if err != nil {
						return err
					}
					conds = append(conds, cd)
				case strings.EqualFold(e.Key, "Rule"):
					r, err := parseRule(e)
					if err != nil {
						return err
					}
					r.conds, conds = conds, nil
					rw.hosts[i] = append(rw.hosts[i], r)
				default:
					return stage.UnknownKey(e, "REWRITE")
				}
			}
			if len(conds) > 0 {
				return sec.Entries[len(sec.Entries)-1].Errorf("Cond without a Rule after it")
			}
		}
	}
	return nil
}

func parseCond(e config.Entry) (cond, error) {
	f := strings.Fields(e.Value)
	if len(f) != 2 {
		return cond{}, e.Errorf("want Cond QUERY|METHOD|HOST [!]<regex>")
	}
	var cd cond
	switch strings.ToUpper(f[0]) {
	case "QUERY":
		cd.what = condQuery
	case "METHOD":
		cd.what = condMethod
	case "HOST":
		cd.what = condHost
	default:
		return cond{}, e.Errorf("unknown variable %q (want QUERY, METHOD or HOST)", f[0])
	}
	pat := f[1]
	if strings.HasPrefix(pat, "!") {
		cd.negate, pat = true, pat[1:]
	}
	re, err := regexp.Compile(pat)
	if err != nil {
		return cond{}, e.Errorf("bad pattern: %v", err)
	}
	cd.re = re
	return cd, nil
}

func parseRule(e config.Entry) (*rule, error) {
	f := strings.Fields(e.Value)
	if len(f) < 2 {
		return nil, e.Errorf("want Rule <regex> <replacement> [last|redirect|permanent]")
	}
	re, err := regexp.Compile(f[0])
	if err != nil {
		return nil, e.Errorf("bad pattern: %v", err)
	}
	r := &rule{re: re, repl: f[1], at: e}
	for _, flag := range f[2:] {
		switch strings.ToLower(flag) {
		case "last":
			r.last = true
		case "redirect":
			r.redirect = 302
		case "permanent":
			r.redirect = 301
		default:
			return nil, e.Errorf("unknown flag %q (want last, redirect or permanent)", flag)
		}
	}
	absolute := strings.HasPrefix(r.repl, "http://") || strings.HasPrefix(r.repl, "https://")
	switch {
	case absolute && r.redirect == 0:
		return nil, e.Errorf("an absolute URL needs the redirect or permanent flag")
	case !absolute && !strings.HasPrefix(r.repl, "/"):
		return nil, e.Errorf("replacement must begin with / (or http:// or https:// for a redirect)")
	}
	return r, nil
}
