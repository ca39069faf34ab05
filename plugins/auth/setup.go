package auth

import (
	"fmt"
	"strings"

	"gibbon/config"
	"gibbon/stage"
)

func init() { stage.Register("auth", func() stage.Plugin { return new(Auth) }) }

// location is one [AUTH] section of a site file.
type location struct {
	prefix string
	realm  string
	users  string // path as written, resolved at Provision
	file   *users
	entry  config.Entry // the Users line, for errors
	header string       // WWW-Authenticate value
}

// Decode reads every [AUTH] section of every site file:
//
//	[AUTH]
//	    Location /admin
//	    Title    "Admin area"
//	    Users    /etc/gibbon/admin.users
func (a *Auth) Decode(c *stage.PluginConfig) error {
	a.hosts = make([][]*location, len(c.Hosts))
	for i, h := range c.Hosts {
		for _, sec := range h.Find("AUTH") {
			loc, err := decodeLocation(sec)
			if err != nil {
				return err
			}
			a.hosts[i] = append(a.hosts[i], loc)
		}
	}
	return nil
}

func decodeLocation(sec *config.Section) (*location, error) {
	loc := new(location)
	var seen [3]bool
	for _, e := range sec.Entries {
		var k int
		switch {
		case strings.EqualFold(e.Key, "Location"):
			if !strings.HasPrefix(e.Value, "/") {
				return nil, e.Errorf("must begin with /")
			}
			loc.prefix = e.Value
		case strings.EqualFold(e.Key, "Title"):
			k = 1
			loc.realm = strings.Trim(e.Value, `"`)
			if strings.ContainsAny(loc.realm, "\"\\") {
				return nil, e.Errorf("realm must not contain '\"' or '\\'")
			}
		case strings.EqualFold(e.Key, "Users"):
			k = 2
			loc.users, loc.entry = e.Value, e
		default:
			return nil, stage.UnknownKey(e, "AUTH")
		}
		if seen[k] {
			return nil, e.Errorf("set twice in this [AUTH] section")
		}
		seen[k] = true
	}
	for k, name := range []string{"Location", "Title", "Users"} {
		if !seen[k] {
			return nil, &config.Error{File: sec.File, Line: sec.Line, Key: "[AUTH]", Msg: "missing " + name}
		}
	}
	loc.header = fmt.Sprintf("Basic realm=%q, charset=\"UTF-8\"", loc.realm)
	return loc, nil
}

// Provision reads the users files, each once however many locations use
// it. A missing or malformed file is an error.
func (a *Auth) Provision(ctx *stage.Context) error {
	files := make(map[string]*users)
	for _, locs := range a.hosts {
		for _, loc := range locs {
			path := ctx.Path(loc.users)
			u, ok := files[path]
			if !ok {
				var err error
				if u, err = readUsers(path); err != nil {
					if _, located := err.(*config.Error); located {
						return err
					}
					return loc.entry.Errorf("%v", err)
				}
				files[path] = u
			}
			loc.file = u
		}
	}
	return nil
}
