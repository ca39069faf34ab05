package auth

import (
	"strings"

	"gibbon/stage"
)

// Auth holds the protected locations of every host. Read-only after
// Provision; its hooks are safe for concurrent use.
type Auth struct {
	hosts [][]*location // by VHost.Index, in file order
}

// match returns the first location of r's host whose prefix begins r.Path.
func (a *Auth) match(r *stage.Request) *location {
	if r.VHost == nil || r.VHost.Index >= len(a.hosts) {
		return nil
	}
	for _, loc := range a.hosts[r.VHost.Index] {
		if strings.HasPrefix(r.Path, loc.prefix) {
			return loc
		}
	}
	return nil
}

// OnRequest lets a request for an unprotected path through; for a
// protected one it checks the credentials and answers 401 with
// WWW-Authenticate when they are missing or wrong. On success it sets
// r.User.
func (a *Auth) OnRequest(w stage.ResponseWriter, r *stage.Request) stage.Verdict {
	loc := a.match(r)
	if loc == nil {
		return stage.Continue
	}
	user, password, ok := parseBasic(r.Header("Authorization"))
	if ok && loc.file.check(user, password) {
		r.User = user
		return stage.Continue
	}
	w.Header().Set("WWW-Authenticate", loc.header)
	w.Respond(401, "", nil)
	return stage.Handled
}

// Blocks reports whether checking r's credentials needs bcrypt, which
// takes tens of milliseconds: the server then runs the check off the
// event loop.
func (a *Auth) Blocks(r *stage.Request) bool {
	loc := a.match(r)
	if loc == nil {
		return false
	}
	user, _, ok := parseBasic(r.Header("Authorization"))
	return ok && loc.file.slow(user)
}

var (
	_ stage.RequestFilter = (*Auth)(nil)
	_ stage.Blocker       = (*Auth)(nil)
	_ stage.Provisioner   = (*Auth)(nil)
)
