package e2e_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// ctl runs gibbon ctl with args and returns stdout, stderr and the exit
// code.
func ctl(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	return runGibbon(t, t.TempDir(), append([]string{"ctl"}, args...)...)
}

// mustCtl runs gibbon ctl and fails the test unless it exits 0.
func mustCtl(t *testing.T, args ...string) string {
	t.Helper()
	out, errOut, code := ctl(t, args...)
	if code != 0 {
		t.Fatalf("gibbon ctl %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

// metrics scrapes /metrics over the unix socket with curl and parses it
// with Prometheus's own text parser (names checked by the classic rules); it returns the samples of each
// family by their labels ("driver=epoll,worker=0,class=2xx").
func metrics(t *testing.T, sock string) map[string]map[string]float64 {
	t.Helper()
	text := curl(t, "--unix-socket", sock, "http://gibbon/metrics")
	parser := expfmt.NewTextParser(model.LegacyValidation) // the classic names: [a-zA-Z_:][a-zA-Z0-9_:]*
	families, err := parser.TextToMetricFamilies(strings.NewReader(text))
	if err != nil {
		t.Fatalf("/metrics is not Prometheus text format: %v\n%s", err, text)
	}
	out := make(map[string]map[string]float64)
	for name, f := range families {
		if f.GetHelp() == "" {
			t.Errorf("%s has no HELP", name)
		}
		out[name] = make(map[string]float64)
		for _, m := range f.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, l.GetName()+"="+l.GetValue())
			}
			v := m.GetGauge().GetValue()
			if f.GetType().String() == "COUNTER" {
				v = m.GetCounter().GetValue()
			}
			out[name][strings.Join(labels, ",")] = v
		}
	}
	return out
}

// sum adds the samples of family whose labels contain every one of want.
func sum(samples map[string]float64, want ...string) float64 {
	var n float64
	for labels, v := range samples {
		ok := true
		for _, w := range want {
			ok = ok && strings.Contains(","+labels+",", ","+w+",")
		}
		if ok {
			n += v
		}
	}
	return n
}

