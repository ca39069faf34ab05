package e2e_test

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gibbon/internal/wstest"
)

// upstreamServer is a real HTTP server on loopback behind the proxy. Its
// answers name it; it counts the requests it got, health checks apart.
type upstreamServer struct {
	t    *testing.T
	name string
	addr string
	hits atomic.Int64
	mu   sync.Mutex
	srv  *http.Server
}

func newUpstream(t *testing.T, name string) *upstreamServer {
	t.Helper()
	u := &upstreamServer{t: t, name: name}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u.addr = l.Addr().String()
	u.serve(l)
	t.Cleanup(u.stop)
	return u
}

func (u *upstreamServer) serve(l net.Listener) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.srv = &http.Server{Handler: http.HandlerFunc(u.handle)}
	go u.srv.Serve(l)
}

// stop closes the listener and every connection at once.
func (u *upstreamServer) stop() {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.srv != nil {
		u.srv.Close()
		u.srv = nil
	}
}

// restart listens on the same address again.
func (u *upstreamServer) restart() {
	u.t.Helper()
	var l net.Listener
	var err error
	for range 50 {
		if l, err = net.Listen("tcp", u.addr); err == nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		u.t.Fatal(err)
	}
	u.serve(l)
}

func (u *upstreamServer) handle(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/health" {
		return
	}
	u.hits.Add(1)
	switch {
	case strings.HasSuffix(r.URL.Path, "/slow"):
		time.Sleep(3 * time.Second)
	case strings.HasSuffix(r.URL.Path, "/hdr"):
		for _, k := range []string{"X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host", "Forwarded", "Via", "X-Hop"} {
			fmt.Fprintf(w, "%s=%s\n", k, strings.Join(r.Header.Values(k), " | "))
		}
		fmt.Fprintf(w, "Host=%s\n", r.Host)
	case strings.HasSuffix(r.URL.Path, "/echo"):
		// Full duplex: the body comes back while it is still being sent.
		http.NewResponseController(w).EnableFullDuplex()
		w.Header().Set("Content-Type", "application/octet-stream")
		io.Copy(w, r.Body)
	case strings.HasSuffix(r.URL.Path, "/ws"):
		wstest.Echo(w, r)
	default:
		io.WriteString(w, u.name)
	}
}

// proxySite starts gibbon with proxy.conf and one Match rule per
// upstream name (^/<name>/ → <name>) plus the stats page at /proxy-stats.
func proxySite(t *testing.T, driver, proxyConf string, names []string, serverExtra ...string) *proc {
	t.Helper()
	site := "\n[HANDLERS]\n"
	for _, n := range names {
		site += "    Match ^/" + n + "/ proxy " + n + "\n"
	}
	site += "\n[PROXY]\n    StatsURI /proxy-stats\n"
	dir, _ := pluginConf(t, []string{"proxy"}, site, map[string]string{"plugins/proxy/proxy.conf": proxyConf})
	if len(serverExtra) > 0 {
		writeFiles(t, dir, map[string]string{"gibbon.conf": serverConf(serverExtra...)})
	}
	return start(t, t.TempDir(), "-c", dir, "--driver", driver)
}

// upstreamConf is an [UPSTREAM] section.
func upstreamConf(name, balance string, servers []*upstreamServer, opts []string, extra ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "[UPSTREAM]\n    Name %s\n    Balance %s\n", name, balance)
	for i, s := range servers {
		o := ""
		if i < len(opts) {
			o = opts[i]
		}
		fmt.Fprintf(&b, "    Server %s %s %s\n", s.name, s.addr, o)
	}
	for _, e := range extra {
		b.WriteString("    " + e + "\n")
	}
	return b.String() + "\n"
}

// countAnswers sends the GETs in turn (one new connection each) and counts
// the answers by body.
func countAnswers(t *testing.T, p *proc, paths []string) map[string]int {
	t.Helper()
	n := map[string]int{}
	for _, path := range paths {
		resp, body := get(t, p, "", path)
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s: %d %q", path, resp.StatusCode, body)
		}
		n[body]++
	}
	return n
}

func repeat(path string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = path
	}
	return out
}

type proxyStats struct {
	Upstreams []struct {
		Name    string `json:"name"`
		Balance string `json:"balance"`
		Servers []struct {
			Name     string `json:"name"`
			State    string `json:"state"`
			Requests int64  `json:"requests"`
			Errors   int64  `json:"errors"`
			BytesIn  int64  `json:"bytes_in"`
			BytesOut int64  `json:"bytes_out"`
			Check    *struct {
				Status string `json:"status"`
			} `json:"check"`
		} `json:"servers"`
	} `json:"upstreams"`
}

