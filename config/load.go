package config

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// File names inside a config directory.
const (
	ServerFile       = "gibbon.conf"
	MonkeyServerFile = "monkey.conf"
	SitesDir         = "sites"
	DefaultSite      = "default"
	MimeFile         = "gibbon.mime"
	MonkeyMimeFile   = "monkey.mime"
	PluginsFile      = "plugins.load"
)

// Config is a whole configuration. Load and Default return a new one each
// time; it is plain data owned by the caller.
type Config struct {
	// Dir is the absolute config directory ("" for Default).
	Dir string
	// Server is the [SERVER] section of the server file.
	Server Server
	// Hosts are the virtual hosts: the "default" site first, then the
	// others sorted by file name. There is at least one.
	Hosts []Host
	// Mime maps a lower-case extension without the dot to a MIME type.
	Mime map[string]string
	// Plugins is the [PLUGINS] section of plugins.load; nil when the file
	// is absent or has no such section.
	Plugins *Section
	// TLS holds the certificates of the listeners flagged tls: [TLS] in
	// plugins/tls/tls.conf or in the server file.
	TLS TLS
	// Sections are the sections of the server file other than [SERVER]
	// and [TLS], in order, for the plugins that own them.
	Sections []*Section
	// Warnings lists what was accepted but ignored, in file order.
	Warnings []Warning
}

// Load reads the config directory dir. serverConf is the name of the
// server file inside dir; "" means gibbon.conf, or monkey.conf when there
// is no gibbon.conf. The layout and the format are described in
// docs/CONFIG.md.
//
// Every error is an [*Error] naming file, line and key; when there are
// several they are joined with [errors.Join] ([Errors] lists them). On
// error the Config is nil.
func Load(dir, serverConf string) (*Config, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, &Error{File: dir, Msg: err.Error(), Err: err}
	}
	if st, err := os.Stat(dir); err != nil {
		return nil, &Error{File: dir, Msg: causeText(err), Err: err}
	} else if !st.IsDir() {
		return nil, &Error{File: dir, Msg: "not a directory"}
	}
	l := &loader{dir: dir, abs: abs, cfg: &Config{Dir: abs}}
	l.loadServer(serverConf)
	l.loadSites()
	l.loadMime()
	l.loadPlugins()
	l.loadTLS(l.tlsSecs)
	if len(l.errs) > 0 {
		return nil, l.errs.join()
	}
	return l.cfg, nil
}

type loader struct {
	dir  string // as given, for file names in messages
	abs  string // absolute, for resolving relative paths
	cfg  *Config
	errs errorList
	// tlsSecs are the [TLS] sections of the server file.
	tlsSecs []*Section
}

// parse parses one file and reports whether it parsed cleanly.
func (l *loader) parse(path string) ([]*Section, bool) {
	secs, ws, err := ParseFile(path)
	l.cfg.Warnings = append(l.cfg.Warnings, ws...)
	if err != nil {
		l.errs = append(l.errs, err)
		return nil, false
	}
	return secs, true
}

// firstExisting returns the path of the first name that exists in dir.
func (l *loader) firstExisting(names ...string) (string, bool) {
	for _, n := range names {
		p := filepath.Join(l.dir, n)
		if _, err := os.Stat(p); err == nil {
			return p, true
		} else if !errors.Is(err, fs.ErrNotExist) {
			l.errs.addErr(&Error{File: p, Msg: causeText(err), Err: err})
			return "", false
		}
	}
	return "", false
}

func (l *loader) loadServer(serverConf string) {
	var path string
	if serverConf == "" {
		p, ok := l.firstExisting(ServerFile, MonkeyServerFile)
		if !ok {
			if len(l.errs) == 0 {
				l.errs.addErr(&Error{File: filepath.Join(l.dir, ServerFile),
					Msg: "missing (no " + MonkeyServerFile + " either)", Err: fs.ErrNotExist})
			}
			return
		}
		path = p
	} else if filepath.IsAbs(serverConf) {
		path = serverConf
	} else {
		path = filepath.Join(l.dir, serverConf)
	}
	secs, ok := l.parse(path)
	if !ok {
		return
	}
	var server []*Section
	for _, sec := range secs {
		switch sec.Name {
		case "SERVER":
			server = append(server, sec)
		case "HOST", "ERROR_PAGES", "MIMETYPES", "PLUGINS":
			l.errs.add(sec.File, sec.Line, "["+sec.Name+"]", "section belongs in %s, not in the server file", homeOf(sec.Name))
		case "TLS", "SSL":
			l.tlsSecs = append(l.tlsSecs, sec)
		default:
			l.cfg.Sections = append(l.cfg.Sections, sec)
			l.cfg.Warnings = append(l.cfg.Warnings, Warning{File: sec.File, Line: sec.Line,
				Key: "[" + sec.Name + "]", Msg: "section not used by the core; kept for plugins"})
		}
	}
	if len(server) == 0 {
		l.errs.add(path, 0, "[SERVER]", "missing section")
		return
	}
	l.cfg.Server = decodeServer(server, &l.cfg.Warnings, &l.errs)
	if p := l.cfg.Server.PidFile; p != "" && !filepath.IsAbs(p) {
		l.cfg.Server.PidFile = filepath.Join(l.abs, p)
	}
	if p, ok := strings.CutPrefix(l.cfg.Server.Admin, AdminUnix); ok && !filepath.IsAbs(p) {
		l.cfg.Server.Admin = AdminUnix + filepath.Join(l.abs, p)
	}
}