// TestAdmin runs gibbon with an Admin unix socket on both drivers and
// uses it through gibbon ctl and curl: status, workers, conns (listing a
// keep-alive connection left open), vhosts and plugins; Prometheus
// metrics that parse and count the requests made; a good reload and a
// bad one (its error names file, line and key, and the server keeps
// serving); then ctl stop, which lets a download in flight finish, waits
// for the exit (status 0) and finds the socket removed.
func TestAdmin(t *testing.T) {
	t.Parallel()
	forDrivers(t, func(t *testing.T, driver string) {
		root := newSite(t)
		big := strings.Repeat("0123456789abcdef", 1<<19) // 8 MiB
		writeFiles(t, root, map[string]string{"big.bin": big})
		conf := newConf(t, serverConf("    Admin unix:admin.sock"), map[string]string{
			"default": hostConf(root, "localhost"),
			"other":   hostConf(root, "other.test"),
		})
		sock := filepath.Join(conf, "admin.sock")
		p := start(t, t.TempDir(), "-c", conf, "--driver", driver)
		fi, err := os.Stat(sock)
		if err != nil || fi.Mode().Type() != os.ModeSocket || fi.Mode().Perm() != 0o600 {
			t.Fatalf("admin socket %s: %v, mode %v; want a socket of mode 0600", sock, err, fi.Mode())
		}

		before := metrics(t, sock)
		const ok, missing = 5, 2
		keep, err := net.Dial("tcp", p.addr) // stays open, idle, after its requests
		if err != nil {
			t.Fatal(err)
		}
		defer keep.Close()
		br := bufio.NewReader(keep)
		for i := range ok + missing {
			path := "/hello.txt"
			if i >= ok {
				path = "/nothing"
			}
			fmt.Fprintf(keep, "GET %s HTTP/1.1\r\nHost: localhost\r\n\r\n", path)
			readResponses(t, br, "GET", 1)
		}
		after := metrics(t, sock)
		responses := func(m map[string]map[string]float64, class string) float64 {
			return sum(m["gibbon_responses_total"], "class="+class)
		}
		if got := responses(after, "2xx") - responses(before, "2xx"); got != ok {
			t.Errorf("gibbon_responses_total{class=2xx} grew by %v, want %d", got, ok)
		}
		if got := responses(after, "4xx") - responses(before, "4xx"); got != missing {
			t.Errorf("gibbon_responses_total{class=4xx} grew by %v, want %d", got, missing)
		}
		bytes := sum(after["gibbon_response_body_bytes_total"]) - sum(before["gibbon_response_body_bytes_total"])
		if want := float64(ok * len(siteFiles["hello.txt"])); bytes < want {
			t.Errorf("gibbon_response_body_bytes_total grew by %v, want at least %v", bytes, want)
		}
		if open := sum(after["gibbon_connections_open"], "driver="+driver); open < 1 {
			t.Errorf("gibbon_connections_open{driver=%s} = %v, want the kept connection", driver, open)
		}
		if after["gibbon_build_info"] == nil || after["gibbon_uptime_seconds"] == nil || sum(after["gibbon_config_generation"]) != 1 {
			t.Errorf("missing build info, uptime or generation 1: %v", after)
		}

		status := mustCtl(t, "-c", conf, "status")
		for _, want := range []string{"version", fmt.Sprintf("pid             %d", p.cmd.Process.Pid), conf + " (generation 1)", "driver          " + driver, p.addr} {
			if !strings.Contains(status, want) {
				t.Errorf("ctl status lacks %q:\n%s", want, status)
			}
		}
		if workers := mustCtl(t, "-c", conf, "workers"); !strings.Contains(workers, "REQUESTS") || !strings.Contains(workers, driver) {
			t.Errorf("ctl workers:\n%s", workers)
		}
		conns := mustCtl(t, "-a", "unix:"+sock, "conns")
		if !strings.Contains(conns, keep.LocalAddr().String()) || !strings.Contains(conns, "open connections shown") {
			t.Errorf("ctl conns does not list %s:\n%s", keep.LocalAddr(), conns)
		}
		for _, line := range strings.Split(conns, "\n") {
			if strings.Contains(line, keep.LocalAddr().String()) && (!strings.Contains(line, " idle ") || !strings.HasSuffix(strings.TrimSpace(line), fmt.Sprint(ok+missing))) {
				t.Errorf("the kept connection is not idle after %d requests: %q", ok+missing, line)
			}
		}
		if vhosts := mustCtl(t, "-c", conf, "vhosts"); !strings.Contains(vhosts, "(default) localhost") || !strings.Contains(vhosts, "other.test") {
			t.Errorf("ctl vhosts:\n%s", vhosts)
		}
		if plugins := mustCtl(t, "-c", conf, "plugins"); !strings.Contains(plugins, "stage 10 accept:") {
			t.Errorf("ctl plugins:\n%s", plugins)
		}
		if m := mustCtl(t, "-c", conf, "metrics"); !strings.Contains(m, "# TYPE gibbon_responses_total counter") {
			t.Errorf("ctl metrics:\n%s", m)
		}

		// A good reload: a new virtual host serves.
		root2 := t.TempDir()
		writeFiles(t, root2, map[string]string{"hello.txt": "new host\n"})
		writeFiles(t, conf, map[string]string{"sites/third": hostConf(root2, "third.test")})
		if out := mustCtl(t, "-c", conf, "reload"); !strings.Contains(out, "generation 2") {
			t.Errorf("ctl reload: %s", out)
		}
		if _, body := get(t, p, "third.test", "/hello.txt"); body != "new host\n" {
			t.Fatalf("after ctl reload: %q", body)
		}

		// A bad reload: the error names file, line and key; nothing changes.
		if err := os.WriteFile(filepath.Join(conf, "gibbon.conf"), []byte(serverConf("    Admin unix:admin.sock", "    Timeuot 5")), 0o644); err != nil {
			t.Fatal(err)
		}
		out, errOut, code := ctl(t, "-a", "unix:"+sock, "reload")
		if want := filepath.Join(conf, "gibbon.conf") + ":7"; code != 1 || !strings.Contains(errOut, want) || !strings.Contains(errOut, "Timeuot") {
			t.Errorf("ctl reload of a bad config: exit %d, stdout %q, stderr %q; want 1 and %s, Timeuot", code, out, errOut, want)
		}
		if _, body := get(t, p, "third.test", "/hello.txt"); body != "new host\n" {
			t.Fatalf("after a failed reload: %q", body)
		}
		if status := mustCtl(t, "-a", "unix:"+sock, "status"); !strings.Contains(status, "(generation 2)") || !strings.Contains(status, "failed: ") {
			t.Errorf("ctl status after a failed reload:\n%s", status)
		}
		if m := metrics(t, sock); sum(m["gibbon_config_last_reload_success"]) != 0 || sum(m["gibbon_config_generation"]) != 2 {
			t.Errorf("metrics after a failed reload: success %v, generation %v", m["gibbon_config_last_reload_success"], m["gibbon_config_generation"])
		}

		// ctl stop drains: a download in flight finishes, the process
		// exits 0 and the socket is gone.
		dl := startDownload(t, p, "/big.bin")
		stopped := make(chan string, 1)
		go func() {
			out, errOut, code := ctl(t, "-a", "unix:"+sock, "stop")
			stopped <- fmt.Sprintf("exit %d: %s%s", code, out, errOut)
		}()
		dl.finish(t, big, "the download in flight at ctl stop")
		if code := p.wait(20 * time.Second); code != 0 {
			t.Errorf("exit status %d after ctl stop, want 0", code)
		}
		select {
		case res := <-stopped:
			if !strings.HasPrefix(res, "exit 0: ") || !strings.Contains(res, "gibbon: stopped") {
				t.Errorf("ctl stop: %s", res)
			}
		case <-time.After(20 * time.Second):
			t.Fatal("ctl stop did not return")
		}
		if _, err := os.Lstat(sock); !os.IsNotExist(err) {
			t.Errorf("the admin socket is still there after the exit: %v", err)
		}
	})
}

