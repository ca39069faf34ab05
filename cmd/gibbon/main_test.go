package main

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"reflect"
	"strings"
	"syscall"
	"testing"

	"gibbon/config"
)

func TestParseFlags(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		args    []string
		want    options
		wantErr bool
	}{
		{name: "none", args: nil, want: options{port: -1, workers: -1}},
		{name: "short", args: []string{"-c", "conf", "-s", "monkey.conf", "-p", "8080", "-w", "2", "-I", "g.pid", "-t"},
			want: options{configDir: "conf", serverConf: "monkey.conf", port: 8080, workers: 2, pidFile: "g.pid", test: true}},
		{name: "long", args: []string{"--configdir=conf", "--serverconf", "x.conf", "--port", "0", "--workers=0", "--pid-file", "p", "--test"},
			want: options{configDir: "conf", serverConf: "x.conf", port: 0, workers: 0, pidFile: "p", test: true}},
		{name: "one-shot", args: []string{"-o", "/srv/www", "-p", "9"}, want: options{oneShot: "/srv/www", port: 9, workers: -1}},
		{name: "one-shot long", args: []string{"--one-shot", "site"}, want: options{oneShot: "site", port: -1, workers: -1}},
		{name: "version", args: []string{"-v"}, want: options{version: true, port: -1, workers: -1}},
		{name: "version long", args: []string{"--version"}, want: options{version: true, port: -1, workers: -1}},
		{name: "help", args: []string{"-h"}, want: options{help: true, port: -1, workers: -1}},
		{name: "help long", args: []string{"--help"}, want: options{help: true, port: -1, workers: -1}},
		{name: "driver", args: []string{"--driver", "goroutine", "-B"}, want: options{driver: "goroutine", fair: true, port: -1, workers: -1}},
		{name: "balancing long", args: []string{"--balancing-fair"}, want: options{fair: true, port: -1, workers: -1}},
		{name: "bad driver", args: []string{"--driver", "kqueue"}, wantErr: true},
		{name: "unknown flag", args: []string{"-x"}, wantErr: true},
		{name: "missing value", args: []string{"-c"}, wantErr: true},
		{name: "bad port", args: []string{"-p", "http"}, wantErr: true},
		{name: "port too big", args: []string{"-p", "65536"}, wantErr: true},
		{name: "negative workers", args: []string{"-w", "-3"}, wantErr: true},
		{name: "positional", args: []string{"conf"}, wantErr: true},
		{name: "one-shot with config", args: []string{"-o", "a", "-c", "b"}, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := parseFlags(tc.args)
			if tc.wantErr {
				if err == nil {
					t.Fatalf("parseFlags(%q) = %+v, want an error", tc.args, *got)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseFlags(%q): %v", tc.args, err)
			}
			if *got != tc.want {
				t.Errorf("parseFlags(%q) = %+v, want %+v", tc.args, *got, tc.want)
			}
		})
	}
}

func TestOverridePort(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      []config.Listen
		port    int
		want    []config.Listen
		wantErr bool
	}{
		{name: "empty", in: nil, port: 80, want: []config.Listen{{Addr: ":80"}}},
		{name: "bare port", in: []config.Listen{{Addr: ":2001"}}, port: 8080, want: []config.Listen{{Addr: ":8080"}}},
		{name: "host", in: []config.Listen{{Addr: "127.0.0.1:2001", Flags: []string{"h2c"}}}, port: 9,
			want: []config.Listen{{Addr: "127.0.0.1:9", Flags: []string{"h2c"}}}},
		{name: "ipv6", in: []config.Listen{{Addr: "[::1]:80"}}, port: 81, want: []config.Listen{{Addr: "[::1]:81"}}},
		{name: "merged", in: []config.Listen{{Addr: ":80"}, {Addr: "127.0.0.1:80"}, {Addr: ":443", Flags: []string{"tls"}}}, port: 1,
			want: []config.Listen{{Addr: ":1"}, {Addr: "127.0.0.1:1"}}},
		{name: "malformed", in: []config.Listen{{Addr: "nohostport"}}, port: 1, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := overridePort(tc.in, tc.port)
			if tc.wantErr {
				if err == nil {
					t.Fatalf("overridePort(%v) = %v, want an error", tc.in, got)
				}
				return
			}
			if err != nil {
				t.Fatalf("overridePort(%v): %v", tc.in, err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("overridePort(%v, %d) = %v, want %v", tc.in, tc.port, got, tc.want)
			}
		})
	}
}

