package stage

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"gibbon/config"
)

// monkeyCore names Monkey plugins whose job gibbon's core does; loading one
// gives a warning instead of an error, so a Monkey plugins.load works.
var monkeyCore = map[string]string{
	"liana": "plain sockets are built in",
	"tls":   "use the tls flag of Listen",
}

// Load builds the Pipeline of cfg: it reads the names in plugins.load
// ([PLUGINS] "Load <name>", or Monkey's "Load /path/monkey-<name>.so"),
// creates each plugin in that order, decodes its configuration
// (<config dir>/plugins/<name>/<name>.conf or plugins/<name>.conf, plus the
// site and server-file sections), provisions and validates it, builds the
// per-stage chains and the per-host [HANDLERS] rules.
//
// An unknown plugin name, a plugin named twice, a bad [HANDLERS] rule and
// every Decode, Provision or Validate error is reported, with file and line
// where there is one (config.Errors lists them). On error every plugin
// created so far is cleaned up and the Pipeline is nil. With no plugins.load
// the Pipeline is empty (but [HANDLERS] rules naming a plugin are errors).
func Load(cfg *config.Config, env Env) (*Pipeline, error) {
	p := &Pipeline{hosts: make([]*Host, len(cfg.Hosts))}
	vhosts := buildHosts(cfg)
	for i, vh := range vhosts {
		p.hosts[i] = &Host{VHost: vh}
	}
	names, errs := p.pluginNames(cfg.Plugins)
	claimed := make(map[*config.Section]bool)
	for _, n := range names {
		pl := &loaded{name: n.name, p: n.newFn()}
		p.plugins = append(p.plugins, pl)
		if err := p.decode(cfg, pl, vhosts, claimed); err != nil {
			errs = append(errs, err)
		}
	}
	p.warnUnclaimed(cfg, claimed)
	if len(errs) == 0 {
		for _, pl := range p.plugins {
			if err := provision(pl, newContext(pl.name, cfg, env, vhosts)); err != nil {
				errs = append(errs, err)
				break
			}
		}
	}
	if len(errs) == 0 {
		p.buildChains()
		errs = append(errs, p.buildRules()...)
	}
	if len(errs) > 0 {
		p.Cleanup()
		return nil, errors.Join(errs...)
	}
	return p, nil
}

type pluginName struct {
	name  string
	newFn func() Plugin
}

// pluginNames reads the [PLUGINS] section.
func (p *Pipeline) pluginNames(sec *config.Section) ([]pluginName, []error) {
	if sec == nil {
		return nil, nil
	}
	var out []pluginName
	var errs []error
	seen := make(map[string]config.Entry)
	for _, e := range sec.Entries {
		if !strings.EqualFold(e.Key, "Load") {
			errs = append(errs, e.Errorf("unknown key in [PLUGINS] (want Load)"))
			continue
		}
		name, monkey := pluginNameOf(e.Value)
		if why, ok := monkeyCore[name]; ok && monkey {
			p.warnings = append(p.warnings, config.Warning{File: e.File, Line: e.Line, Key: e.Key,
				Msg: "Monkey plugin " + name + " not needed: " + why})
			continue
		}
		newFn, ok := factory(name)
		if !ok {
			errs = append(errs, e.Errorf("unknown plugin %q (known: %s)", name, strings.Join(Registered(), ", ")))
			continue
		}
		if prev, dup := seen[name]; dup {
			errs = append(errs, e.Errorf("plugin %s already loaded at %s:%d", name, prev.File, prev.Line))
			continue
		}
		seen[name] = e
		out = append(out, pluginName{name, newFn})
	}
	return out, errs
}

// pluginNameOf maps a Load value to a plugin name: "logger" is itself;
// Monkey's "/usr/lib/monkey/monkey-logger.so" is "logger" (monkey is then
// true).
func pluginNameOf(v string) (name string, monkey bool) {
	if strings.ContainsRune(v, '/') || strings.HasSuffix(v, ".so") {
		base := filepath.Base(v)
		base = strings.TrimSuffix(base, ".so")
		base = strings.TrimPrefix(base, "monkey-")
		return strings.ToLower(base), true
	}
	return strings.ToLower(v), false
}

