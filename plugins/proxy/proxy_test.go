package proxy_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gibbon/plugins/proxy"
	"gibbon/stage"
	"gibbon/stage/stagetest"
)

// deadAddr returns a loopback address nobody listens on.
func deadAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func TestRedispatch(t *testing.T) {
	t.Parallel()
	t.Run("on", func(t *testing.T) {
		t.Parallel()
		a, b := newBackend(t, "a", nil), newBackend(t, "b", nil)
		p, px := load(t, upstream("Retries 2\nRedispatch on", "dead "+deadAddr(t), "a "+a.addr, "b "+b.addr))
		for range 30 {
			get(t, p, "", "/") // never fails: the dead server's tries go elsewhere
		}
		if got := a.hits.Load() + b.hits.Load(); got != 30 {
			t.Errorf("a+b served %d, want 30", got)
		}
		if s := serverStats(t, px, "dead"); s.Errors < 3 || !strings.HasPrefix(s.State, "DOWN") {
			t.Errorf("dead server %+v: want DOWN after 3 connect errors", s)
		}
	})
	t.Run("off", func(t *testing.T) {
		t.Parallel()
		a := newBackend(t, "a", nil)
		p, _ := load(t, upstream("Retries 1\nRedispatch off", "dead "+deadAddr(t), "a "+a.addr))
		// Smooth round robin starts with the first server: both tries go to it.
		w, err := call(t, p, "", "GET", "/", nil)
		if stage.StatusOf(err) != 503 || w.Written() {
			t.Fatalf("got %d %v, want a 503 error", w.Code, err)
		}
		if get(t, p, "", "/") != "a" {
			t.Fatal("the next request should go to a")
		}
	})
}

func TestNoServer(t *testing.T) {
	t.Parallel()
	p, _ := load(t, upstream("Retries 5", "x "+deadAddr(t), "y "+deadAddr(t)))
	for range 5 {
		_, err := call(t, p, "", "GET", "/", nil)
		if stage.StatusOf(err) != 503 {
			t.Fatalf("got %v, want 503", err)
		}
	}
	_, err := call(t, p, "", "GET", "/", nil)
	if !errors.Is(err, proxy.ErrNoServer) {
		t.Errorf("with every server down: %v, want ErrNoServer", err)
	}
}

func TestResponseTimeout(t *testing.T) {
	t.Parallel()
	unblock := make(chan struct{})
	t.Cleanup(func() { close(unblock) })
	slow := newBackend(t, "slow", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-unblock:
		case <-r.Context().Done():
		}
	})
	p, px := load(t, upstream("ResponseTimeout 200ms", "slow "+slow.addr))
	start := time.Now()
	w, err := call(t, p, "", "GET", "/", nil)
	took := time.Since(start)
	if stage.StatusOf(err) != 504 || !errors.Is(err, proxy.ErrResponseTimeout) || w.Written() {
		t.Fatalf("got %d %v, want a 504 error", w.Code, err)
	}
	if took < 200*time.Millisecond || took > 2*time.Second {
		t.Errorf("answered after %v, want about 200ms", took)
	}
	if s := serverStats(t, px, "slow"); s.Errors != 1 || s.State != "UP" {
		t.Errorf("slow server %+v: want 1 error and still UP", s)
	}
}

