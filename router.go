package gibbon

import (
	"bytes"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"gibbon/stage"
)

// router is the Server's programmatic stage-30 handler source (a
// server.Router): a tree of patterns with ServeMux's precedence, walked
// without allocating. It is filled before Start and read-only after.
type router struct {
	hosts  map[string]*methodNode
	nohost methodNode
	routes []*route
	// slashed is set when a pattern other than "/" ends in "/" (or in a
	// "{name...}" wildcard), the only kind that redirects a path without
	// its trailing "/".
	slashed bool

	redirect route // answers a path that matches only with a trailing "/"
	refuse   route // answers 405 for a path that matches only other methods
}

// methodNode holds the path trees of one host, per method.
type methodNode struct {
	methods map[string]*pathNode
	any     *pathNode // patterns without a method
}

// pathNode is one segment position: literal children, then a single
// wildcard, then a multi wildcard; rt is set where a pattern ends.
type pathNode struct {
	lit   map[string]*pathNode
	wild  *pathNode
	multi *pathNode
	rt    *route
}

// routeHandler serves the requests of a route.
type routeHandler interface {
	serve(w stage.ResponseWriter, r *stage.Request, rt *route) error
}

// route is one registered pattern; it is the stage.Handler of its rule.
type route struct {
	pattern      string
	method, host string
	segs         []segment
	h            routeHandler
	rule         stage.Rule
	// inline is the rule of a HandleNonBlocking route for a request
	// without a body (nil Handler otherwise): not blocking, so it runs
	// where the request is, even on an event loop.
	inline stage.Rule
}

// segment is one path segment of a pattern: a literal (the literal "/"
// for "{$}"), a wildcard "{name}" or a multi wildcard "{name...}" (name ""
// for a trailing slash).
type segment struct {
	s           string
	wild, multi bool
}

func (rt *route) ServeGibbon(w stage.ResponseWriter, r *stage.Request) error {
	return rt.h.serve(w, r, rt)
}

// Blocking is true: library handlers run user code, never on a loop.
func (rt *route) Blocking() bool { return true }

func (rt *route) init(h routeHandler) {
	rt.h = h
	rt.rule = stage.Rule{Plugin: "gibbon", Handler: rt}
}

// ruleFor returns the rule serving r: the inline rule of a non-blocking
// route when r has no body, else the blocking one (its body is read on
// the connection's goroutine).
func (rt *route) ruleFor(r *stage.Request) *stage.Rule {
	if rt.inline.Handler != nil && !hasBody(r) {
		return &rt.inline
	}
	return &rt.rule
}

// hasBody reports whether r announces a body: a Transfer-Encoding or a
// Content-Length other than 0.
func hasBody(r *stage.Request) bool {
	for _, h := range r.Headers {
		switch len(h.Name) {
		case len("Content-Length"):
			if bytes.EqualFold(h.Name, []byte("Content-Length")) && string(h.Value) != "0" {
				return true
			}
		case len("Transfer-Encoding"):
			if bytes.EqualFold(h.Name, []byte("Transfer-Encoding")) {
				return true
			}
		}
	}
	return false
}

// inlineRoute is the stage.Handler of a non-blocking route's inline rule.
type inlineRoute struct{ rt *route }

func (ir inlineRoute) ServeGibbon(w stage.ResponseWriter, r *stage.Request) error {
	return ir.rt.h.serve(w, r, ir.rt)
}

// Blocking is false: HandleNonBlocking's contract.
func (inlineRoute) Blocking() bool { return false }

func (rr *router) init() {
	rr.hosts = make(map[string]*methodNode)
	rr.redirect.init(redirectHandler{rr})
	rr.refuse.init(refuseHandler{rr})
}

// add registers pattern for h; nonBlocking gives the route an inline
// rule (see route.ruleFor).
func (rr *router) add(pattern string, h routeHandler, nonBlocking bool) error {
	rt, err := parsePattern(pattern)
	if err != nil {
		return err
	}
	rt.init(h)
	if nonBlocking {
		rt.inline = stage.Rule{Plugin: "gibbon", Handler: inlineRoute{rt}}
	}
	mn := &rr.nohost
	if rt.host != "" {
		if mn = rr.hosts[rt.host]; mn == nil {
			mn = new(methodNode)
			rr.hosts[rt.host] = mn
		}
	}
	root := &mn.any
	if rt.method != "" {
		if mn.methods == nil {
			mn.methods = make(map[string]*pathNode)
		}
		p := mn.methods[rt.method]
		root = &p
		defer func() { mn.methods[rt.method] = p }()
	}
	if *root == nil {
		*root = new(pathNode)
	}
	n := *root
	for _, s := range rt.segs {
		n = n.child(s)
	}
	if n.rt != nil {
		return fmt.Errorf("gibbon: pattern %q conflicts with %q", pattern, n.rt.pattern)
	}
	n.rt = rt
	rr.routes = append(rr.routes, rt)
	if last := rt.segs[len(rt.segs)-1]; len(rt.segs) > 1 && (last.multi || last.s == "/") {
		rr.slashed = true
	}
	return nil
}