func getStats(t *testing.T, p *proc) proxyStats {
	t.Helper()
	resp, body := get(t, p, "localhost", "/proxy-stats?format=json")
	var s proxyStats
	if err := json.Unmarshal([]byte(body), &s); resp.StatusCode != 200 || err != nil {
		t.Fatalf("stats: %d %v\n%s", resp.StatusCode, err, body)
	}
	return s
}

// serverState is the state of one server on the stats page.
func serverState(t *testing.T, p *proc, upstream, server string) string {
	t.Helper()
	for _, u := range getStats(t, p).Upstreams {
		for _, s := range u.Servers {
			if u.Name == upstream && s.Name == server {
				return s.State
			}
		}
	}
	t.Fatalf("no server %s/%s on the stats page", upstream, server)
	return ""
}

func TestProxyBalance(t *testing.T) {
	t.Parallel()
	forDrivers(t, func(t *testing.T, driver string) {
		a, b, c := newUpstream(t, "a"), newUpstream(t, "b"), newUpstream(t, "c")
		all := []*upstreamServer{a, b, c}
		conf := upstreamConf("rr", "roundrobin", all, []string{"weight=2"}) +
			upstreamConf("srr", "static-rr", all, []string{"weight=1", "weight=2", "weight=3"}) +
			upstreamConf("lc", "leastconn", all, nil) +
			upstreamConf("src", "source", all, nil) +
			upstreamConf("uri", "uri", all, nil) +
			upstreamConf("urlp", "url_param user", all, nil) +
			upstreamConf("rnd", "random", all, nil) +
			upstreamConf("bk", "roundrobin", all, []string{"", "backup", "weight=0"})
		p := proxySite(t, driver, conf, []string{"rr", "srr", "lc", "src", "uri", "urlp", "rnd", "bk"})

		eq := func(what string, got, want map[string]int) {
			t.Helper()
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("%s: %v, want %v", what, got, want)
			}
		}
		eq("roundrobin 2:1:1", countAnswers(t, p, repeat("/rr/x", 40)), map[string]int{"a": 20, "b": 10, "c": 10})
		eq("static-rr 1:2:3", countAnswers(t, p, repeat("/srr/x", 60)), map[string]int{"a": 10, "b": 20, "c": 30})
		eq("leastconn", countAnswers(t, p, repeat("/lc/x", 30)), map[string]int{"a": 10, "b": 10, "c": 10})
		if got := countAnswers(t, p, repeat("/src/x", 20)); len(got) != 1 {
			t.Errorf("source: one client IP went to %v, want one server", got)
		}
		// uri: a path keeps its server; 30 paths use every server.
		used := map[string]int{}
		for i := range 30 {
			path := fmt.Sprintf("/uri/p%d", i)
			got := countAnswers(t, p, []string{path, path + "?q=1", path + "?q=2"})
			if len(got) != 1 {
				t.Errorf("uri %s went to %v", path, got)
			}
			for k := range got {
				used[k]++
			}
		}
		if len(used) != 3 {
			t.Errorf("uri: 30 paths on %v", used)
		}
		used = map[string]int{}
		for i := range 30 {
			path := fmt.Sprintf("/urlp/x?user=u%d", i)
			got := countAnswers(t, p, []string{path, path + "&z=1", fmt.Sprintf("/urlp/y?a=b&user=u%d", i)})
			if len(got) != 1 {
				t.Errorf("url_param user=u%d went to %v", i, got)
			}
			for k := range got {
				used[k]++
			}
		}
		if len(used) != 3 {
			t.Errorf("url_param: 30 users on %v", used)
		}
		eq("url_param without the parameter", countAnswers(t, p, repeat("/urlp/x?other=1", 30)), map[string]int{"a": 10, "b": 10, "c": 10})
		if got := countAnswers(t, p, repeat("/rnd/x", 90)); len(got) != 3 || got["a"] < 10 || got["b"] < 10 || got["c"] < 10 {
			t.Errorf("random: %v, want each server used", got)
		}
		eq("backup and weight 0", countAnswers(t, p, repeat("/bk/x", 10)), map[string]int{"a": 10})
		a.stop()
		eq("backup when the others are down", countAnswers(t, p, repeat("/bk/x", 10)), map[string]int{"b": 10})

		// The stats page shows every upstream and the counts.
		s := getStats(t, p)
		if len(s.Upstreams) != 8 || s.Upstreams[0].Name != "rr" || s.Upstreams[0].Balance != "roundrobin" {
			t.Fatalf("stats: %+v", s)
		}
		if rr := s.Upstreams[0].Servers; rr[0].Requests != 20 || rr[1].Requests != 10 || rr[2].Requests != 10 || rr[0].State != "UP" {
			t.Errorf("stats of rr: %+v", rr)
		}
		resp, html := get(t, p, "localhost", "/proxy-stats")
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") ||
			!strings.Contains(html, "<table") || !strings.Contains(html, b.addr) {
			t.Errorf("stats page: %d %q\n%s", resp.StatusCode, resp.Header.Get("Content-Type"), html)
		}
	})
}