func TestForwardedHeaders(t *testing.T) {
	t.Parallel()
	var got http.Header
	var gotHost string
	echo := newBackend(t, "echo", func(w http.ResponseWriter, r *http.Request) {
		got, gotHost = r.Header.Clone(), r.Host
		w.Header().Set("Connection", "X-Internal")
		w.Header().Set("X-Internal", "secret")
		w.Header().Set("Keep-Alive", "timeout=5")
		w.Header().Set("Proxy-Authenticate", "Basic")
		w.Header().Set("Via", "1.0 origin")
		w.Header().Set("X-Kept", "yes")
		io.WriteString(w, "ok")
	})
	p, _ := load(t, upstream("", "echo "+echo.addr))
	w, err := call(t, p, "203.0.113.7:5555", "GET", "/h?q=1", nil,
		"X-Forwarded-For: 198.51.100.1",
		"X-Forwarded-For: 198.51.100.2",
		"Forwarded: for=198.51.100.1",
		"Via: 1.1 edge",
		"Connection: keep-alive, X-Hop",
		"X-Hop: drop me",
		"Keep-Alive: 300",
		"Proxy-Authorization: Basic Zm9vOmJhcg==",
		"Proxy-Connection: keep-alive",
		"TE: trailers",
		"Upgrade: h2c",
		"X-End: kept")
	if err != nil || w.Code != 200 {
		t.Fatalf("got %d %v", w.Code, err)
	}
	want := map[string]string{
		"X-Forwarded-For":   "198.51.100.1, 198.51.100.2, 203.0.113.7",
		"X-Forwarded-Proto": "http",
		"X-Forwarded-Host":  "example.com",
		"Forwarded":         "for=198.51.100.1, for=203.0.113.7;host=example.com;proto=http",
		"Via":               "1.1 edge, 1.1 gibbon",
		"X-End":             "kept",
	}
	for k, v := range want {
		if g := strings.Join(got.Values(k), ", "); g != v {
			t.Errorf("upstream %s = %q, want %q", k, g, v)
		}
	}
	for _, k := range []string{"X-Hop", "Keep-Alive", "Proxy-Authorization", "Proxy-Connection", "Te", "Upgrade", "Connection"} {
		if v, ok := got[k]; ok {
			t.Errorf("upstream got hop-by-hop %s: %q", k, v)
		}
	}
	if gotHost != "example.com" {
		t.Errorf("upstream Host %q, want the client's", gotHost)
	}
	if got.Get("User-Agent") != "" {
		t.Errorf("upstream User-Agent %q, want none added", got.Get("User-Agent"))
	}
	for _, k := range []string{"X-Internal", "Keep-Alive", "Proxy-Authenticate", "Connection"} {
		if v := w.Fields.Get(k); v != "" {
			t.Errorf("client got hop-by-hop %s: %q", k, v)
		}
	}
	if v := w.Fields.Get("Via"); v != "1.0 origin, 1.1 gibbon" {
		t.Errorf("client Via %q", v)
	}
	if w.Fields.Get("X-Kept") != "yes" || w.Body.String() != "ok" {
		t.Errorf("client got %v %q", w.Fields.Fields(), w.Body.String())
	}
}

func TestForwardedIPv6(t *testing.T) {
	t.Parallel()
	var got http.Header
	echo := newBackend(t, "echo", func(w http.ResponseWriter, r *http.Request) { got = r.Header.Clone() })
	p, _ := load(t, upstream("", "echo "+echo.addr))
	if _, err := call(t, p, "[2001:db8::1]:443", "GET", "/", nil); err != nil {
		t.Fatal(err)
	}
	if v := got.Get("Forwarded"); v != `for="[2001:db8::1]";host=example.com;proto=http` {
		t.Errorf("Forwarded %q", v)
	}
	if v := got.Get("X-Forwarded-For"); v != "2001:db8::1" {
		t.Errorf("X-Forwarded-For %q", v)
	}
}

func TestRequestBody(t *testing.T) {
	t.Parallel()
	echo := newBackend(t, "echo", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		io.WriteString(w, r.Method+" "+r.RequestURI+" "+string(b))
	})
	p, _ := load(t, upstream("", "echo "+echo.addr))
	w, err := call(t, p, "", "POST", "/a%20b?x=%2F", strings.NewReader("hello"), "Content-Length: 5")
	if err != nil || w.Body.String() != "POST /a%20b?x=%2F hello" {
		t.Fatalf("got %q %v", w.Body.String(), err)
	}
	w, err = call(t, p, "", "PUT", "/c", strings.NewReader("chunky"), "Transfer-Encoding: chunked")
	if err != nil || w.Body.String() != "PUT /c chunky" {
		t.Fatalf("chunked: got %q %v", w.Body.String(), err)
	}
}