// TestAdminTCP serves the admin endpoint on a loopback TCP address, and
// refuses a configuration that puts it on any other address, naming file,
// line and key.
func TestAdminTCP(t *testing.T) {
	t.Parallel()
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	p, _ := startSite(t, "    Admin "+addr)
	if _, body := get(t, p, "", "/hello.txt"); body != siteFiles["hello.txt"] {
		t.Fatalf("GET: %q", body)
	}
	page := curl(t, "http://"+addr+"/")
	if !strings.Contains(page, "<title>gibbon status</title>") || strings.Contains(page, "http://") && strings.Contains(page, "<script src") {
		t.Errorf("status page:\n%s", page)
	}
	if m := curl(t, "http://"+addr+"/metrics"); !strings.Contains(m, `gibbon_responses_total{driver="`) {
		t.Errorf("metrics over TCP:\n%s", m)
	}
	if out := mustCtl(t, "-a", addr, "status"); !strings.Contains(out, "requests") {
		t.Errorf("ctl status over TCP:\n%s", out)
	}

	conf := newConf(t, serverConf("    Admin 0.0.0.0:2019"), map[string]string{"default": hostConf(newSite(t), "localhost")})
	_, errOut, code := runGibbon(t, t.TempDir(), "-t", "-c", conf)
	if want := filepath.Join(conf, "gibbon.conf") + ":6"; code != 1 || !strings.Contains(errOut, want) || !strings.Contains(errOut, "Admin") || !strings.Contains(errOut, "loopback") {
		t.Errorf("gibbon -t with Admin 0.0.0.0:2019: exit %d, %s; want 1 naming %s, Admin and loopback", code, errOut, want)
	}
}

// TestCtlErrors: ctl without an endpoint to talk to exits 1 with a
// message; an unknown command is a usage error (2).
func TestCtlErrors(t *testing.T) {
	t.Parallel()
	conf := newConf(t, serverConf(), map[string]string{"default": hostConf(newSite(t), "localhost")})
	if _, errOut, code := ctl(t, "-c", conf, "status"); code != 1 || !strings.Contains(errOut, "no Admin key") {
		t.Errorf("ctl with no Admin key: exit %d, %q", code, errOut)
	}
	sock := filepath.Join(t.TempDir(), "none.sock")
	if _, errOut, code := ctl(t, "-a", "unix:"+sock, "status"); code != 1 || !strings.HasPrefix(errOut, "gibbon: ") {
		t.Errorf("ctl with nobody listening: exit %d, %q", code, errOut)
	}
	if _, _, code := ctl(t, "-a", "unix:"+sock, "frobnicate"); code != 2 {
		t.Errorf("ctl frobnicate: exit %d, want 2", code)
	}
}

// TestAdminHTTP2 counts HTTP/2 streams' responses under driver "h2" and
// the TLS handshakes, on a "tls h2" listener.
func TestAdminHTTP2(t *testing.T) {
	t.Parallel()
	s := startTLSSite(t, "tls h2", "    Timeout 5\n    Admin unix:admin.sock") // replaces the Timeout line with both
	sock := filepath.Join(s.conf, "admin.sock")
	before := metrics(t, sock)
	c := h2Client(s.def.pool)
	for range 3 {
		resp, err := c.Get("https://" + s.addr + "/hello.txt")
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.ProtoMajor != 2 || resp.StatusCode != 200 {
			t.Fatalf("%s %d, want HTTP/2 200", resp.Proto, resp.StatusCode)
		}
	}
	after := metrics(t, sock)
	grew := func(family string, labels ...string) float64 {
		return sum(after[family], labels...) - sum(before[family], labels...)
	}
	if n := grew("gibbon_responses_total", "driver=h2", "class=2xx"); n != 3 {
		t.Errorf("gibbon_responses_total{driver=h2,class=2xx} grew by %v, want 3", n)
	}
	if n := grew("gibbon_tls_handshakes_total", "result=ok"); n != 1 {
		t.Errorf("gibbon_tls_handshakes_total{result=ok} grew by %v, want 1 (one connection)", n)
	}
	conns := mustCtl(t, "-a", "unix:"+sock, "conns")
	if !strings.Contains(conns, " h2 ") {
		t.Errorf("ctl conns lists no HTTP/2 connection:\n%s", conns)
	}
}
