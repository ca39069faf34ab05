package main

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"

	"gibbon/config"
)

// loadConfig finds the configuration: -o DIR, then -c DIR, then ./conf, then
// the embedded default serving ./htdocs or the built-in welcome page,
// written to welcome when it is not "" (a reload), else to a new
// temporary directory returned as created, for the caller to remove.
func loadConfig(o *options, welcome string) (cfg *config.Config, created string, err error) {
	switch {
	case o.oneShot != "":
		root, err := filepath.Abs(o.oneShot)
		if err != nil {
			return nil, "", err
		}
		return config.Default(root), "", nil
	case o.configDir != "":
		cfg, err := config.Load(o.configDir, o.serverConf)
		return cfg, "", err
	case isDir("conf"):
		cfg, err := config.Load("conf", o.serverConf)
		return cfg, "", err
	case o.serverConf != "":
		return nil, "", fmt.Errorf("%s: no config directory: give one with -c or create ./conf", o.serverConf)
	case isDir("htdocs"):
		root, err := filepath.Abs("htdocs")
		if err != nil {
			return nil, "", err
		}
		return config.Default(root), "", nil
	case welcome != "":
		return config.Default(welcome), "", nil
	}
	root, err := materializeWelcome()
	if err != nil {
		return nil, "", err
	}
	return config.Default(root), root, nil
}

// applyOverrides applies -p, -w, -I, --https, --tls-cert and --tls-key to
// the loaded configuration.
func applyOverrides(cfg *config.Config, o *options) error {
	if o.port >= 0 {
		ls, err := overridePort(cfg.Server.Listen, o.port)
		if err != nil {
			return err
		}
		cfg.Server.Listen = ls
	}
	if o.workers >= 0 {
		cfg.Server.Workers = o.workers
	}
	if o.pidFile != "" {
		cfg.Server.PidFile = o.pidFile
	}
	if o.https {
		for i := range cfg.Server.Listen {
			cfg.Server.Listen[i].Flags = []string{"tls", "h2"}
		}
	}
	if o.tlsCert != "" {
		cert, err := filepath.Abs(o.tlsCert)
		if err != nil {
			return err
		}
		key, err := filepath.Abs(o.tlsKey)
		if err != nil {
			return err
		}
		cfg.TLS.CertificateFile, cfg.TLS.KeyFile, cfg.TLS.ChainFile = cert, key, ""
	}
	return nil
}

// overridePort returns ls with every port replaced by port. Addresses that
// become identical are merged, keeping the first one's flags. An empty list
// becomes one listener on every interface.
func overridePort(ls []config.Listen, port int) ([]config.Listen, error) {
	p := strconv.Itoa(port)
	if len(ls) == 0 {
		return []config.Listen{{Addr: ":" + p}}, nil
	}
	out := make([]config.Listen, 0, len(ls))
	seen := make(map[string]bool, len(ls))
	for _, l := range ls {
		host, _, err := net.SplitHostPort(l.Addr)
		if err != nil {
			return nil, fmt.Errorf("listen %s: %w", l.Addr, err)
		}
		l.Addr = net.JoinHostPort(host, p)
		if seen[l.Addr] {
			continue
		}
		seen[l.Addr] = true
		out = append(out, l)
	}
	return out, nil
}

func isDir(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.IsDir()
}
