package gibbon

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"gibbon/config"
	"gibbon/server"
)

// Config configures a [Server]. The zero value is valid: it listens on
// :2001 (config.DefaultListen) with one worker per CPU, serves no files
// (a request no handler takes is answered 404), loads no plugin, logs
// nothing and keeps Monkey's defaults for timeouts and limits
// (config.DefaultServer). Each field below overrides the Model when it is
// set.
type Config struct {
	// Listen are the addresses to listen on, as net.Listen takes them
	// (":8080", "127.0.0.1:0" for a free port), each optionally followed by
	// the flags of the config file's Listen key: ":8443 tls h2",
	// ":8080 h2c". Empty means the Model's, else ":2001".
	Listen []string
	// Workers is the number of epoll worker loops; 0 means the Model's,
	// else one per CPU.
	Workers int
	// DocumentRoot is the directory the default virtual host serves for
	// the requests no handler takes; "" means the Model's, else none.
	// [Server.Static] with the prefix "/" sets it too.
	DocumentRoot string
	// Logger receives the server's logs; nil discards them.
	Logger *slog.Logger
	// Version follows "gibbon/" in the Server header; "" sends "gibbon".
	Version string
	// Grace bounds Shutdown when its context has no deadline; 0 means ten
	// seconds.
	Grace time.Duration
	// Driver is how connections are served; the zero value, DriverAuto,
	// uses the epoll event loops where they run (Linux).
	Driver Driver
	// Balancing is how the epoll driver spreads new connections over its
	// workers; the zero value, BalancingDefault, keeps the Model's
	// Balancing key (reuseport unless it says fair).
	Balancing Balancing
	// Model is the whole configuration model, as the config files build it
	// ([LoadConfig], config.Load): virtual hosts with their names and
	// document roots, TLS certificates, plugins.load, [HANDLERS] rules,
	// limits and timeouts. nil means config.Default. The plugins it names
	// must be registered by importing their packages (gibbon/plugins/all
	// for the standard set). New copies what it changes; the caller keeps
	// the Model.
	Model *config.Config
}

// Driver is how a [Server] runs its connections. It is package server's
// Driver under the library's name; its String returns "auto", "epoll" or
// "goroutine".
type Driver = server.Driver

const (
	// DriverAuto, the zero value, picks DriverEpoll where the epoll engine
	// runs (Linux) and some listener is plain HTTP/1.x, else
	// DriverGoroutine.
	DriverAuto = server.DriverAuto
	// DriverEpoll serves the connections of plain listeners on epoll
	// worker loops (the Model's Workers, Balancing and WorkerCapacity); a
	// request for a handler moves its connection to a goroutine. TLS and
	// h2c listeners are served on goroutines whatever the Driver. Where
	// epoll does not run, starting the server fails.
	DriverEpoll = server.DriverEpoll
	// DriverGoroutine serves each connection on its own goroutine.
	DriverGoroutine = server.DriverGoroutine
)

// drivers are the Drivers there are, in order.
var drivers = [...]Driver{DriverAuto, DriverEpoll, DriverGoroutine}

// ParseDriver maps "auto" (or ""), "epoll" and "goroutine" to a Driver,
// for a command-line flag.
func ParseDriver(s string) (Driver, error) {
	if s == "" {
		return DriverAuto, nil
	}
	for _, d := range drivers {
		if s == d.String() {
			return d, nil
		}
	}
	return 0, fmt.Errorf("gibbon: unknown driver %q (want auto, epoll or goroutine)", s)
}

// checkDriver reports a Driver that is none of the constants.
func checkDriver(d Driver) error {
	for _, k := range drivers {
		if d == k {
			return nil
		}
	}
	return fmt.Errorf("gibbon: unknown %v", d)
}

// Balancing is how the epoll driver spreads new connections over its
// workers (the config file's Balancing key).
type Balancing uint8

const (
	// BalancingDefault, the zero value, keeps the Model's Balancing.
	BalancingDefault Balancing = iota
	// BalancingReusePort gives each worker its own SO_REUSEPORT
	// listener: the kernel spreads the connections.
	BalancingReusePort
	// BalancingFair has one acceptor give each connection to the least
	// busy worker (Monkey's -B).
	BalancingFair
)

// server maps b to package server's Balancing option.
func (b Balancing) server() (string, error) {
	switch b {
	case BalancingDefault:
		return "", nil
	case BalancingReusePort:
		return "reuseport", nil
	case BalancingFair:
		return "fair", nil
	}
	return "", fmt.Errorf("gibbon: unknown Balancing(%d)", b)
}

// LoadConfig reads the config directory dir (gibbon.conf, sites/,
// plugins.load, gibbon.mime: see docs/CONFIG.md) into a Config whose
// Model is the loaded configuration. Errors name file and line.
func LoadConfig(dir string) (Config, error) {
	m, err := config.Load(dir, "")
	if err != nil {
		return Config{}, err
	}
	return Config{Model: m}, nil
}

// model returns the configuration New serves: a copy of c.Model (or the
// default) with c's fields applied. emptyRoot is set when the default
// host has no document root: the caller gives it an empty directory.
func (c *Config) model() (m *config.Config, emptyRoot bool, err error) {
	if c.Model != nil {
		cp := *c.Model
		cp.Hosts = append([]config.Host(nil), c.Model.Hosts...)
		m = &cp
	} else {
		m = config.Default("")
	}
	if len(c.Listen) > 0 {
		m.Server.Listen = nil
		for _, s := range c.Listen {
			l, err := parseListen(s)
			if err != nil {
				return nil, false, err
			}
			m.Server.Listen = append(m.Server.Listen, l)
		}
	}
	if c.Workers > 0 {
		m.Server.Workers = c.Workers
	}
	if len(m.Hosts) == 0 {
		m.Hosts = []config.Host{{ErrorPages: map[int]string{}}}
	}
	if c.DocumentRoot != "" {
		abs, err := filepath.Abs(c.DocumentRoot)
		if err != nil {
			return nil, false, err
		}
		m.Hosts[0].DocumentRoot = abs
	}
	return m, m.Hosts[0].DocumentRoot == "", nil
}

// parseListen reads "addr [flag…]" as the Listen key does.
func parseListen(s string) (config.Listen, error) {
	f := strings.Fields(s)
	if len(f) == 0 {
		return config.Listen{}, errors.New("gibbon: empty Listen address")
	}
	l := config.Listen{Addr: f[0]}
	for _, flag := range f[1:] {
		switch flag = strings.ToLower(flag); flag {
		case "tls", "h2", "h2c":
			l.Flags = append(l.Flags, flag)
		default:
			return config.Listen{}, fmt.Errorf("gibbon: Listen %q: unknown flag %q (want tls, h2 or h2c)", s, flag)
		}
	}
	if l.Has("h2") && !l.Has("tls") || l.Has("h2c") && l.Has("tls") {
		return config.Listen{}, fmt.Errorf("gibbon: Listen %q: h2 needs tls, h2c excludes it", s)
	}
	return l, nil
}

// checkDir reports an error unless dir is a directory.
func checkDir(dir string) error {
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("gibbon: %w", err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("gibbon: %s is not a directory", dir)
	}
	return nil
}