func (n *pathNode) child(s segment) *pathNode {
	at := func(p **pathNode) *pathNode {
		if *p == nil {
			*p = new(pathNode)
		}
		return *p
	}
	switch {
	case s.multi:
		return at(&n.multi)
	case s.wild:
		return at(&n.wild)
	}
	if n.lit == nil {
		n.lit = make(map[string]*pathNode)
	}
	c := n.lit[s.s]
	if c == nil {
		c = new(pathNode)
		n.lit[s.s] = c
	}
	return c
}

// parsePattern reads "[METHOD ][HOST]/path".
func parsePattern(pattern string) (*route, error) {
	bad := func(why string) error { return fmt.Errorf("gibbon: bad pattern %q: %s", pattern, why) }
	rt := &route{pattern: pattern}
	rest := pattern
	if i := strings.IndexAny(rest, " \t"); i >= 0 {
		rt.method, rest = rest[:i], strings.TrimLeft(rest[i:], " \t")
		if !isToken(rt.method) {
			return nil, bad("bad method")
		}
	}
	i := strings.IndexByte(rest, '/')
	if i < 0 {
		return nil, bad("the path must begin with /")
	}
	rt.host, rest = rest[:i], rest[i:]
	names := map[string]bool{}
	for {
		rest = rest[1:]
		if rest == "" {
			rt.segs = append(rt.segs, segment{multi: true})
			break
		}
		end := strings.IndexByte(rest, '/')
		seg := rest
		if end >= 0 {
			seg = rest[:end]
		}
		last := end < 0
		switch {
		case seg == "{$}":
			if !last || len(rt.segs) > 0 && rt.segs[len(rt.segs)-1].s == "" {
				return nil, bad("{$} must end a path after /")
			}
			rt.segs = append(rt.segs, segment{s: "/"})
		case strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}"):
			name, multi := strings.CutSuffix(seg[1:len(seg)-1], "...")
			switch {
			case !isIdent(name):
				return nil, bad("bad wildcard name " + name)
			case names[name]:
				return nil, bad("duplicate wildcard " + name)
			case multi && !last:
				return nil, bad("{" + name + "...} must be last")
			}
			names[name] = true
			rt.segs = append(rt.segs, segment{s: name, wild: !multi, multi: multi})
		case strings.ContainsAny(seg, "{}"):
			return nil, bad("a wildcard must be a whole segment")
		default:
			lit, err := url.PathUnescape(seg)
			if err != nil {
				return nil, bad(err.Error())
			}
			rt.segs = append(rt.segs, segment{s: lit})
		}
		if last {
			break
		}
		rest = rest[end:]
	}
	return rt, nil
}

func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte("\"(),/:;<=>?@[\\]{}", c) >= 0 {
			return false
		}
	}
	return true
}