func TestProxyHeadersTimeoutWebSocket(t *testing.T) {
	t.Parallel()
	forDrivers(t, func(t *testing.T, driver string) {
		a := newUpstream(t, "a")
		conf := upstreamConf("app", "roundrobin", []*upstreamServer{a}, nil, "ResponseTimeout 500ms")
		p := proxySite(t, driver, conf, []string{"app"})

		t.Run("forwarded headers", func(t *testing.T) {
			resp, body := get(t, p, "example.com", "/app/hdr", "X-Forwarded-For", "203.0.113.9", "Connection", "X-Hop", "X-Hop", "1")
			want := "X-Forwarded-For=203.0.113.9, 127.0.0.1\nX-Forwarded-Proto=http\nX-Forwarded-Host=example.com\n" +
				"Forwarded=for=127.0.0.1;host=example.com;proto=http\nVia=1.1 gibbon\nX-Hop=\nHost=example.com\n"
			if resp.StatusCode != 200 || body != want {
				t.Errorf("%d:\n%s\nwant:\n%s", resp.StatusCode, body, want)
			}
			if _, body := get(t, p, "example.com", "/app/hdr"); !strings.HasPrefix(body, "X-Forwarded-For=127.0.0.1\n") {
				t.Errorf("without X-Forwarded-For:\n%s", body)
			}
		})
		t.Run("slow backend", func(t *testing.T) {
			t0 := time.Now()
			resp, _ := get(t, p, "", "/app/slow")
			if took := time.Since(t0); resp.StatusCode != 504 || took < 400*time.Millisecond || took > 2500*time.Millisecond {
				t.Errorf("slow backend: %d after %v, want 504 after 500ms", resp.StatusCode, took)
			}
			if resp, body := get(t, p, "", "/app/x"); resp.StatusCode != 200 || body != "a" {
				t.Errorf("after the timeout: %d %q", resp.StatusCode, body)
			}
		})
		t.Run("websocket echo", func(t *testing.T) {
			c, err := net.Dial("tcp", p.addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(10 * time.Second))
			key := base64.StdEncoding.EncodeToString([]byte("0123456789abcdef"))
			hello := "GET /app/ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
				"Sec-WebSocket-Key: " + key + "\r\nSec-WebSocket-Version: 13\r\n\r\n"
			if _, err := c.Write([]byte(hello)); err != nil {
				t.Fatal(err)
			}
			br := bufio.NewReader(c)
			resp, err := http.ReadResponse(br, nil)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != 101 || resp.Header.Get("Sec-WebSocket-Accept") != wstest.AcceptKey(key) {
				t.Fatalf("handshake: %d %v", resp.StatusCode, resp.Header)
			}
			for _, m := range []string{"hello", "", strings.Repeat("big frame ", 20000)} {
				if _, err := c.Write(wstest.Frame(1, []byte(m), true)); err != nil {
					t.Fatal(err)
				}
				op, payload, err := wstest.ReadFrame(br)
				if err != nil || op != 1 || string(payload) != m {
					t.Fatalf("echo of %d bytes: op %d, %d bytes, %v", len(m), op, len(payload), err)
				}
			}
			c.Write(wstest.Frame(8, nil, true))
			if _, err := br.ReadByte(); err != io.EOF {
				t.Errorf("after close: %v, want EOF", err)
			}
		})
		checkServing(t, p)
	})
}