// decode reads the plugin's files and calls Decode.
func (p *Pipeline) decode(cfg *config.Config, pl *loaded, vhosts []*VHost, claimed map[*config.Section]bool) error {
	pc := &PluginConfig{Name: pl.name, Server: cfg.Sections}
	for i, h := range cfg.Hosts {
		pc.Hosts = append(pc.Hosts, HostConfig{VHost: vhosts[i], Sections: h.Sections, claimed: claimed})
	}
	if cfg.Dir != "" {
		pc.Dir = filepath.Join(cfg.Dir, "plugins", pl.name)
		for _, f := range []string{filepath.Join(pc.Dir, pl.name+".conf"), filepath.Join(cfg.Dir, "plugins", pl.name+".conf")} {
			if _, err := os.Stat(f); errors.Is(err, fs.ErrNotExist) {
				continue
			}
			secs, ws, err := config.ParseFile(f)
			p.warnings = append(p.warnings, ws...)
			if err != nil {
				return fmt.Errorf("%s: %w", pl.name, err)
			}
			pc.File, pc.Sections = f, secs
			break
		}
	}
	if err := pl.p.Decode(pc); err != nil {
		return fmt.Errorf("%s: %w", pl.name, err)
	}
	return nil
}

// warnUnclaimed warns about each site-file section that no loaded plugin
// asked for ([HANDLERS] belongs to the rule builder): a section of a plugin
// missing from plugins.load, or a misspelt name.
func (p *Pipeline) warnUnclaimed(cfg *config.Config, claimed map[*config.Section]bool) {
	for _, h := range cfg.Hosts {
		for _, sec := range h.Sections {
			if claimed[sec] || sec.Name == "HANDLERS" {
				continue
			}
			p.warnings = append(p.warnings, config.Warning{File: sec.File, Line: sec.Line,
				Key: "[" + sec.Name + "]", Msg: "section read by no loaded plugin; ignored"})
		}
	}
}

func provision(pl *loaded, ctx *Context) error {
	if pv, ok := pl.p.(Provisioner); ok {
		if err := pv.Provision(ctx); err != nil {
			return fmt.Errorf("%s: %w", pl.name, err)
		}
	}
	if v, ok := pl.p.(Validator); ok {
		if err := v.Validate(); err != nil {
			return fmt.Errorf("%s: %w", pl.name, err)
		}
	}
	return nil
}

// buildRules reads the [HANDLERS] sections of every host:
//
//	Match <regex> <plugin> [params…]
func (p *Pipeline) buildRules() []error {
	var errs []error
	for _, h := range p.hosts {
		for _, sec := range h.VHost.Config.Sections {
			if sec.Name != "HANDLERS" {
				continue
			}
			for _, e := range sec.Entries {
				r, err := p.rule(e)
				if err != nil {
					errs = append(errs, err)
					continue
				}
				h.Rules = append(h.Rules, r)
			}
		}
	}
	return errs
}

func (p *Pipeline) rule(e config.Entry) (*Rule, error) {
	if !strings.EqualFold(e.Key, "Match") {
		return nil, e.Errorf("unknown key in [HANDLERS] (want Match)")
	}
	f := strings.Fields(e.Value)
	if len(f) < 2 {
		return nil, e.Errorf("want Match <regex> <plugin> [params...]")
	}
	re, err := regexp.Compile(f[0])
	if err != nil {
		return nil, e.Errorf("bad pattern: %v", err)
	}
	name := strings.ToLower(f[1])
	r := &Rule{Pattern: re, Plugin: name, Params: f[2:], File: e.File, Line: e.Line}
	pl := p.plugin(name)
	if pl == nil {
		if _, ok := factory(name); ok {
			return nil, e.Errorf("plugin %s is not loaded (add it to plugins.load)", name)
		}
		return nil, e.Errorf("unknown plugin %q", name)
	}
	if mk, ok := pl.p.(HandlerMaker); ok {
		h, err := mk.MakeHandler(r.Params)
		if err != nil {
			return nil, e.Errorf("%s: %v", name, err)
		}
		r.Handler = h
		return r, nil
	}
	h, ok := pl.p.(Handler)
	switch {
	case !ok:
		return nil, e.Errorf("plugin %s is not a content handler", name)
	case len(r.Params) > 0:
		return nil, e.Errorf("plugin %s takes no parameters", name)
	}
	r.Handler = h
	return r, nil
}
