package server

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync/atomic"

	"gibbon/config"
	"gibbon/stage"
	"gibbon/vhost"
)

// generation is what Reload replaces: the settings, virtual hosts and
// plugins of one configuration. It is read-only once made. The Server
// publishes the current one (Server.gen); a request reads the one it
// started with to its end, so a reload never changes a request in flight.
//
// The plugins of a generation live until the last request using them
// ends: holds counts one for being current plus one per request in
// flight on a goroutine (and per connection being handed off by a loop);
// the event loops need no hold, since Reload waits until every loop took
// the new generation (engine.Engine.Each). The last release runs the
// pipeline's Cleanup. The settings need no hold: they are memory the
// garbage collector keeps while someone reads them.
type generation struct {
	cfg   *config.Config
	set   settings
	pp    pipe
	holds atomic.Int64
	// cleaned is closed once the plugins' Cleanup ran, with its error in
	// cleanErr.
	cleaned  chan struct{}
	cleanErr error
}

// newGeneration checks cfg's document roots and loads its plugins into a
// generation with one hold (being current). prev, when not nil, is the
// pipeline it replaces, offered to the new plugins (stage.Env.Previous).
func (s *Server) newGeneration(cfg *config.Config, workers int, prev *stage.Pipeline) (*generation, error) {
	for _, h := range cfg.Hosts {
		if err := checkDocRoot(h.DocumentRoot); err != nil {
			return nil, fmt.Errorf("server: host %s: %w", h.File, err)
		}
	}
	vt, err := vhost.New(cfg.Hosts)
	if err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	p, err := stage.Load(cfg, stage.Env{Logger: s.log, Now: s.now, Workers: workers, Previous: prev})
	if err != nil {
		return nil, fmt.Errorf("server: plugins: %w", err)
	}
	g := &generation{
		cfg:     cfg,
		set:     newSettings(cfg, vt, s.opts.Version),
		pp:      newPipe(p, vt, s.opts.Router),
		cleaned: make(chan struct{}),
	}
	g.holds.Store(1)
	return g, nil
}

// current returns the generation new requests use.
func (s *Server) current() *generation { return s.gen.Load() }

// acquire returns the current generation with a hold on it for one
// request; release gives it back. A generation whose last hold is gone is
// never held again: acquire then takes the newer one.
func (s *Server) acquire() *generation {
	for {
		g := s.gen.Load()
		for n := g.holds.Load(); n > 0; n = g.holds.Load() {
			if g.holds.CompareAndSwap(n, n+1) {
				return g
			}
		}
	}
}

// release drops a hold on g. The last one cleans its plugins up, on a
// goroutine of its own: the request that released it must not wait for
// the logger's files to be written.
func (s *Server) release(g *generation) {
	if g.holds.Add(-1) == 0 {
		go s.clean(g)
	}
}

// clean runs g's plugins' Cleanup and closes g.cleaned. An error is
// logged for a replaced generation; Shutdown returns the last one's.
func (s *Server) clean(g *generation) {
	g.cleanErr = g.pp.p.Cleanup()
	if g.cleanErr != nil && g != s.current() {
		s.log.Error("cleaning up the plugins of the replaced configuration", "err", g.cleanErr)
	}
	close(g.cleaned)
}