func TestPrintError(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	printError(&b, errors.Join(errors.New("a.conf:1: Listen: bad port"), errors.New("a.conf:2: Timeout: not a number")))
	want := "gibbon: a.conf:1: Listen: bad port\ngibbon: a.conf:2: Timeout: not a number\n"
	if b.String() != want {
		t.Errorf("printError wrote %q, want %q", b.String(), want)
	}
}

func TestMessage(t *testing.T) {
	t.Parallel()
	bind := &net.OpError{Op: "listen", Net: "tcp", Addr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 2001},
		Err: os.NewSyscallError("bind", syscall.EADDRINUSE)}
	tests := []struct {
		err  error
		want string
	}{
		{fmt.Errorf("server: listen 127.0.0.1:2001: %w", bind), "listen 127.0.0.1:2001: address already in use"},
		{errors.New("server: host default: DocumentRoot: missing"), "host default: DocumentRoot: missing"},
		{errors.New("conf/gibbon.conf:3: Timeout: not a number"), "conf/gibbon.conf:3: Timeout: not a number"},
	}
	for _, tc := range tests {
		if got := message(tc.err); got != tc.want {
			t.Errorf("message(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
}

func TestRunInfoFlags(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args       []string
		code       int
		stdout     string
		stderrPart string
	}{
		{args: []string{"-v"}, code: 0, stdout: "gibbon " + version + "\n"},
		{args: []string{"--help"}, code: 0, stdout: usage},
		{args: []string{"--bogus"}, code: 2, stderrPart: "--help"},
	}
	for _, tc := range tests {
		var out, errb bytes.Buffer
		code := run(tc.args, &out, &errb)
		if code != tc.code || out.String() != tc.stdout || !strings.Contains(errb.String(), tc.stderrPart) {
			t.Errorf("run(%q) = %d, stdout %q, stderr %q; want %d, %q, stderr containing %q",
				tc.args, code, out.String(), errb.String(), tc.code, tc.stdout, tc.stderrPart)
		}
	}
}

func TestMaterializeWelcome(t *testing.T) {
	t.Parallel()
	dir, err := materializeWelcome()
	if err != nil {
		t.Fatal(err)
	}
	defer removeAll(t, dir)
	if !isDir(dir) {
		t.Fatalf("%s is not a directory", dir)
	}
	if !fileContains(t, dir+"/index.html", "Welcome to gibbon") {
		t.Errorf("%s/index.html lacks the welcome text", dir)
	}
}

// TestReloadWelcome checks that a reload after ./htdocs went away serves
// the welcome site from a directory that the exit removes, and that a
// later reload reuses it.
func TestReloadWelcome(t *testing.T) {
	t.Chdir(t.TempDir())
	if err := os.Mkdir("htdocs", 0o755); err != nil {
		t.Fatal(err)
	}
	opts := &options{port: -1, workers: -1}
	logger := slog.New(slog.DiscardHandler)
	var welcome welcomeDir
	cfg, created, err := loadConfig(opts, "")
	welcome.keep(created)
	if err != nil || created != "" || welcome.path() != "" {
		t.Fatalf("start-up on ./htdocs: created %q, kept %q, err %v", created, welcome.path(), err)
	}
	root := cfg.Hosts[0].DocumentRoot
	if err := os.Remove("htdocs"); err != nil {
		t.Fatal(err)
	}
	first, err := reloadedConfig(opts, &welcome, logger)
	if err != nil {
		t.Fatal(err)
	}
	dir := welcome.path()
	if dir == "" || dir == root || first.Model.Hosts[0].DocumentRoot != dir || !isDir(dir) {
		t.Fatalf("reload without ./htdocs: document root %q, welcome %q", first.Model.Hosts[0].DocumentRoot, dir)
	}
	if _, err := reloadedConfig(opts, &welcome, logger); err != nil || welcome.path() != dir {
		t.Fatalf("second reload: welcome %q (want %q), err %v", welcome.path(), dir, err)
	}
	welcome.remove()
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("%s is still there after remove: %v", dir, err)
	}
}

func removeAll(t *testing.T, dir string) {
	t.Helper()
	if err := os.RemoveAll(dir); err != nil {
		t.Error(err)
	}
}

func fileContains(t *testing.T, path, s string) bool {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Contains(string(b), s)
}
