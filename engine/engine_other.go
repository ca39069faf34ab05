//go:build !linux

package engine

import (
	"context"
	"net"
	"time"
)

// Supported reports whether the engine runs on this system. It is false
// here: the server serves every connection with its goroutine driver.
func Supported() bool { return false }

// Engine is unavailable on this system; New returns ErrUnsupported.
type Engine struct{}

// worker is the loop's state; on this system only what Conn refers to.
type worker struct {
	id       int
	draining bool
	pools    pools
}

// New returns ErrUnsupported on this system.
func New(cfg Config, p Protocol, onHandoff func(Detached)) (*Engine, error) {
	return nil, ErrUnsupported
}

// Config returns the zero Config.
func (e *Engine) Config() Config { return Config{} }

// Listen returns ErrUnsupported.
func (e *Engine) Listen(addrs ...string) error { return ErrUnsupported }

// Addrs returns nil.
func (e *Engine) Addrs() []net.Addr { return nil }

// Serve returns ErrUnsupported.
func (e *Engine) Serve() error { return ErrUnsupported }

// Shutdown returns nil.
func (e *Engine) Shutdown(ctx context.Context) error { return nil }

// LocalAddr returns nil on this system.
func (c *Conn) LocalAddr() net.Addr { return nil }

// Stats returns nil.
func (e *Engine) Stats() []WorkerStats { return nil }

// Conns returns nil: there are no workers.
func (e *Engine) Conns(limit int) (conns [][]ConnStatus, idle []int) { return nil, nil }

// Each does nothing: there are no workers.
func (e *Engine) Each(fn func(worker int)) {}

// SetTimeouts does nothing.
func (e *Engine) SetTimeouts(read, idle, write time.Duration) {}
