package stage

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"gibbon/config"
)

// Pipeline is the compiled plugin chain of one configuration: the loaded
// plugins in load order, one slice per stage, and the [HANDLERS] rules of
// each host. [Load] builds it; it is then read-only and safe for concurrent
// use (the hooks it calls must be too). A nil *Pipeline is valid and has no
// plugins: every method then does nothing and answers Continue.
//
// The server calls it at five points:
//
//  1. [Pipeline.Accept] when a connection is accepted, before reading;
//     Close → close it at once (then still call Close, point 5).
//  2. [Pipeline.Request] for each request head, after the virtual host is
//     known and r is filled (ask [Pipeline.RequestBlocks] first on an event
//     loop). Handled → write what w holds; Close → close without a
//     response. After Continue, if r.Rewritten(), serve EscapePath(r.Path).
//  3. [Pipeline.Route] to choose the content handler: a *Rule (call
//     Rule.Serve, off the loop when Rule.Handler.Blocking()) or nil for the
//     core (static files). When the core finds a directory without an
//     index file (static answers 403 for a path ending in "/"), call
//     [Pipeline.ServeDirectory] before answering 403.
//  4. [Pipeline.Done] once per request when its response is complete (or
//     it failed or was closed), with the Outcome.
//  5. [Pipeline.Close] once per accepted connection when it closes.
//
// Around them: [Pipeline.InitWorker] on each worker's goroutine before it
// serves, and [Pipeline.Cleanup] at shutdown.
type Pipeline struct {
	plugins []*loaded

	acceptors []hook[Acceptor]
	filters   []hook[RequestFilter]
	blockers  []Blocker // blockers[i] for filters[i], nil if it never blocks
	observers []hook[Observer]
	closers   []hook[ConnObserver]
	workers   []hook[WorkerInit]
	lister    hook[Lister]

	hosts    []*Host
	warnings []config.Warning
}

type loaded struct {
	name string
	p    Plugin
}

type hook[T any] struct {
	name string
	h    T
}

// Host holds the content-handler rules of one virtual host.
type Host struct {
	VHost *VHost
	// Rules are the [HANDLERS] rules in file order; the first whose
	// Pattern matches the request path wins.
	Rules []*Rule
}

// Rule is one "Match <regex> <plugin> [params…]" line of [HANDLERS].
type Rule struct {
	Pattern *regexp.Regexp
	Plugin  string
	Params  []string
	Handler Handler
	// File and Line locate the rule.
	File string
	Line int
}

// Serve runs the rule's handler, naming the plugin in a returned
// *HandlerError.
func (r *Rule) Serve(w ResponseWriter, req *Request) error {
	return named(r.Plugin, r.Handler.ServeGibbon(w, req))
}

func named(plugin string, err error) error {
	if err == nil {
		return nil
	}
	var he *HandlerError
	if errors.As(err, &he) && he.Plugin == "" {
		he.Plugin = plugin
	}
	return err
}

// buildChains sorts the loaded plugins into the per-stage slices, keeping
// load order.
func (p *Pipeline) buildChains() {
	for _, pl := range p.plugins {
		if h, ok := pl.p.(Acceptor); ok {
			p.acceptors = append(p.acceptors, hook[Acceptor]{pl.name, h})
		}
		if h, ok := pl.p.(RequestFilter); ok {
			p.filters = append(p.filters, hook[RequestFilter]{pl.name, h})
			b, _ := pl.p.(Blocker)
			p.blockers = append(p.blockers, b)
		}
		if h, ok := pl.p.(Observer); ok {
			p.observers = append(p.observers, hook[Observer]{pl.name, h})
		}
		if h, ok := pl.p.(ConnObserver); ok {
			p.closers = append(p.closers, hook[ConnObserver]{pl.name, h})
		}
		if h, ok := pl.p.(WorkerInit); ok {
			p.workers = append(p.workers, hook[WorkerInit]{pl.name, h})
		}
		if h, ok := pl.p.(Lister); ok && p.lister.h == nil {
			p.lister = hook[Lister]{pl.name, h}
		}
	}
}

func (p *Pipeline) plugin(name string) *loaded {
	for _, pl := range p.plugins {
		if pl.name == name {
			return pl
		}
	}
	return nil
}

// Plugins returns the names of the loaded plugins in load order.
func (p *Pipeline) Plugins() []string {
	if p == nil {
		return nil
	}
	out := make([]string, len(p.plugins))
	for i, pl := range p.plugins {
		out[i] = pl.name
	}
	return out
}

