package config

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

func mustAbs(t *testing.T, p string) string {
	t.Helper()
	a, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestLoadGibbonDir(t *testing.T) {
	t.Parallel()
	dir := filepath.Join("testdata", "gibbon")
	cfg, err := Load(dir, "")
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	abs := mustAbs(t, dir)
	want := Server{
		Listen: []Listen{
			{Addr: ":2001"},
			{Addr: "127.0.0.1:8443", Flags: []string{"tls", "h2"}},
			{Addr: "[::1]:2002", Flags: []string{"h2c"}},
		},
		Workers:             2,
		Timeout:             30 * time.Second,
		KeepAlive:           true,
		KeepAliveTimeout:    10 * time.Second,
		MaxKeepAliveRequest: 500,
		MaxRequestSize:      64 << 10,
		IndexFiles:          []string{"index.html", "index.htm", "default.html"},
		HideVersion:         true,
		Resume:              false,
		SymLink:             true,
		DefaultMimeType:     "application/octet-stream",
		User:                "nobody",
		PidFile:             filepath.Join(abs, "run", "gibbon.pid"),
		UserDir:             "public_html",
		Balancing:           "fair",
		WorkerCapacity:      4096,
		Admin:               "unix:" + filepath.Join(abs, "run", "gibbon.sock"),
	}
	if !reflect.DeepEqual(cfg.Server, want) {
		t.Errorf("Server =\n%+v\nwant\n%+v", cfg.Server, want)
	}
	if cfg.Dir != abs {
		t.Errorf("Dir = %q, want %q", cfg.Dir, abs)
	}
	sites := filepath.Join(dir, "sites")
	wantHosts := []Host{
		{
			File:         filepath.Join(sites, "default"),
			ServerNames:  []string{"127.0.0.1", "localhost"},
			DocumentRoot: filepath.Join(abs, "htdocs"),
			ErrorPages:   map[int]string{404: "404.html", 500: "errors/500.html"},
		},
		{
			File:         filepath.Join(sites, "example.com"),
			ServerNames:  []string{"example.com", "www.example.com", "*.example.com"},
			DocumentRoot: "/srv/example",
			ErrorPages:   map[int]string{},
		},
		{
			File:         filepath.Join(sites, "old.example.org"),
			ServerNames:  []string{"old.example.org"},
			DocumentRoot: "/srv/old",
			Redirect:     "https://example.com",
			ErrorPages:   map[int]string{},
		},
	}
	if !reflect.DeepEqual(cfg.Hosts, wantHosts) {
		t.Errorf("Hosts =\n%+v\nwant\n%+v", cfg.Hosts, wantHosts)
	}
	wantMime := map[string]string{"html": "text/html; charset=utf-8", "css": "text/css", "wasm": "application/wasm"}
	if !reflect.DeepEqual(cfg.Mime, wantMime) {
		t.Errorf("Mime = %v, want %v", cfg.Mime, wantMime)
	}
	if cfg.Plugins == nil || cfg.Plugins.Name != "PLUGINS" || len(cfg.Plugins.All("load")) != 2 {
		t.Errorf("Plugins = %+v", cfg.Plugins)
	}
	if len(cfg.Sections) != 1 || cfg.Sections[0].Name != "CACHE" {
		t.Errorf("Sections = %+v", cfg.Sections)
	}
	wantWarn := []place{{filepath.Join(dir, "conf.d", "20-cache.conf"), 1, "[CACHE]"}}
	if got := warningPlaces(cfg.Warnings); !samePlaces(got, wantWarn) {
		t.Errorf("warnings at %+v, want %+v (%v)", got, wantWarn, cfg.Warnings)
	}
}

// A Monkey configuration directory loads unchanged, with warnings only.
func TestLoadMonkeyDir(t *testing.T) {
	t.Parallel()
	dir := filepath.Join("testdata", "monkey")
	cfg, err := Load(dir, "")
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	conf := filepath.Join(dir, "monkey.conf")
	wantWarn := []place{
		{conf, 72, "TransportLayer"},
		{conf, 75, "FDT"},
		{conf, 76, "OverCapacity"},
		{conf, 81, "FDLimit"},
	}
	if got := warningPlaces(cfg.Warnings); !samePlaces(got, wantWarn) {
		t.Errorf("warnings at %+v, want %+v", got, wantWarn)
	}
	s := cfg.Server
	if len(s.Listen) != 1 || s.Listen[0].Addr != ":2001" || s.PidFile != "/var/run/monkey.pid" ||
		!reflect.DeepEqual(s.IndexFiles, []string{"index.html", "index.htm", "index.php"}) {
		t.Errorf("Server = %+v", s)
	}
	if len(cfg.Hosts) != 1 || cfg.Hosts[0].DocumentRoot != "/usr/share/monkey/htdocs" ||
		cfg.Hosts[0].ErrorPages[404] != "404.html" || len(cfg.Hosts[0].Sections) != 2 ||
		cfg.Hosts[0].Sections[0].Name != "LOGGER" || cfg.Hosts[0].Sections[0].File != filepath.Join(dir, "sites", "default") {
		t.Fatalf("Hosts = %+v", cfg.Hosts)
	}
	if e, ok := cfg.Hosts[0].Sections[1].Get("Match"); !ok || e.Value != `/.*\.php fastcgi` {
		t.Errorf("HANDLERS Match = %+v", e)
	}
	if got := cfg.Mime["js"]; got != "application/x-javascript" {
		t.Errorf("Mime[js] = %q", got)
	}
	if cfg.Plugins == nil || len(cfg.Plugins.Entries) != 2 {
		t.Errorf("Plugins = %+v", cfg.Plugins)
	}
	// The server file can be named explicitly.
	if _, err := Load(dir, "monkey.conf"); err != nil {
		t.Errorf("Load(monkey.conf): %v", err)
	}
}

// writeDir creates files (relative path → contents) under a new directory.
func writeDir(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, text := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

const (
	okServer = "[SERVER]\n  Listen 0\n"
	okSite   = "[HOST]\n  DocumentRoot /srv\n"
)

func TestLoadServerFileChoice(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		files      map[string]string
		serverConf string
		wantAddr   string // "" = error expected
	}{
		{"gibbon.conf preferred", map[string]string{"gibbon.conf": "[SERVER]\n  Listen 1\n", "monkey.conf": "[SERVER]\n  Listen 2\n"}, "", ":1"},
		{"monkey.conf fallback", map[string]string{"monkey.conf": "[SERVER]\n  Listen 2\n"}, "", ":2"},
		{"named file", map[string]string{"gibbon.conf": "[SERVER]\n  Listen 1\n", "other.conf": "[SERVER]\n  Listen 3\n"}, "other.conf", ":3"},
		{"named file missing", map[string]string{"gibbon.conf": okServer}, "other.conf", ""},
		{"none", map[string]string{}, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.files["sites/default"] = okSite
			dir := writeDir(t, tc.files)
			cfg, err := Load(dir, tc.serverConf)
			if tc.wantAddr == "" {
				if !errors.Is(err, fs.ErrNotExist) || len(Errors(err)) == 0 {
					t.Fatalf("Load = %v, want a not-exist *Error", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := cfg.Server.Listen[0].Addr; got != tc.wantAddr {
				t.Errorf("Listen = %q, want %q", got, tc.wantAddr)
			}
		})
	}
}

func TestLoadSiteOrder(t *testing.T) {
	t.Parallel()
	dir := writeDir(t, map[string]string{
		"gibbon.conf":       okServer,
		"sites/zz":          "[HOST]\n  ServerName zz\n  DocumentRoot /zz\n",
		"sites/default":     "[HOST]\n  DocumentRoot rel/root\n",
		"sites/aa":          "[HOST]\n  ServerName aa\n  DocumentRoot /aa\n",
		"sites/.aa.swp":     "junk",
		"sites/aa~":         "junk",
		"sites/dir/default": "junk",
	})
	cfg, err := Load(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, h := range cfg.Hosts {
		got = append(got, filepath.Base(h.File))
	}
	if want := []string{"default", "aa", "zz"}; !reflect.DeepEqual(got, want) {
		t.Errorf("hosts %v, want %v", got, want)
	}
	if want := filepath.Join(dir, "rel", "root"); cfg.Hosts[0].DocumentRoot != want {
		t.Errorf("DocumentRoot = %q, want %q", cfg.Hosts[0].DocumentRoot, want)
	}
	if !reflect.DeepEqual(cfg.Mime, DefaultMime()) {
		t.Errorf("Mime is not DefaultMime without a MIME file")
	}
	if cfg.Plugins != nil {
		t.Errorf("Plugins = %+v without plugins.load", cfg.Plugins)
	}
}

func TestLoadNoDefaultSite(t *testing.T) {
	t.Parallel()
	dir := writeDir(t, map[string]string{
		"gibbon.conf": okServer,
		"sites/b":     "[HOST]\n  ServerName b\n  DocumentRoot /b\n",
		"sites/a":     "[HOST]\n  DocumentRoot /a\n",
	})
	cfg, err := Load(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(cfg.Hosts[0].File) != "a" {
		t.Errorf("default host is %s, want a", cfg.Hosts[0].File)
	}
	want := []place{{filepath.Join(dir, "sites", "default"), 0, ""}}
	if got := warningPlaces(cfg.Warnings); !samePlaces(got, want) {
		t.Errorf("warnings at %+v, want %+v", got, want)
	}
}

// TestLoadErrors checks that each broken directory fails with errors at
// the expected places (paths relative to the directory).
func TestLoadErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		files map[string]string
		errs  []place
	}{
		{"no sites dir", map[string]string{"gibbon.conf": okServer}, []place{{"sites", 0, ""}}},
		{"empty sites dir", map[string]string{"gibbon.conf": okServer, "sites/.keep": ""}, []place{{"sites", 0, ""}}},
		{"no SERVER section", map[string]string{"gibbon.conf": "[OTHER]\n  a b\n", "sites/default": okSite},
			[]place{{"gibbon.conf", 0, "[SERVER]"}}},
		{"HOST in server file", map[string]string{"gibbon.conf": okServer + "[HOST]\n  DocumentRoot /x\n", "sites/default": okSite},
			[]place{{"gibbon.conf", 3, "[HOST]"}}},
		{"misspelt server key", map[string]string{"gibbon.conf": "[SERVER]\n  Listen 1\n  KeepAlve on\n", "sites/default": okSite},
			[]place{{"gibbon.conf", 3, "KeepAlve"}}},
		{"duplicate server key", map[string]string{"gibbon.conf": "[SERVER]\n  Timeout 1\n  timeout 2\n", "sites/default": okSite},
			[]place{{"gibbon.conf", 3, "timeout"}}},
		{"bad indentation in server file", map[string]string{"gibbon.conf": "[SERVER]\n  Listen 1\n    Workers 2\n", "sites/default": okSite},
			[]place{{"gibbon.conf", 3, "Workers"}}},
		{"several bad values", map[string]string{
			"gibbon.conf":   "[SERVER]\n  Listen 99999\n  Workers -1\n  KeepAlive yes\n  Timeout 0\n  MaxRequestSize 1k\n",
			"sites/default": okSite},
			[]place{{"gibbon.conf", 2, "Listen"}, {"gibbon.conf", 3, "Workers"}, {"gibbon.conf", 4, "KeepAlive"},
				{"gibbon.conf", 5, "Timeout"}, {"gibbon.conf", 6, "MaxRequestSize"}}},
		{"missing HOST", map[string]string{"gibbon.conf": okServer, "sites/default": "[ERROR_PAGES]\n  404 x\n"},
			[]place{{"sites/default", 0, "[HOST]"}}},
		{"missing DocumentRoot", map[string]string{"gibbon.conf": okServer, "sites/default": "[HOST]\n  ServerName a\n"},
			[]place{{"sites/default", 1, "DocumentRoot"}}},
		{"missing ServerName on a second host", map[string]string{"gibbon.conf": okServer, "sites/default": okSite, "sites/b": okSite},
			[]place{{"sites/b", 1, "ServerName"}}},
		{"misspelt host key", map[string]string{"gibbon.conf": okServer, "sites/default": okSite + "  ServerNmae x\n"},
			[]place{{"sites/default", 3, "ServerNmae"}}},
		{"duplicate DocumentRoot", map[string]string{"gibbon.conf": okServer, "sites/default": okSite + "  DocumentRoot /y\n"},
			[]place{{"sites/default", 3, "DocumentRoot"}}},
		{"bad server names", map[string]string{"gibbon.conf": okServer,
			"sites/default": okSite + "  ServerName ok.example *\n  ServerName a.*.com\n  ServerName *a.com\n  ServerName x:80\n"},
			[]place{{"sites/default", 3, "ServerName"}, {"sites/default", 4, "ServerName"}, {"sites/default", 5, "ServerName"},
				{"sites/default", 6, "ServerName"}}},
		{"server name on two hosts", map[string]string{"gibbon.conf": okServer,
			"sites/default": okSite + "  ServerName a.example\n", "sites/b": okSite + "  ServerName A.example.\n"},
			[]place{{"sites/b", 3, "ServerName"}}},
		{"bad redirect", map[string]string{"gibbon.conf": okServer, "sites/default": okSite + "  Redirect /elsewhere\n"},
			[]place{{"sites/default", 3, "Redirect"}}},
		{"bad error pages", map[string]string{"gibbon.conf": okServer,
			"sites/default": okSite + "[ERROR_PAGES]\n  404 a.html\n  200 b.html\n  600 c.html\n  abc d.html\n  404 e.html\n  500 ../../etc/passwd\n"},
			[]place{{"sites/default", 5, "200"}, {"sites/default", 6, "600"}, {"sites/default", 7, "abc"},
				{"sites/default", 8, "404"}, {"sites/default", 9, "500"}}},
		{"SERVER in site file", map[string]string{"gibbon.conf": okServer, "sites/default": okSite + "[SERVER]\n  Listen 1\n"},
			[]place{{"sites/default", 3, "[SERVER]"}}},
		{"bad mime", map[string]string{"gibbon.conf": okServer, "sites/default": okSite,
			"gibbon.mime": "[MIMETYPES]\n  html text/html\n  .css text/css\n  png image\n"},
			[]place{{"gibbon.mime", 3, ".css"}, {"gibbon.mime", 4, "png"}}},
		{"mime without section", map[string]string{"gibbon.conf": okServer, "sites/default": okSite, "monkey.mime": "# nothing\n"},
			[]place{{"monkey.mime", 0, "[MIMETYPES]"}}},
		{"errors in several files", map[string]string{"gibbon.conf": "[SERVER]\n  Listen x\n", "sites/default": okSite + "  Oops 1\n",
			"plugins.load": "Load x\n"},
			[]place{{"gibbon.conf", 2, "Listen"}, {"sites/default", 3, "Oops"}, {"plugins.load", 1, "Load"}}},
		{"include cycle", map[string]string{"gibbon.conf": okServer + "@INCLUDE a.conf\n", "a.conf": "@INCLUDE gibbon.conf\n", "sites/default": okSite},
			[]place{{"a.conf", 1, "@INCLUDE"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := writeDir(t, tc.files)
			cfg, err := Load(dir, "")
			if err == nil || cfg != nil {
				t.Fatalf("Load = %+v, nil; want errors", cfg)
			}
			var want []place
			for _, p := range tc.errs {
				want = append(want, place{filepath.Join(dir, p.File), p.Line, p.Key})
			}
			if got := errorPlaces(t, err); !samePlaces(got, want) {
				t.Errorf("errors at %+v\nwant %+v\n(%v)", got, want, err)
			}
		})
	}
}

func TestLoadNotADirectory(t *testing.T) {
	t.Parallel()
	dir := writeDir(t, map[string]string{"file": ""})
	for _, p := range []string{filepath.Join(dir, "file"), filepath.Join(dir, "missing")} {
		var e *Error
		if _, err := Load(p, ""); !errors.As(err, &e) || e.File != p {
			t.Errorf("Load(%s) = %v, want *Error naming it", p, err)
		}
	}
}

func TestDefault(t *testing.T) {
	t.Parallel()
	cfg := Default("/srv/www")
	if cfg.Dir != "" || len(cfg.Hosts) != 1 || cfg.Hosts[0].DocumentRoot != "/srv/www" || cfg.Hosts[0].ErrorPages == nil {
		t.Errorf("Default = %+v", cfg)
	}
	if !reflect.DeepEqual(cfg.Server, DefaultServer()) || cfg.Server.Listen[0].Addr != ":2001" {
		t.Errorf("Default().Server = %+v", cfg.Server)
	}
	if !reflect.DeepEqual(cfg.Mime, DefaultMime()) {
		t.Errorf("Default().Mime differs from DefaultMime")
	}
	if rel := Default("htdocs").Hosts[0].DocumentRoot; !filepath.IsAbs(rel) {
		t.Errorf("Default(htdocs) root %q is not absolute", rel)
	}
	// Values are not shared between calls.
	a, b := Default("/a"), Default("/b")
	a.Server.IndexFiles[0] = "changed"
	a.Mime["html"] = "changed"
	if b.Server.IndexFiles[0] == "changed" || b.Mime["html"] == "changed" {
		t.Errorf("Default shares state between calls")
	}
}

func TestDefaultMime(t *testing.T) {
	t.Parallel()
	m := DefaultMime()
	for _, ext := range []string{"html", "htm", "css", "js", "mjs", "json", "txt", "xml", "svg", "png", "jpg", "jpeg",
		"gif", "webp", "avif", "ico", "woff", "woff2", "ttf", "otf", "pdf", "zip", "gz", "tar", "mp4", "webm", "mp3",
		"ogg", "wav", "wasm", "map", "md", "csv", "bin"} {
		if m[ext] == "" {
			t.Errorf("DefaultMime has no %s", ext)
		}
	}
	for ext, typ := range m {
		if err := parseMediaType(typ); err != nil || ext != toLower(ext) {
			t.Errorf("DefaultMime[%s] = %q: %v", ext, typ, err)
		}
	}
}

func toLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