func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		if !(c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || i > 0 && '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

// Route implements server.Router: the route matching r, the redirect to
// the path with a trailing "/", the 405 answer, or nil (the rules and the
// core serve r).
func (rr *router) Route(r *stage.Request) *stage.Rule {
	if len(rr.routes) == 0 {
		return nil
	}
	host, method := hostOf(r.Host), r.MethodName
	n, exact := rr.match(host, method, r.Path)
	if n != nil && exact {
		return n.rt.ruleFor(r)
	}
	if rr.slashed && !strings.HasSuffix(r.Path, "/") {
		if n2, exact := rr.match(host, method, r.Path+"/"); n2 != nil && exact {
			return &rr.redirect.rule
		}
	}
	if n != nil {
		return n.rt.ruleFor(r)
	}
	if len(rr.allowed(host, r.Path)) > 0 {
		return &rr.refuse.rule
	}
	return nil
}

// match walks the trees as ServeMux does: the host's first, then those
// without a host. exact is false when a multi wildcard took a non-empty
// rest of the path.
func (rr *router) match(host, method []byte, path string) (*pathNode, bool) {
	if len(host) > 0 && len(rr.hosts) > 0 {
		if mn := rr.hosts[string(host)]; mn != nil {
			if n, exact := mn.match(method, path); n != nil {
				return n, exact
			}
		}
	}
	return rr.nohost.match(method, path)
}

func (mn *methodNode) match(method []byte, path string) (*pathNode, bool) {
	if n, exact := mn.methods[string(method)].match(path); n != nil {
		return n, exact
	}
	if string(method) == "HEAD" {
		if n, exact := mn.methods["GET"].match(path); n != nil {
			return n, exact
		}
	}
	return mn.any.match(path)
}

func (n *pathNode) match(path string) (*pathNode, bool) {
	if n == nil {
		return nil, false
	}
	if path == "" {
		return n.leaf(), true
	}
	seg, rest := firstSegment(path)
	if m, exact := n.lit[seg].match(rest); m != nil {
		return m, exact
	}
	if seg != "/" {
		if m, exact := n.wild.match(rest); m != nil {
			return m, exact
		}
	}
	if n.multi != nil {
		return n.multi, len(path) == 1
	}
	return nil, false
}

// leaf returns n when a pattern ends there.
func (n *pathNode) leaf() *pathNode {
	if n.rt == nil {
		return nil
	}
	return n
}

// firstSegment splits "/a/b" into "a" and "/b"; "/" is the segment "/"
// (a trailing slash).
func firstSegment(path string) (seg, rest string) {
	if path == "/" {
		return "/", ""
	}
	path = path[1:]
	i := strings.IndexByte(path, '/')
	if i < 0 {
		i = len(path)
	}
	return path[:i], path[i:]
}

// hostOf strips the port from a Host header.
func hostOf(h []byte) []byte {
	if len(h) > 0 && h[0] == '[' {
		if i := bytes.IndexByte(h, ']'); i > 0 {
			return h[1:i]
		}
		return h
	}
	if i := bytes.LastIndexByte(h, ':'); i >= 0 {
		return h[:i]
	}
	return h
}

// allowed lists the methods of the patterns matching path, for a 405.
func (rr *router) allowed(host []byte, path string) []string {
	var out []string
	add := func(mn *methodNode) {
		if mn == nil {
			return
		}
		for m, n := range mn.methods {
			if n, _ := n.match(path); n != nil {
				out = append(out, m)
				if m == "GET" {
					out = append(out, "HEAD")
				}
			}
		}
	}
	add(rr.hosts[string(host)])
	add(&rr.nohost)
	slices.Sort(out)
	return slices.Compact(out)
}

// params records the wildcards of rt's pattern for path (which rt
// matched) into p, and the rest of the path a trailing multi wildcard
// took (with its leading "/").
func (rt *route) params(path string, p *params) {
	p.n = 0
	for _, s := range rt.segs {
		if s.multi {
			p.rest = path
			if s.s != "" {
				p.add(s.s, path[min(1, len(path)):])
			}
			return
		}
		seg, rest := firstSegment(path)
		if s.wild {
			p.add(s.s, seg)
		}
		path = rest
	}
}

// maxParams is how many wildcard values a Ctx holds without allocating.
const maxParams = 8

// params are the wildcard values of a request.
type params struct {
	rest  string // what the trailing multi wildcard took
	n     int
	fixed [maxParams]param
	more  []param
}

type param struct{ name, value string }

func (p *params) add(name, value string) {
	if p.n < maxParams {
		p.fixed[p.n] = param{name, value}
	} else {
		p.more = append(p.more, param{name, value})
	}
	p.n++
}

func (p *params) get(name string) string {
	for i := 0; i < min(p.n, maxParams); i++ {
		if p.fixed[i].name == name {
			return p.fixed[i].value
		}
	}
	for _, x := range p.more {
		if x.name == name {
			return x.value
		}
	}
	return ""
}

func (p *params) reset() {
	p.n, p.rest = 0, ""
	p.more = p.more[:0]
}

// redirectHandler answers 307 (as ServeMux does) with the path with a "/"
// appended.
type redirectHandler struct{ rr *router }

func (redirectHandler) serve(w stage.ResponseWriter, r *stage.Request, _ *route) error {
	path, query, _ := strings.Cut(string(r.Target), "?")
	if u, err := url.Parse(path); err == nil && u.IsAbs() {
		path = u.EscapedPath()
	}
	loc := path + "/"
	if query != "" {
		loc += "?" + query
	}
	w.Header().Set("Location", loc)
	return w.Respond(307, "", nil)
}

// refuseHandler answers 405 with an Allow header.
type refuseHandler struct{ rr *router }

func (h refuseHandler) serve(w stage.ResponseWriter, r *stage.Request, _ *route) error {
	w.Header().Set("Allow", strings.Join(h.rr.allowed(hostOf(r.Host), r.Path), ", "))
	return w.Respond(405, "", nil)
}
