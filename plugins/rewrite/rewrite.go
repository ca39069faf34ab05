package rewrite

import (
	"net/url"
	"regexp"
	"strings"

	"gibbon/config"
	"gibbon/stage"
	"gibbon/static"
)

// MaxRewrites bounds the rewrites applied to one request; a request that
// needs more (a loop) is answered 500.
const MaxRewrites = 10

// Rewrite holds the rules of each host. Read-only after Decode; safe for
// concurrent use.
type Rewrite struct {
	hosts [][]*rule // by VHost.Index
}

type rule struct {
	re       *regexp.Regexp
	repl     string
	last     bool
	redirect int // 0, 301 or 302
	conds    []cond
	at       config.Entry
}

type condVar uint8

const (
	condQuery condVar = iota
	condMethod
	condHost
)

type cond struct {
	what   condVar
	re     *regexp.Regexp
	negate bool
}

// OnRequest applies the host's rules to the decoded path. Rules run in
// order; a matching rule (whose conditions hold) rewrites the path and
// processing goes on with the next rule, unless the rule has the last
// flag. When a pass over the rules changed the path and did not end on a
// last rule, the rules run again on the new path, up to MaxRewrites
// rewrites in all (then 500). A redirect or permanent rule answers 302 or
// 301 at once.
func (rw *Rewrite) OnRequest(w stage.ResponseWriter, r *stage.Request) stage.Verdict {
	if r.VHost == nil || r.VHost.Index >= len(rw.hosts) || len(rw.hosts[r.VHost.Index]) == 0 {
		return stage.Continue
	}
	rules := rw.hosts[r.VHost.Index]
	path, query := r.Path, r.Query
	count, changed := 0, false
	for {
		passChanged, stop := false, false
		for _, ru := range rules {
			m := ru.re.FindStringSubmatchIndex(path)
			if m == nil || !ru.holds(r, query) {
				continue
			}
			count++
			if count > MaxRewrites {
				w.Respond(500, "", nil)
				return stage.Handled
			}
			p, q, hasQuery := expand(ru.repl, path, m)
			if !hasQuery {
				q = query
			}
			if ru.redirect != 0 {
				loc := p
				if q != "" {
					loc += "?" + q
				}
				w.Header().Set("Location", loc)
				w.Respond(ru.redirect, "", nil)
				return stage.Handled
			}
			clean, status := static.CleanPath([]byte(p))
			if status != 0 {
				w.Respond(status, "", nil)
				return stage.Handled
			}
			if clean != path || q != query {
				passChanged = true
			}
			path, query = clean, q
			if ru.last {
				stop = true
				break
			}
		}
		changed = changed || passChanged
		if stop || !passChanged {
			break
		}
	}
	if changed {
		r.Rewrite(path, query)
	}
	return stage.Continue
}

// holds reports whether every condition of the rule holds for r.
func (ru *rule) holds(r *stage.Request, query string) bool {
	for _, c := range ru.conds {
		var v string
		switch c.what {
		case condQuery:
			v = query
		case condMethod:
			v = string(r.MethodName)
		case condHost:
			v = strings.ToLower(string(r.Host))
		}
		if c.re.MatchString(v) == c.negate {
			return false
		}
	}
	return true
}

// expand fills the replacement template repl with the submatches m of src:
// $0 … $9 insert a capture, $$ a '$'; any other '$' is literal. The
// template's first literal '?' separates the path from the query. Captures
// are decoded text, so they are percent-encoded where they land: with
// [stage.EscapePath] in the path, with url.QueryEscape in the query.
// hasQuery reports whether the template had a '?'.
func expand(repl, src string, m []int) (path, query string, hasQuery bool) {
	var b strings.Builder
	inQuery := false
	for i := 0; i < len(repl); i++ {
		c := repl[i]
		switch {
		case c == '$' && i+1 < len(repl) && repl[i+1] == '$':
			b.WriteByte('$')
			i++
		case c == '$' && i+1 < len(repl) && '0' <= repl[i+1] && repl[i+1] <= '9':
			n := int(repl[i+1] - '0')
			i++
			if 2*n+1 < len(m) && m[2*n] >= 0 {
				capture := src[m[2*n]:m[2*n+1]]
				if inQuery {
					b.WriteString(url.QueryEscape(capture))
				} else {
					b.WriteString(stage.EscapePath(capture))
				}
			}
		case c == '?' && !inQuery:
			path = b.String()
			b.Reset()
			inQuery, hasQuery = true, true
		default:
			b.WriteByte(c)
		}
	}
	if inQuery {
		return path, b.String(), true
	}
	return b.String(), "", false
}

var _ stage.RequestFilter = (*Rewrite)(nil)