// Reload swaps in cfg for new requests, as nginx does on SIGHUP: cfg is
// checked and its plugins loaded (each may take over resources of its
// previous instance, see stage.Env.Previous) and initialised for every
// worker; on any error the running configuration stays, untouched, and
// the error is returned. Then the virtual hosts, error pages, redirects,
// plugins, MIME types and the settings that can change at run time
// (Timeout, KeepAlive, KeepAliveTimeout, MaxKeepAliveRequest,
// MaxRequestSize, Indexfile, HideVersion, Resume, SymLink,
// DefaultMimeType, UserDir) apply to every request that starts from now
// on; requests in flight finish under the configuration they started
// with, and the replaced plugins are cleaned up once the last of them
// ends. Stage 50 of a connection runs on the plugins current when it
// closes. The static file caches key their entries by document root and
// settings, so a file resolved under the old configuration is not served
// under the new one.
//
// The keys that need a restart (see RestartKeys) keep their running
// values when they changed: Reload logs one warning naming them. The TLS
// certificate files are read again, as ReloadCertificates does.
// Reload is safe for concurrent use; it returns an error after Shutdown
// has begun.
func (s *Server) Reload(cfg *config.Config) error {
	if cfg == nil {
		return errors.New("server: nil config")
	}
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	if s.shutting.Load() {
		return errors.New("server: shut down")
	}
	old := s.current()
	if keys := RestartKeys(old.cfg, cfg); len(keys) > 0 {
		s.log.Warn("reload: changed keys need a restart; keeping their running values", "keys", keys)
		cfg = keepRestartKeys(old.cfg, cfg)
	}
	g, err := s.newGeneration(cfg, s.workers, old.pp.p)
	if err != nil {
		return err
	}
	if err := s.initGeneration(g); err != nil {
		g.pp.p.Cleanup()
		return err
	}
	if err := s.ReloadCertificates(); err != nil {
		s.log.Error("reload: TLS certificates failed to load; keeping the current ones", "err", err)
	}
	s.gen.Store(g)
	s.mu.Lock()
	e, l := s.eng, s.loop
	s.replaced = slices.DeleteFunc(s.replaced, func(g *generation) bool { return isClosed(g.cleaned) })
	s.replaced = append(s.replaced, old)
	s.mu.Unlock()
	if e != nil {
		e.SetTimeouts(g.set.timeout, g.set.keepAliveTimeout, g.set.timeout)
		e.Each(func(id int) { l.workers[id].use(g) })
	}
	s.release(old)
	return nil
}

// isClosed reports whether ch is closed.
func isClosed(ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// initGeneration runs the thread-context hook of g's plugins for each
// worker, when the workers of the current one were (Serve ran).
func (s *Server) initGeneration(g *generation) error {
	for id := range s.initialized {
		if err := g.pp.p.InitWorker(id); err != nil {
			return fmt.Errorf("server: plugins: %w", err)
		}
	}
	return nil
}

// RestartKeys names the keys of the [SERVER] section (and [TLS]) whose
// change from old to cfg a reload does not apply: the listeners, the
// workers and their scheduling, the user, the pid file, the admin
// endpoint, the TLS files and the hosts' certificates. A reload keeps
// their running values.
func RestartKeys(old, cfg *config.Config) []string {
	o, n := &old.Server, &cfg.Server
	var keys []string
	add := func(changed bool, key string) {
		if changed {
			keys = append(keys, key)
		}
	}
	add(!slices.EqualFunc(o.Listen, n.Listen, func(a, b config.Listen) bool {
		return a.Addr == b.Addr && slices.Equal(a.Flags, b.Flags)
	}), "Listen")
	add(o.Workers != n.Workers, "Workers")
	add(o.Balancing != n.Balancing, "Balancing")
	add(o.WorkerCapacity != n.WorkerCapacity, "WorkerCapacity")
	add(o.User != n.User, "User")
	add(o.PidFile != n.PidFile, "PidFile")
	add(o.Admin != n.Admin, "Admin")
	add(old.TLS != cfg.TLS, "[TLS]")
	add(!slices.Equal(hostCerts(old), hostCerts(cfg)), "CertificateFile")
	return keys
}

// hostCerts lists the certificate files of the hosts that have one, each
// followed by the host's names (the TLS store's SNI table).
func hostCerts(cfg *config.Config) []string {
	var out []string
	for i, h := range cfg.Hosts {
		if h.CertificateFile != "" {
			out = append(out, strconv.FormatBool(i == 0), h.CertificateFile, h.KeyFile) // the first host's is the default
			out = append(out, h.ServerNames...)
		}
	}
	return out
}

// keepRestartKeys returns a copy of cfg with old's values for the keys
// RestartKeys compares.
func keepRestartKeys(old, cfg *config.Config) *config.Config {
	c := *cfg
	o, n := &old.Server, &c.Server
	n.Listen, n.Workers, n.Balancing, n.WorkerCapacity = o.Listen, o.Workers, o.Balancing, o.WorkerCapacity
	n.User, n.PidFile, n.Admin = o.User, o.PidFile, o.Admin
	c.TLS = old.TLS
	return &c
}