// Plugin returns the loaded plugin named name, or nil. The server uses it
// for plugin-specific operations (such as the logger's Reopen on SIGUSR1).
func (p *Pipeline) Plugin(name string) Plugin {
	if p == nil {
		return nil
	}
	if pl := p.plugin(name); pl != nil {
		return pl.p
	}
	return nil
}

// Hosts returns the per-host rules, in config order: Hosts()[i] belongs to
// config.Config.Hosts[i], which is also vhost.Table.Hosts()[i].
func (p *Pipeline) Hosts() []*Host {
	if p == nil {
		return nil
	}
	return p.hosts
}

// Warnings returns what Load accepted but ignored (Monkey core plugins,
// warnings from the plugin files).
func (p *Pipeline) Warnings() []config.Warning {
	if p == nil {
		return nil
	}
	return p.warnings
}

// Has reports whether any plugin hooks stage s (for StageHandle: any
// [HANDLERS] rule or a directory Lister). The server may skip building a
// Request when neither StageRequest nor StageDone is hooked and no rule
// exists.
func (p *Pipeline) Has(s Stage) bool {
	if p == nil {
		return false
	}
	switch s {
	case StageAccept:
		return len(p.acceptors) > 0
	case StageRequest:
		return len(p.filters) > 0
	case StageHandle:
		if p.lister.h != nil {
			return true
		}
		for _, h := range p.hosts {
			if len(h.Rules) > 0 {
				return true
			}
		}
	case StageDone:
		return len(p.observers) > 0
	case StageClose:
		return len(p.closers) > 0
	}
	return false
}

// InitWorker runs the thread-context hooks for worker id, in load order,
// and stops at the first error.
func (p *Pipeline) InitWorker(id int) error {
	if p == nil {
		return nil
	}
	for _, w := range p.workers {
		if err := w.h.InitWorker(id); err != nil {
			return fmt.Errorf("%s: worker %d: %w", w.name, id, err)
		}
	}
	return nil
}

// Accept runs stage 10 for a new connection. On the first verdict other
// than Continue it reports the refusal to the stage-40 observers (a request
// with only Conn, VHost (the default host) and Start set, Outcome.RefusedAt
// StageAccept) and returns Close: the server closes the connection without
// reading, and calls Close(c, ErrRefused).
func (p *Pipeline) Accept(c ConnInfo) Verdict {
	if p == nil {
		return Continue
	}
	for _, a := range p.acceptors {
		if a.h.OnAccept(c) == Continue {
			continue
		}
		if len(p.observers) > 0 {
			r := &Request{Conn: c, Start: c.Accepted, by: a.name, at: StageAccept}
			if len(p.hosts) > 0 {
				r.VHost = p.hosts[0].VHost
			}
			p.Done(r, Outcome{})
		}
		return Close
	}
	return Continue
}

// RequestBlocks reports whether a stage-20 filter may block on r; the
// event loop then hands the connection to a goroutine before calling
// Request.
func (p *Pipeline) RequestBlocks(r *Request) bool {
	if p == nil {
		return false
	}
	for _, b := range p.blockers {
		if b != nil && b.Blocks(r) {
			return true
		}
	}
	return false
}

// Request runs stage 20: the filters in load order until one answers
// (Handled) or closes (Close). A filter returning Handled without writing
// is answered with the standard 500 response.
func (p *Pipeline) Request(w ResponseWriter, r *Request) Verdict {
	if p == nil {
		return Continue
	}
	for _, f := range p.filters {
		v := f.h.OnRequest(w, r)
		if v == Continue {
			continue
		}
		r.by, r.at = f.name, StageRequest
		if v != Close {
			v = Handled
			if !w.Written() {
				_ = w.Respond(500, "", nil)
			}
		}
		return v
	}
	return Continue
}

// Route returns the first [HANDLERS] rule of r's host whose pattern
// matches r.Path, or nil when the core answers.
func (p *Pipeline) Route(r *Request) *Rule {
	if p == nil || r.VHost == nil || r.VHost.Index >= len(p.hosts) {
		return nil
	}
	for _, rule := range p.hosts[r.VHost.Index].Rules {
		if rule.Pattern.MatchString(r.Path) {
			return rule
		}
	}
	return nil
}