func TestHealthChecksUnderLoad(t *testing.T) {
	t.Parallel()
	a, b, c := threeBackends(t)
	p, px := load(t, upstream("Check /health interval=50ms rise=2 fall=2\nRetries 0",
		"a "+a.addr+" check", "b "+b.addr+" check", "c "+c.addr+" check"))
	var errs atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if w, err := call(t, p, "", "GET", "/", nil); err != nil || w.Code != 200 {
					errs.Add(1)
				}
			}
		})
	}
	defer func() { close(stop); wg.Wait() }()
	time.Sleep(100 * time.Millisecond)
	b.stop()
	waitFor(t, "b marked DOWN", 5*time.Second, func() bool { return serverStats(t, px, "b").State == "DOWN" })
	// Once the requests that chose b before that have failed, no request
	// fails and b gets nothing.
	time.Sleep(50 * time.Millisecond)
	errs.Store(0)
	hitsB := b.hits.Load()
	time.Sleep(300 * time.Millisecond)
	if n := errs.Load(); n != 0 {
		t.Errorf("%d errors after b was marked down", n)
	}
	if b.hits.Load() != hitsB {
		t.Error("b got requests while down")
	}
	if s := serverStats(t, px, "b"); s.Check == nil || s.Check.OK || s.Check.Status != "L4CON" {
		t.Errorf("b's last check %+v, want L4CON", s.Check)
	}
	// Back again after rise good checks.
	b.restart(t)
	waitFor(t, "b UP again", 5*time.Second, func() bool { return serverStats(t, px, "b").State == "UP" })
	waitFor(t, "b serving again", 5*time.Second, func() bool { return b.hits.Load() > hitsB })
	if s := serverStats(t, px, "b"); s.Check == nil || s.Check.Status != "L7OK" || s.Check.Code != 200 {
		t.Errorf("b's last check %+v, want L7OK 200", s.Check)
	}
}

func TestCheckStatus(t *testing.T) {
	t.Parallel()
	sick := newBackend(t, "sick", nil)
	// /health answers 200; the check wants 204.
	p, px := load(t, upstream("Check /health interval=20ms rise=1 fall=1 status=204", "sick "+sick.addr+" check"))
	waitFor(t, "sick DOWN", 5*time.Second, func() bool { return serverStats(t, px, "sick").State == "DOWN" })
	if s := serverStats(t, px, "sick"); s.Check.Status != "L7STS" || s.Check.Code != 200 {
		t.Errorf("last check %+v, want L7STS 200", s.Check)
	}
	if _, err := call(t, p, "", "GET", "/", nil); !errors.Is(err, proxy.ErrNoServer) {
		t.Errorf("got %v, want ErrNoServer", err)
	}
}

func TestH2CUpstream(t *testing.T) {
	t.Parallel()
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("X-Proto", r.Proto)
		io.WriteString(w, r.Proto+" "+r.Header.Get("X-Forwarded-For")+" "+string(b))
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h, Protocols: new(http.Protocols)}
	srv.Protocols.SetUnencryptedHTTP2(true)
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	p, px := load(t, upstream("", "h2 "+ln.Addr().String()+" proto=h2c"))
	for range 3 {
		w, err := call(t, p, "", "POST", "/", strings.NewReader("body"), "Content-Length: 4")
		if err != nil || w.Body.String() != "HTTP/2.0 192.0.2.1 body" || w.Fields.Get("X-Proto") != "HTTP/2.0" {
			t.Fatalf("got %d %q %v", w.Code, w.Body.String(), err)
		}
	}
	if s := serverStats(t, px, "h2"); s.Proto != "h2c" || s.Requests != 3 || s.BytesIn != 12 {
		t.Errorf("stats %+v", s)
	}
}

func TestStatsPage(t *testing.T) {
	t.Parallel()
	a := newBackend(t, "a", nil)
	p, _ := load(t, upstream("Balance url_param id\nCheck /health interval=1h",
		"a "+a.addr+" weight=3 check", "spare "+deadAddr(t)+" backup"))
	for range 4 {
		get(t, p, "", "/x")
	}
	w, err := call(t, p, "", "GET", "/proxy-stats?format=json", nil)
	if err != nil || w.Code != 200 || w.Fields.Get("Content-Type") != "application/json" {
		t.Fatalf("json: %d %v %v", w.Code, w.Fields.Fields(), err)
	}
	var st proxy.Stats
	if err := json.Unmarshal(w.Body.Bytes(), &st); err != nil {
		t.Fatal(err)
	}
	if len(st.Upstreams) != 1 || st.Upstreams[0].Balance != "url_param id" || len(st.Upstreams[0].Servers) != 2 {
		t.Fatalf("stats %+v", st)
	}
	sa, spare := st.Upstreams[0].Servers[0], st.Upstreams[0].Servers[1]
	if sa.Name != "a" || sa.State != "UP" || sa.Requests != 4 || sa.BytesOut != 4 || sa.Weight != 3 || sa.Active != 0 {
		t.Errorf("server a %+v", sa)
	}
	waitFor(t, "a checked", 5*time.Second, func() bool { return serverStats(t, p.Plugin("proxy").(*proxy.Proxy), "a").Check != nil })
	if !spare.Backup || spare.Requests != 0 || spare.Check != nil {
		t.Errorf("spare %+v", spare)
	}
	w, err = call(t, p, "", "GET", "/proxy-stats", nil)
	html := w.Body.String()
	if err != nil || w.Code != 200 || !strings.HasPrefix(w.Fields.Get("Content-Type"), "text/html") {
		t.Fatalf("html: %d %v", w.Code, err)
	}
	for _, s := range []string{"<h2>app <small>(url_param id)</small></h2>", ">a</td>", a.addr, "UP", "UP backup", "L7OK 200 OK", "no check"} {
		if !strings.Contains(html, s) {
			t.Errorf("stats page lacks %q:\n%s", s, html)
		}
	}
}

