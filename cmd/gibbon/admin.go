package main

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	"gibbon"
	"gibbon/config"
)

// adminGrace bounds how long the admin endpoint's requests in flight may
// run once the server has stopped.
const adminGrace = 2 * time.Second

// startAdmin binds the configuration's Admin address and serves the admin
// endpoint on it with ctl. It runs before the privilege drop: a unix
// socket is then given to User, so that the process can still use it.
// The returned function closes the endpoint (removing the socket when
// the process may).
func startAdmin(srv *gibbon.Server, cfg *config.Config, ctl gibbon.AdminControl, logger *slog.Logger) (func(), error) {
	addr := cfg.Server.Admin
	ln, err := gibbon.ListenAdmin(addr)
	if err != nil {
		return nil, err
	}
	if path, ok := strings.CutPrefix(addr, config.AdminUnix); ok && cfg.Server.User != "" && os.Geteuid() == 0 {
		if err := giveFile(path, cfg.Server.User); err != nil {
			ln.Close()
			return nil, err
		}
	}
	hs := &http.Server{
		Handler:           srv.AdminHandler(ctl),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	go func() {
		if err := hs.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			logger.Error("admin endpoint", "err", err)
		}
	}()
	logger.Info("admin endpoint", "addr", addr)
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), adminGrace)
		defer cancel()
		hs.Shutdown(ctx)
	}, nil
}