// ServeDirectory hands a directory without an index file to the loaded
// Lister. ok is false when there is none (the server answers 403).
func (p *Pipeline) ServeDirectory(w ResponseWriter, r *Request) (ok bool, err error) {
	if p == nil || p.lister.h == nil {
		return false, nil
	}
	return true, named(p.lister.name, p.lister.h.ServeDirectory(w, r))
}

// Done runs stage 40. When o.RefusedAt is 0 and a stage-10 or stage-20
// plugin answered r, Done fills RefusedAt and Plugin. When o.Duration is 0
// it is computed from r.Start.
func (p *Pipeline) Done(r *Request, o Outcome) {
	if p == nil || len(p.observers) == 0 {
		return
	}
	if o.RefusedAt == 0 && r.at != 0 {
		o.RefusedAt, o.Plugin = r.at, r.by
	}
	if o.Duration == 0 && !r.Start.IsZero() {
		o.Duration = time.Since(r.Start)
	}
	for _, ob := range p.observers {
		ob.h.OnDone(r, o)
	}
}

// Close runs stage 50 for a connection that closed; err is nil for an
// orderly close, [ErrRefused] after a stage-10 refusal.
func (p *Pipeline) Close(c ConnInfo, err error) {
	if p == nil {
		return
	}
	for _, cl := range p.closers {
		cl.h.OnClose(c, err)
	}
}

// Cleanup calls Cleanup on every plugin created, in reverse load order,
// and joins their errors. It is safe to call more than once only if the
// plugins' Cleanup methods are.
func (p *Pipeline) Cleanup() error {
	if p == nil {
		return nil
	}
	var errs []error
	for i := len(p.plugins) - 1; i >= 0; i-- {
		pl := p.plugins[i]
		if c, ok := pl.p.(Cleaner); ok {
			if err := c.Cleanup(); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", pl.name, err))
			}
		}
	}
	return errors.Join(errs...)
}

// Describe renders the effective chain per stage, the text `gibbon -t`
// prints:
//
//	plugins: mandril auth logger
//	process context: auth logger
//	worker context: -
//	stage 10 accept: mandril
//	stage 20 request: mandril auth(may block)
//	stage 30 handle:
//	  host default:
//	    ^/cgi-bin/ → cgi (blocking) [sites/default:9]
//	  directories: dirlisting
//	stage 40 done: logger
//	stage 50 close: -
func (p *Pipeline) Describe() string {
	var b strings.Builder
	if p == nil {
		p = &Pipeline{}
	}
	list := func(label string, names []string) {
		b.WriteString(label)
		b.WriteString(":")
		if len(names) == 0 {
			b.WriteString(" -")
		}
		for _, n := range names {
			b.WriteString(" ")
			b.WriteString(n)
		}
		b.WriteString("\n")
	}
	var prov []string
	for _, pl := range p.plugins {
		if _, ok := pl.p.(Provisioner); ok {
			prov = append(prov, pl.name)
		}
	}
	list("plugins", p.Plugins())
	list("process context", prov)
	list("worker context", names(p.workers))
	list("stage 10 accept", names(p.acceptors))
	var filters []string
	for i, f := range p.filters {
		n := f.name
		if p.blockers[i] != nil {
			n += "(may block)"
		}
		filters = append(filters, n)
	}
	list("stage 20 request", filters)
	b.WriteString("stage 30 handle:")
	empty := p.lister.h == nil
	for _, h := range p.hosts {
		empty = empty && len(h.Rules) == 0
	}
	if empty {
		b.WriteString(" - (static files)")
	}
	b.WriteString("\n")
	for _, h := range p.hosts {
		if len(h.Rules) == 0 {
			continue
		}
		fmt.Fprintf(&b, "  host %s:\n", h.VHost.Name)
		for _, r := range h.Rules {
			fmt.Fprintf(&b, "    %s → %s", r.Pattern, r.Plugin)
			if len(r.Params) > 0 {
				fmt.Fprintf(&b, " %s", strings.Join(r.Params, " "))
			}
			if r.Handler.Blocking() {
				b.WriteString(" (blocking)")
			}
			fmt.Fprintf(&b, " [%s:%d]\n", r.File, r.Line)
		}
	}
	if p.lister.h != nil {
		fmt.Fprintf(&b, "  directories: %s\n", p.lister.name)
	}
	list("stage 40 done", names(p.observers))
	list("stage 50 close", names(p.closers))
	return b.String()
}

func names[T any](hs []hook[T]) []string {
	var out []string
	for _, h := range hs {
		out = append(out, h.name)
	}
	return out
}