// TestClientGone: when the request context ends (the client went away)
// the handler stops waiting for the upstream at once.
func TestClientGone(t *testing.T) {
	t.Parallel()
	arrived := make(chan struct{}, 1)
	slow := newBackend(t, "slow", func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		<-r.Context().Done() // the proxy hung up
	})
	p, px := load(t, upstream("", "slow "+slow.addr))
	r := stagetest.NewRequest(p.Hosts()[0].VHost, "GET", "/", "Host: example.com")
	ctx, cancel := context.WithCancel(context.Background())
	r.SetContext(ctx)
	go func() {
		<-arrived
		cancel()
	}()
	start := time.Now()
	err := p.Route(r).Serve(stage.NewRecorder(), r)
	if err == nil || time.Since(start) > 5*time.Second {
		t.Fatalf("got %v after %v", err, time.Since(start))
	}
	if s := serverStats(t, px, "slow"); s.State != "UP" || s.Failures != 0 || s.Active != 0 {
		t.Errorf("a client going away counted against the server: %+v", s)
	}
}

// TestClientGoneMidBody: a client that goes away while the answer's body
// stalls ends the exchange too (the context is watched only once a read
// from the server waits long), and the server's connection is closed.
func TestClientGoneMidBody(t *testing.T) {
	t.Parallel()
	sent, hungUp := make(chan struct{}), make(chan struct{})
	slow := newBackend(t, "slow", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "10")
		io.WriteString(w, "hello")
		w.(http.Flusher).Flush()
		close(sent)
		<-r.Context().Done()
		close(hungUp)
	})
	p, px := load(t, upstream("", "slow "+slow.addr))
	r := stagetest.NewRequest(p.Hosts()[0].VHost, "GET", "/", "Host: example.com")
	ctx, cancel := context.WithCancel(context.Background())
	r.SetContext(ctx)
	go func() {
		<-sent
		cancel()
	}()
	start := time.Now()
	err := p.Route(r).Serve(stage.NewRecorder(), r)
	if err == nil || time.Since(start) > 5*time.Second {
		t.Fatalf("got %v after %v", err, time.Since(start))
	}
	select {
	case <-hungUp:
	case <-time.After(5 * time.Second):
		t.Fatal("the connection to the server stayed open")
	}
	if s := serverStats(t, px, "slow"); s.Active != 0 {
		t.Errorf("still active: %+v", s)
	}
}

// TestCleanupStopsCheckers: Cleanup returns only once the checker
// goroutines are gone, and may run twice.
func TestCleanupStopsCheckers(t *testing.T) {
	t.Parallel()
	a := newBackend(t, "a", nil)
	cfg := stagetest.Config(t, map[string]string{
		"plugins.load":             "[PLUGINS]\n    Load proxy\n",
		"plugins/proxy/proxy.conf": upstream("Check /health interval=10ms", "a "+a.addr+" check"),
		"sites/default":            site,
	})
	p, err := stage.Load(cfg, stage.Env{})
	if err != nil {
		t.Fatal(err)
	}
	px := p.Plugin("proxy").(*proxy.Proxy)
	waitFor(t, "a checked", 5*time.Second, func() bool { return serverStats(t, px, "a").Check != nil })
	if err := p.Cleanup(); err != nil {
		t.Fatal(err)
	}
	last := serverStats(t, px, "a").Check.At
	time.Sleep(50 * time.Millisecond)
	if serverStats(t, px, "a").Check.At != last {
		t.Error("checks went on after Cleanup")
	}
	if err := p.Cleanup(); err != nil {
		t.Fatal(err)
	}
}
