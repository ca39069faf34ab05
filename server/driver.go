package server

import (
	"fmt"

	"gibbon/config"
	"gibbon/engine"
)

// Driver is how a Server runs its connections.
type Driver uint8

const (
	// DriverAuto picks DriverEpoll where the engine runs (Linux) and some
	// listener is plain HTTP/1.x, else DriverGoroutine. It is the zero
	// value.
	DriverAuto Driver = iota
	// DriverEpoll serves the connections of plain listeners on the
	// engine's epoll worker loops (config Workers, Balancing,
	// WorkerCapacity); requests that may block are handed off to a
	// goroutine. TLS and h2c listeners are served by the goroutine driver
	// whatever the Driver: TLS and HTTP/2 live on goroutines (DESIGN.md).
	DriverEpoll
	// DriverGoroutine serves each connection on its own goroutine.
	DriverGoroutine
)

var driverNames = [...]string{DriverAuto: "auto", DriverEpoll: "epoll", DriverGoroutine: "goroutine"}

// String returns "auto", "epoll" or "goroutine".
func (d Driver) String() string {
	if int(d) < len(driverNames) {
		return driverNames[d]
	}
	return fmt.Sprintf("Driver(%d)", uint8(d))
}

// chooseDriver resolves opts.Driver for cfg: DriverEpoll or
// DriverGoroutine.
func chooseDriver(d Driver, cfg *config.Config) (Driver, error) {
	switch d {
	case DriverGoroutine:
		return d, nil
	case DriverEpoll:
		if !engine.Supported() {
			return 0, fmt.Errorf("server: driver epoll: %w", engine.ErrUnsupported)
		}
		return d, nil
	case DriverAuto:
		if engine.Supported() && hasLoopListener(cfg) {
			return DriverEpoll, nil
		}
		return DriverGoroutine, nil
	}
	return 0, fmt.Errorf("server: unknown %v", d)
}

// hasLoopListener reports whether some listener is plain HTTP/1.x over
// TCP, the only kind the event loops serve.
func hasLoopListener(cfg *config.Config) bool {
	for _, l := range cfg.Server.Listen {
		if loopListener(l) {
			return true
		}
	}
	return false
}

// engineConfig maps the server's settings to the engine's. Balancing is
// Options.Balancing when set, else the config's.
func engineConfig(cfg *config.Config, set *settings, opts *Options) (engine.Config, error) {
	name := opts.Balancing
	if name == "" {
		name = cfg.Server.Balancing
	}
	b, err := engine.ParseBalancing(name)
	if err != nil {
		return engine.Config{}, fmt.Errorf("server: %w", err)
	}
	return engine.Config{
		Workers:      cfg.Server.Workers,
		Balancing:    b,
		Capacity:     cfg.Server.WorkerCapacity,
		ReadTimeout:  set.timeout,
		WriteTimeout: set.timeout,
		IdleTimeout:  set.keepAliveTimeout,
		// Off: a silent new connection is closed after Timeout, as with the
		// goroutine driver, rather than held by the kernel.
		DeferAccept: -1,
		Logger:      opts.Logger,
	}, nil
}
