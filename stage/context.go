package stage

import (
	"log/slog"
	"path/filepath"
	"strings"
	"time"

	"gibbon/config"
)

// Env is what the server gives [Load] besides the configuration.
type Env struct {
	// Logger is the server's root logger; each plugin gets it scoped with
	// plugin=<name>. nil discards plugin logs.
	Logger *slog.Logger
	// Now returns the current time; the server passes its coarse clock.
	// nil means time.Now.
	Now func() time.Time
	// Workers is the number of workers, for plugins that keep per-worker
	// state (see [WorkerInit]). 0 means 1.
	Workers int
	// Previous, on a reload, is the Pipeline the new one replaces, still
	// serving; nil at start-up. See [Context.Previous].
	Previous *Pipeline
}

// Context is the API the core offers a plugin at Provision: its logger,
// the clock, MIME types, the virtual hosts and the config directory. A
// plugin may keep it; its methods are safe for concurrent use.
type Context struct {
	name        string
	logger      *slog.Logger
	now         func() time.Time
	mime        map[string]string
	defaultMime string
	hosts       []*VHost
	dir         string
	workers     int
	previous    Plugin
}

// NewContext returns the Context of plugin name under cfg. [Load] calls it;
// tests of a single plugin may too.
func NewContext(name string, cfg *config.Config, env Env) *Context {
	return newContext(name, cfg, env, buildHosts(cfg))
}

func newContext(name string, cfg *config.Config, env Env, hosts []*VHost) *Context {
	log := env.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	now := env.Now
	if now == nil {
		now = time.Now
	}
	w := env.Workers
	if w <= 0 {
		w = 1
	}
	return &Context{
		name:        name,
		logger:      log.With("plugin", name),
		now:         now,
		mime:        cfg.Mime,
		defaultMime: cfg.Server.DefaultMimeType,
		hosts:       hosts,
		dir:         cfg.Dir,
		workers:     w,
		previous:    env.Previous.Plugin(name),
	}
}

// Name returns the plugin's registered name.
func (c *Context) Name() string { return c.name }

// Logger returns the plugin's logger, scoped with plugin=<name>.
func (c *Context) Logger() *slog.Logger { return c.logger }

// Now returns the current time from the server's clock (within a second).
func (c *Context) Now() time.Time { return c.now() }

// MimeType returns the media type for a file name by its extension, or the
// server's default type.
func (c *Context) MimeType(name string) string {
	if ext := filepath.Ext(name); ext != "" {
		if t, ok := c.mime[strings.ToLower(ext[1:])]; ok {
			return t
		}
	}
	if c.defaultMime != "" {
		return c.defaultMime
	}
	return "application/octet-stream"
}

// Hosts returns the virtual hosts; Hosts()[i].Index == i.
func (c *Context) Hosts() []*VHost { return c.hosts }

// ConfigDir returns the absolute config directory ("" for the built-in
// default configuration). Relative paths in plugin configuration are taken
// relative to it.
func (c *Context) ConfigDir() string { return c.dir }

// Path resolves p against the config directory when it is relative.
func (c *Context) Path(p string) string {
	if p == "" || filepath.IsAbs(p) || c.dir == "" {
		return p
	}
	return filepath.Join(c.dir, p)
}

// Previous returns, on a reload, the instance of this plugin in the
// configuration being replaced, or nil (at start-up, or when the plugin
// was not loaded before). Both instances serve for a while: the old one
// the requests in flight, the new one every request after the swap; the
// old one's Cleanup runs after its last request. When the new
// configuration fails to load, the new instance's Cleanup runs and the
// old one goes on serving, untouched. A plugin may share a resource with its previous instance in Provision,
// such as a log file both write to, counting its users so that the
// Cleanup of either leaves it to the other.
func (c *Context) Previous() Plugin { return c.previous }

// Workers returns the number of workers.
func (c *Context) Workers() int { return c.workers }

func buildHosts(cfg *config.Config) []*VHost {
	hosts := make([]*VHost, len(cfg.Hosts))
	for i := range cfg.Hosts {
		h := &cfg.Hosts[i]
		name := "default"
		if len(h.ServerNames) > 0 {
			name = h.ServerNames[0]
		}
		hosts[i] = &VHost{
			Index:        i,
			Name:         name,
			DocumentRoot: h.DocumentRoot,
			SymLink:      cfg.Server.SymLink,
			IndexFiles:   cfg.Server.IndexFiles,
			Config:       h,
		}
	}
	return hosts
}