// siteFiles lists the site files: "default" first, then the others sorted.
// Hidden files, backups ending in '~' and anything that is not a regular
// file are left out.
func (l *loader) siteFiles() []string {
	sites := filepath.Join(l.dir, SitesDir)
	ents, err := os.ReadDir(sites)
	if err != nil {
		l.errs.addErr(&Error{File: sites, Msg: causeText(err), Err: err})
		return nil
	}
	var names []string
	for _, e := range ents {
		if skipName(e.Name()) {
			continue
		}
		if st, err := os.Stat(filepath.Join(sites, e.Name())); err != nil || !st.Mode().IsRegular() {
			continue
		}
		names = append(names, e.Name())
	}
	sort.Strings(names)
	for i, n := range names {
		if n == DefaultSite {
			copy(names[1:i+1], names[:i])
			names[0] = DefaultSite
			break
		}
	}
	return names
}

func (l *loader) loadSites() {
	names := l.siteFiles()
	sites := filepath.Join(l.dir, SitesDir)
	if len(names) == 0 {
		if len(l.errs) == 0 || !isAt(l.errs[len(l.errs)-1], sites) {
			l.errs.add(sites, 0, "", "no site file: want at least %s", filepath.Join(sites, DefaultSite))
		}
		return
	}
	if names[0] != DefaultSite {
		l.cfg.Warnings = append(l.cfg.Warnings, Warning{File: filepath.Join(sites, DefaultSite),
			Msg: "missing; " + names[0] + " is the default host"})
	}
	taken := make(map[string]string)
	for i, n := range names {
		path := filepath.Join(sites, n)
		secs, ok := l.parse(path)
		if !ok {
			continue
		}
		h := decodeHost(path, secs, l.abs, i == 0, taken, &l.cfg.Warnings, &l.errs)
		l.cfg.Hosts = append(l.cfg.Hosts, h)
	}
}

func isAt(err error, file string) bool {
	var e *Error
	return errors.As(err, &e) && e.File == file
}

func (l *loader) loadMime() {
	path, ok := l.firstExisting(MimeFile, MonkeyMimeFile)
	if !ok {
		l.cfg.Mime = DefaultMime()
		return
	}
	secs, ok := l.parse(path)
	if !ok {
		return
	}
	l.cfg.Mime = decodeMime(path, secs, &l.cfg.Warnings, &l.errs)
}

func (l *loader) loadPlugins() {
	path, ok := l.firstExisting(PluginsFile)
	if !ok {
		return
	}
	secs, ok := l.parse(path)
	if !ok {
		return
	}
	for _, sec := range secs {
		switch {
		case sec.Name != "PLUGINS":
			l.cfg.Warnings = append(l.cfg.Warnings, Warning{File: sec.File, Line: sec.Line,
				Key: "[" + sec.Name + "]", Msg: "section ignored: plugins.load has only [PLUGINS]"})
		case l.cfg.Plugins == nil:
			l.cfg.Plugins = sec
		default:
			l.cfg.Plugins.Entries = append(l.cfg.Plugins.Entries, sec.Entries...)
		}
	}
}

// Default returns the embedded default configuration: [DefaultServer]
// (Listen :2001), one default host without names serving docroot (made
// absolute when it is not empty), and [DefaultMime].
func Default(docroot string) *Config {
	if docroot != "" {
		if a, err := filepath.Abs(docroot); err == nil {
			docroot = a
		}
	}
	return &Config{
		Server: DefaultServer(),
		Hosts:  []Host{{DocumentRoot: docroot, ErrorPages: make(map[int]string)}},
		Mime:   DefaultMime(),
	}
}
