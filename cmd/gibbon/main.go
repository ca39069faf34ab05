package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"gibbon"
	"gibbon/config"
)

// version is the release name printed by -v and sent in the Server header.
// Builds set it with -ldflags "-X main.version=1.2.3".
var version = "0.1.0-dev"

// shutdownGrace is how long in-flight requests may run after SIGTERM or SIGINT.
const shutdownGrace = 10 * time.Second

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is the whole command; it returns the exit status so that deferred
// clean-ups (pid file, temporary welcome directory) run before the exit.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "passwd" {
		return passwd(args[1:], os.Stdin, stdout, stderr)
	}
	if len(args) > 0 && args[0] == "ctl" {
		return ctl(args[1:], stdout, stderr)
	}
	opts, err := parseFlags(args)
	if err != nil {
		fmt.Fprintf(stderr, "gibbon: %v\nRun 'gibbon --help' for usage.\n", err)
		return 2
	}
	switch {
	case opts.help:
		fmt.Fprint(stdout, usage)
		return 0
	case opts.version:
		fmt.Fprintf(stdout, "gibbon %s\n", version)
		return 0
	}

	logger := slog.New(slog.NewTextHandler(stderr, nil))
	var welcome welcomeDir
	defer welcome.remove()
	cfg, created, err := loadConfig(opts, "")
	welcome.keep(created)
	if err != nil {
		printError(stderr, err)
		return 1
	}
	for _, w := range cfg.Warnings {
		logger.Warn(w.String())
	}
	if err := applyOverrides(cfg, opts); err != nil {
		printError(stderr, err)
		return 1
	}
	srv, err := gibbon.New(serverConfig(cfg, opts, logger))
	if err != nil {
		printError(stderr, err)
		return 1
	}
	if opts.test {
		if err := srv.Check(); err != nil {
			printError(stderr, err)
			return 1
		}
		fmt.Fprintf(stdout, "gibbon: configuration %s is valid\n", describe(cfg))
		fmt.Fprint(stdout, srv.Describe())
		srv.Shutdown(context.Background()) // the plugins' Cleanup
		return 0
	}
	load := func() (gibbon.Config, error) { return reloadedConfig(opts, &welcome, logger) }
	return serve(srv, cfg, load, logger, stderr)
}

// serverConfig maps the loaded configuration and the command line to the
// server's.
func serverConfig(cfg *config.Config, o *options, logger *slog.Logger) gibbon.Config {
	d, _ := gibbon.ParseDriver(o.driver) // checked by parseFlags
	c := gibbon.Config{Model: cfg, Logger: logger, Version: version, Grace: shutdownGrace, Driver: d}
	if o.fair {
		c.Balancing = gibbon.BalancingFair
	}
	return c
}

// serve binds the listeners and the admin endpoint, drops privileges,
// writes the pid file and runs the server until a termination signal
// arrives or the admin endpoint asks it to stop; load gives the
// configuration SIGHUP and the admin endpoint reload.
func serve(srv *gibbon.Server, cfg *config.Config, load func() (gibbon.Config, error), logger *slog.Logger, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()

	// Listen loads the plugins (reporting their warnings) and binds.
	if err := srv.Listen(); err != nil {
		printError(stderr, err)
		return 1
	}
	served := false // once Serve ran, the shutdown below is the graceful one
	defer func() {
		if !served {
			srv.Shutdown(context.Background()) // the listeners and the plugins' Cleanup
		}
	}()
	stopReq := make(chan struct{}, 1) // POST /stop
	if cfg.Server.Admin != "" {
		closeAdmin, err := startAdmin(srv, cfg, gibbon.AdminControl{
			Reload: load,
			Stop: func() {
				select {
				case stopReq <- struct{}{}:
				default:
				}
			},
		}, logger)
		if err != nil {
			printError(stderr, err)
			return 1
		}
		defer closeAdmin()
	}
	if p := cfg.Server.PidFile; p != "" {
		if err := writePidFile(p); err != nil {
			printError(stderr, err)
			return 1
		}
		defer removePidFile(p, logger)
	}
	if u := cfg.Server.User; u != "" {
		if os.Geteuid() != 0 {
			logger.Warn("not running as root, User ignored", "user", u)
		} else if err := dropPrivileges(u); err != nil {
			printError(stderr, err)
			return 1
		}
	}
	logger.Info("started", "version", version, "pid", os.Getpid())

	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	usr1 := make(chan os.Signal, 1)
	signal.Notify(usr1, syscall.SIGUSR1)
	defer signal.Stop(usr1)
	errc := make(chan error, 1)
	served = true
	go func() { errc <- srv.Serve() }()
	for waiting := true; waiting; {
		select {
		case err := <-errc:
			if err == nil {
				return 0
			}
			printError(stderr, err)
			srv.Shutdown(context.Background()) // the plugins' Cleanup
			return 1
		case <-hup:
			reloadConfig(srv, load, logger)
		case <-usr1:
			reopenLogs(srv, logger)
		case <-stopReq:
			logger.Info("stop requested on the admin endpoint")
			waiting = false
		case <-ctx.Done():
			waiting = false
		}
	}
	// A second signal now kills the process the default way.
	stop()
	logger.Info("shutting down", "grace", shutdownGrace)
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		logger.Warn("shutdown", "err", err)
	}
	if err := <-errc; err != nil {
		logger.Warn("serve", "err", err)
	}
	return 0
}