// TestProxyBackendDown stops one of 3 servers while wrk loads gibbon:
// once the health checks have marked it DOWN (fall), wrk sees no error
// and the server gets nothing; restarted, it rejoins after rise checks.
func TestProxyBackendDown(t *testing.T) {
	t.Parallel()
	forDrivers(t, func(t *testing.T, driver string) {
		a, b, c := newUpstream(t, "a"), newUpstream(t, "b"), newUpstream(t, "c")
		const interval, rise, fall = 200 * time.Millisecond, 2, 2
		conf := upstreamConf("app", "roundrobin", []*upstreamServer{a, b, c}, []string{"check", "check", "check"},
			fmt.Sprintf("Check /health interval=%v rise=%d fall=%d", interval, rise, fall), "ConnectTimeout 1s")
		p := proxySite(t, driver, conf, []string{"app"})
		url := p.base() + "/app/x"

		done := make(chan wrkResult, 1)
		go func() { done <- runWrk(t, "-t1", "-c8", "-d2s", url) }()
		time.Sleep(700 * time.Millisecond)
		b.stop()
		stopped := time.Now()
		during := <-done
		t.Logf("wrk while b stopped: %d requests, %d errors", during.requests, during.errors)
		time.Sleep(time.Until(stopped.Add((fall + 1) * interval)))
		if st := serverState(t, p, "app", "b"); st != "DOWN" {
			t.Fatalf("b after %d failed checks: %s", fall, st)
		}
		before := b.hits.Load()
		after := runWrk(t, "-t1", "-c8", "-d1s", url)
		if after.errors != 0 || b.hits.Load() != before {
			t.Errorf("with b DOWN: %d errors of %d, b got %d requests\n%s", after.errors, after.requests, b.hits.Load()-before, after.out)
		}
		b.restart()
		deadline := time.Now().Add((rise+3)*interval + time.Second)
		for serverState(t, p, "app", "b") != "UP" {
			if time.Now().After(deadline) {
				t.Fatalf("b not UP again %v after its restart", (rise+3)*interval+time.Second)
			}
			time.Sleep(interval / 2)
		}
		back := runWrk(t, "-t1", "-c8", "-d1s", url)
		if back.errors != 0 || b.hits.Load() == before {
			t.Errorf("b back: %d errors of %d, b got %d requests", back.errors, back.requests, b.hits.Load()-before)
		}
	})
}

// patternReader yields n bytes of a repeating pattern.
type patternReader struct {
	n     int64
	block []byte
}

func (r *patternReader) Read(p []byte) (int, error) {
	if r.n <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > r.n {
		p = p[:r.n]
	}
	k := 0
	for k < len(p) {
		k += copy(p[k:], r.block)
	}
	r.n -= int64(k)
	return k, nil
}

// TestProxyStreamGiB sends 1 GiB to an echoing backend through gibbon,
// both ways at once, and checks gibbon's peak RSS. One driver: blocking
// handlers run on the goroutine driver either way.
func TestProxyStreamGiB(t *testing.T) {
	if testing.Short() {
		t.Skip("1 GiB each way")
	}
	t.Parallel()
	a := newUpstream(t, "a")
	// MaxRequestSize bounds every request, proxied ones too: 2 GiB here.
	p := proxySite(t, "epoll", upstreamConf("big", "roundrobin", []*upstreamServer{a}, nil), []string{"big"},
		"    MaxRequestSize 2097152")
	const size = 1 << 30
	block := make([]byte, 64<<10)
	for i := range block {
		block[i] = byte(i*7 + i>>8)
	}
	sent := crc32.NewIEEE()
	body := io.TeeReader(&patternReader{n: size, block: block}, sent)
	req, _ := http.NewRequest("POST", p.base()+"/big/echo", body)
	req.ContentLength = size
	client := &http.Client{Timeout: 2 * time.Minute}
	t0 := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got := crc32.NewIEEE()
	n, err := io.Copy(got, resp.Body)
	if err != nil || n != size || got.Sum32() != sent.Sum32() || resp.StatusCode != 200 {
		t.Fatalf("echo: %d, %d bytes (want %d), %v, crc %08x want %08x", resp.StatusCode, n, size, err, got.Sum32(), sent.Sum32())
	}
	hwm := vmHWM(t, p.cmd.Process.Pid)
	t.Logf("1 GiB each way in %v; gibbon VmHWM %d KiB", time.Since(t0), hwm)
	if hwm > 64<<10 {
		t.Errorf("gibbon's peak RSS %d KiB, want under 64 MiB", hwm)
	}
}
