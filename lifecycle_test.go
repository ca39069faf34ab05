package gibbon_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"

	"gibbon"
)

func TestParseDriver(t *testing.T) {
	t.Parallel()
	for _, d := range []gibbon.Driver{gibbon.DriverAuto, gibbon.DriverEpoll, gibbon.DriverGoroutine} {
		if p, err := gibbon.ParseDriver(d.String()); err != nil || p != d {
			t.Errorf("ParseDriver(%q) = %v, %v", d.String(), p, err)
		}
	}
	if d, err := gibbon.ParseDriver(""); err != nil || d != gibbon.DriverAuto {
		t.Errorf(`ParseDriver("") = %v, %v; want auto`, d, err)
	}
	if _, err := gibbon.ParseDriver("kqueue"); err == nil {
		t.Error("ParseDriver accepted kqueue")
	}
	if s := gibbon.Driver(9).String(); s != "Driver(9)" {
		t.Errorf("Driver(9).String() = %q", s)
	}
}

func TestNewRejectsUnknownDriverAndBalancing(t *testing.T) {
	t.Parallel()
	if _, err := gibbon.New(gibbon.Config{Driver: 9}); err == nil {
		t.Error("New accepted Driver(9)")
	}
	if _, err := gibbon.New(gibbon.Config{Balancing: 9}); err == nil {
		t.Error("New accepted Balancing(9)")
	}
}

// TestLifecycle walks Check, Listen and Serve one by one.
func TestLifecycle(t *testing.T) {
	t.Parallel()
	srv := newServer(t, gibbon.Config{})
	srv.HandleFunc("/", func(c *gibbon.Ctx) { c.String(200, "ok") })
	if srv.Describe() != "" || srv.Addr() != nil {
		t.Error("Describe or Addr answer before Check")
	}
	if err := srv.Check(); err != nil {
		t.Fatal(err)
	}
	if err := srv.Check(); err != nil {
		t.Errorf("second Check: %v", err)
	}
	if !strings.HasPrefix(srv.Describe(), "plugins: -\n") {
		t.Errorf("Describe after Check = %q", srv.Describe())
	}
	if srv.Addr() != nil {
		t.Error("Check bound a listener")
	}
	mustPanic(t, "Handle after Check", func() { srv.HandleFunc("/late", func(*gibbon.Ctx) {}) })
	if err := srv.Listen(); err != nil {
		t.Fatal(err)
	}
	if srv.Addr() == nil {
		t.Fatal("no address after Listen")
	}
	if err := srv.Listen(); !errors.Is(err, gibbon.ErrStarted) {
		t.Errorf("second Listen = %v, want ErrStarted", err)
	}
	if err := srv.Start(context.Background()); !errors.Is(err, gibbon.ErrStarted) {
		t.Errorf("Start after Listen = %v, want ErrStarted", err)
	}
	// Bound but not serving: the kernel queues the connection.
	c, err := net.Dial("tcp", srv.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	done := make(chan error, 1)
	go func() { done <- srv.Serve() }()
	if _, body := get(t, &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}, "GET", "http://"+srv.Addr().String()+"/"); body != "ok" {
		t.Errorf("GET / = %q, want ok", body)
	}
	if err := srv.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Errorf("Serve = %v, want nil after Shutdown", err)
	}
	for name, f := range map[string]func() error{
		"Check": srv.Check, "Listen": srv.Listen, "Serve": srv.Serve,
		"Start": func() error { return srv.Start(context.Background()) },
	} {
		if err := f(); !errors.Is(err, gibbon.ErrStopped) {
			t.Errorf("%s after Shutdown = %v, want ErrStopped", name, err)
		}
	}
}

// A failed Listen leaves no listener and may be retried.
func TestListenFailureRetry(t *testing.T) {
	t.Parallel()
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := busy.Addr().String()
	srv := newServer(t, gibbon.Config{Listen: []string{addr}, Driver: gibbon.DriverGoroutine})
	if err := srv.Listen(); err == nil {
		t.Fatal("Listen on a busy port succeeded")
	}
	if srv.Addr() != nil || srv.Describe() != "" {
		t.Error("a failed Listen left the server prepared")
	}
	busy.Close()
	if err := srv.Listen(); err != nil {
		t.Fatalf("Listen again: %v", err)
	}
	if err := srv.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// Shutdown after Check or Listen, without Serve, closes what was opened.
func TestShutdownBeforeServe(t *testing.T) {
	t.Parallel()
	srv := newServer(t, gibbon.Config{})
	if err := srv.Listen(); err != nil {
		t.Fatal(err)
	}
	addr := srv.Addr().String()
	if err := srv.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if c, err := net.Dial("tcp", addr); err == nil {
		c.Close()
		t.Error("the listener is still open after Shutdown")
	}
}

func TestReloadAndReopenBeforeCheck(t *testing.T) {
	t.Parallel()
	srv := newServer(t, gibbon.Config{})
	if err := srv.ReloadCertificates(); err != nil {
		t.Errorf("ReloadCertificates before Check = %v", err)
	}
	if err := srv.ReopenLogs(); !errors.Is(err, gibbon.ErrNoLogger) {
		t.Errorf("ReopenLogs before Check = %v, want ErrNoLogger", err)
	}
}

func mustPanic(t *testing.T, what string, f func()) {
	t.Helper()
	defer func() {
		if recover() == nil {
			t.Errorf("%s did not panic", what)
		}
	}()
	f()
}
