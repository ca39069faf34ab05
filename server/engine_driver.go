package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"syscall"

	"gibbon/engine"
	"gibbon/internal/clock"
)

// listenEngine creates the engine and binds every plain Listen address on
// it (the epoll driver's Listen; TLS and h2c listeners are the goroutine
// driver's). s.mu is held. On error nothing stays bound.
func (s *Server) listenEngine() error {
	l := &loop{srv: s}
	e, err := engine.New(s.engCfg, l, s.adopt)
	if err != nil {
		return fmt.Errorf("server: %w", err)
	}
	for _, la := range s.cfg.Server.Listen {
		if !loopListener(la) {
			continue
		}
		if err := e.Listen(la.Addr); err != nil {
			e.Shutdown(context.Background()) // not serving: closes at once
			return fmt.Errorf("server: listen %s: %w", la.Addr, listenError(la.Addr, err))
		}
	}
	s.setClock(clock.New())
	l.makeWorkers(e.Config().Workers)
	s.eng, s.loop = e, l
	return nil
}

// listenError presents an engine bind error as net.Listen would: a
// *net.OpError naming the address, so that callers read it the same way
// whatever the driver.
func listenError(addr string, err error) error {
	var errno syscall.Errno
	a, rerr := net.ResolveTCPAddr("tcp", addr)
	if !errors.As(err, &errno) || rerr != nil {
		return err
	}
	return &net.OpError{Op: "listen", Net: "tcp", Addr: a, Err: errno}
}

// serveEngine runs the engine's loops (the epoll driver's Serve). Like the
// goroutine driver's Serve it returns once Shutdown has begun, while the
// loops finish the requests in flight (Shutdown waits for them); the
// workers' file caches are closed once the loops have stopped.
func (s *Server) serveEngine(e *engine.Engine, l *loop) error {
	for _, a := range e.Addrs() {
		s.log.Info("listening", "addr", a.String(), "driver", s.driver.String(),
			"workers", len(l.workers), "balancing", e.Config().Balancing.String())
	}
	errc := make(chan error, 1)
	go func() {
		err := e.Serve()
		l.closeCaches()
		errc <- err
	}()
	select {
	case err := <-errc:
		if s.shutting.Load() || errors.Is(err, engine.ErrServerClosed) {
			return nil
		}
		return err
	case <-s.stopping:
		return nil
	}
}

// shutdownEngine starts the engine's graceful shutdown, bounded by ctx,
// and returns where its result will be sent. s.mu is held.
func (s *Server) shutdownEngine(ctx context.Context) <-chan error {
	done := make(chan error, 1)
	if s.eng == nil {
		done <- nil
		return done
	}
	e := s.eng
	go func() { done <- e.Shutdown(ctx) }()
	return done
}