// reloadConfig answers SIGHUP: load's configuration is swapped in for
// new requests, TLS certificates included (Server.ReloadFrom). A
// configuration that fails to load is logged, each error with its file,
// line and key, and the running one stays.
func reloadConfig(srv *gibbon.Server, load func() (gibbon.Config, error), logger *slog.Logger) {
	if err := srv.ReloadFrom(load); err != nil {
		logger.Error("SIGHUP: the configuration did not load; keeping the running one", "err", message(err))
		return
	}
	logger.Info("SIGHUP: configuration reloaded")
}

// reloadedConfig finds and loads the configuration as at start-up, with
// the same command-line overrides, for a reload; it logs its warnings.
// The built-in welcome site goes to welcome's directory, which it makes
// when there is none yet (./htdocs was served and is gone).
func reloadedConfig(o *options, welcome *welcomeDir, logger *slog.Logger) (gibbon.Config, error) {
	cfg, created, err := loadConfig(o, welcome.path())
	welcome.keep(created)
	if err != nil {
		return gibbon.Config{}, err
	}
	for _, w := range cfg.Warnings {
		logger.Warn(w.String())
	}
	if err := applyOverrides(cfg, o); err != nil {
		return gibbon.Config{}, err
	}
	return serverConfig(cfg, o, logger), nil
}

// reopenLogs answers SIGUSR1: the logger plugin, when loaded, reopens its
// files.
func reopenLogs(srv *gibbon.Server, logger *slog.Logger) {
	switch err := srv.ReopenLogs(); {
	case errors.Is(err, gibbon.ErrNoLogger):
		logger.Info("SIGUSR1: no logger plugin loaded")
	case err != nil:
		logger.Error("reopening logs", "err", err)
	default:
		logger.Info("logs reopened")
	}
}

// printError writes err as lines starting with "gibbon: ", one per joined error.
func printError(w io.Writer, err error) {
	for _, line := range strings.Split(message(err), "\n") {
		if line != "" {
			fmt.Fprintf(w, "gibbon: %s\n", line)
		}
	}
}

// message is the text of err for a person: a failed bind reads
// "listen 127.0.0.1:2001: address already in use", and the "server: " prefix
// of package server's errors is left out after the "gibbon: " one.
func message(err error) string {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "listen" && op.Addr != nil {
		cause := op.Err
		var se *os.SyscallError
		if errors.As(cause, &se) {
			cause = se.Err
		}
		return fmt.Sprintf("listen %s: %v", op.Addr, cause)
	}
	return strings.TrimPrefix(err.Error(), "server: ")
}

// describe names the configuration for the -t message.
func describe(cfg *config.Config) string {
	if cfg.Dir == "" {
		return "(built-in default)"
	}
	return cfg.Dir
}

// errUsage marks a command-line mistake.
var errUsage = errors.New("usage")
