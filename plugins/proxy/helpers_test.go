package proxy_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/netip"
	"net/url"
	"path"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gibbon/http1"
	"gibbon/plugins/proxy"
	"gibbon/stage"
	"gibbon/stage/stagetest"
)

// backend is a real net/http server on 127.0.0.1:0 that counts the
// requests it serves (health checks aside) and answers its name.
type backend struct {
	name string
	addr string
	srv  *httptest.Server
	hits atomic.Int64
	// handle, when set, serves non-check requests instead of the default.
	handle http.HandlerFunc
}

func newBackend(t *testing.T, name string, handle http.HandlerFunc) *backend {
	t.Helper()
	b := &backend{name: name, handle: handle}
	b.srv = httptest.NewServer(b)
	b.addr = b.srv.Listener.Addr().String()
	t.Cleanup(b.stop)
	return b
}

func (b *backend) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/health" {
		w.WriteHeader(200)
		return
	}
	b.hits.Add(1)
	w.Header().Set("X-Backend", b.name)
	if b.handle != nil {
		b.handle(w, r)
		return
	}
	io.WriteString(w, b.name)
}

// stop closes the server and its connections.
func (b *backend) stop() {
	b.srv.CloseClientConnections()
	b.srv.Close()
}

// restart serves again on the same address.
func (b *backend) restart(t *testing.T) {
	t.Helper()
	var ln net.Listener
	var err error
	for range 50 {
		if ln, err = net.Listen("tcp", b.addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("relisten %s: %v", b.addr, err)
	}
	b.srv = httptest.NewUnstartedServer(b)
	b.srv.Listener.Close()
	b.srv.Listener = ln
	b.srv.Start()
}

// site is the default host: everything goes to upstream app, the stats
// page is /proxy-stats.
const site = "[HOST]\n    DocumentRoot htdocs\n[HANDLERS]\n    Match ^/ proxy app\n[PROXY]\n    StatsURI /proxy-stats\n"

// load loads the proxy plugin with proxy.conf text conf.
func load(t *testing.T, conf string) (*stage.Pipeline, *proxy.Proxy) {
	t.Helper()
	p := stagetest.Load(t, map[string]string{
		"plugins.load":             "[PLUGINS]\n    Load proxy\n",
		"plugins/proxy/proxy.conf": conf,
		"sites/default":            site,
	})
	return p, p.Plugin("proxy").(*proxy.Proxy)
}

// upstream renders an [UPSTREAM] app section: extra lines, then servers.
func upstream(extra string, servers ...string) string {
	var b strings.Builder
	b.WriteString("[UPSTREAM]\n    Name app\n")
	for _, l := range strings.Split(strings.TrimSpace(extra), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			b.WriteString("    " + l + "\n")
		}
	}
	for _, s := range servers {
		b.WriteString("    Server " + s + "\n")
	}
	return b.String()
}

// call runs one request through stages 20 and 30 with a recorder, from
// client address remote ("" for the default).
func call(t *testing.T, p *stage.Pipeline, remote, method, target string, body io.Reader, headers ...string) (*stage.ResponseRecorder, error) {
	t.Helper()
	r := stagetest.NewRequest(p.Hosts()[0].VHost, method, target, append([]string{"Host: example.com"}, headers...)...)
	if remote != "" {
		r.Conn.Remote = netip.MustParseAddrPort(remote)
	}
	r.Body = body
	w := stage.NewRecorder()
	if p.Request(w, r) != stage.Continue {
		return w, nil
	}
	rule := p.Route(r)
	if rule == nil {
		t.Fatalf("no rule for %s", target)
	}
	return w, rule.Serve(w, r)
}

// get runs a GET and fails the test unless it is answered 200; it returns
// the body.
func get(t *testing.T, p *stage.Pipeline, remote, target string) string {
	t.Helper()
	w, err := call(t, p, remote, "GET", target, nil)
	if err != nil || w.Code != 200 {
		t.Fatalf("GET %s: %d %v", target, w.Code, err)
	}
	return w.Body.String()
}

func counts(bs ...*backend) []int64 {
	out := make([]int64, len(bs))
	for i, b := range bs {
		out[i] = b.hits.Load()
	}
	return out
}

// serverStats returns the stats of server name of upstream app.
func serverStats(t *testing.T, px *proxy.Proxy, name string) proxy.ServerStats {
	t.Helper()
	for _, u := range px.Snapshot().Upstreams {
		for _, s := range u.Servers {
			if s.Name == name {
				return s
			}
		}
	}
	t.Fatalf("no server %s in stats", name)
	return proxy.ServerStats{}
}

// waitFor polls cond every 10ms until it holds or the timeout passes.
func waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// front is a minimal stand-in for the server, for tests that need a real
// client connection: it accepts TCP connections, parses each request head
// with http1.Parse, builds a stage.Request with Body, a context and a
// streaming ResponseWriter (Flusher, Hijacker), routes it through the
// Pipeline and closes the connection after one request.
type front struct {
	p  *stage.Pipeline
	ln net.Listener
	wg sync.WaitGroup
}

func startFront(t *testing.T, p *stage.Pipeline) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &front{p: p, ln: ln}
	f.wg.Go(f.acceptLoop)
	t.Cleanup(func() {
		ln.Close()
		f.wg.Wait()
	})
	return ln.Addr().String()
}

func (f *front) acceptLoop() {
	for {
		c, err := f.ln.Accept()
		if err != nil {
			return
		}
		f.wg.Go(func() { f.serve(c) })
	}
}

func (f *front) serve(c net.Conn) {
	hijacked := false
	defer func() {
		if !hijacked {
			c.Close()
		}
	}()
	br := bufio.NewReaderSize(c, 32<<10)
	var head []byte
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			return
		}
		head = append(head, line...)
		if string(line) == "\r\n" {
			break
		}
	}
	var hr http1.Request
	if n, err := http1.Parse(head, &hr, nil); n == 0 || err != nil {
		io.WriteString(c, "HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n")
		return
	}
	r := &stage.Request{
		Method: hr.Method, MethodName: hr.MethodName, Proto: hr.Version,
		Target: hr.Target, Host: hr.Host, Headers: hr.Headers,
		VHost: f.p.Hosts()[0].VHost, Start: time.Now(),
		Conn: stage.ConnInfo{ID: 1, Remote: netip.MustParseAddrPort(c.RemoteAddr().String()),
			Local: netip.MustParseAddrPort(c.LocalAddr().String()), Accepted: time.Now()},
	}
	p, _ := url.PathUnescape(string(hr.Path))
	r.Path, r.Query = path.Clean(p), string(hr.Query)
	switch {
	case hr.Chunked:
		r.Body = httputil.NewChunkedReader(br)
	case hr.ContentLength > 0:
		r.Body = io.LimitReader(br, hr.ContentLength)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r.SetContext(ctx)
	w := &streamWriter{c: c, br: br, bw: bufio.NewWriterSize(c, 32<<10)}
	err := f.p.Route(r).Serve(w, r)
	if w.hijacked {
		hijacked = true
		return
	}
	if err != nil && !w.wrote {
		w.WriteHeader(stage.StatusOf(err))
		err = nil
	}
	if err == nil {
		w.finish()
	}
}

// streamWriter writes a chunked response straight to the connection.
type streamWriter struct {
	c        net.Conn
	br       *bufio.Reader
	bw       *bufio.Writer
	h        stage.Header
	status   int
	wrote    bool // WriteHeader called
	headOut  bool // head in bw
	hijacked bool
}

func (w *streamWriter) Header() *stage.Header { return &w.h }

func (w *streamWriter) WriteHeader(status int) {
	if !w.wrote {
		w.status, w.wrote = status, true
	}
}

func (w *streamWriter) head() {
	if w.headOut {
		return
	}
	w.WriteHeader(200)
	w.headOut = true
	fmt.Fprintf(w.bw, "HTTP/1.1 %d %s\r\n", w.status, http.StatusText(w.status))
	for _, f := range w.h.Fields() {
		switch strings.ToLower(f.Name) {
		case "content-length", "transfer-encoding", "connection":
			continue
		}
		fmt.Fprintf(w.bw, "%s: %s\r\n", f.Name, f.Value)
	}
	io.WriteString(w.bw, "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n")
}

func (w *streamWriter) Write(p []byte) (int, error) {
	w.head()
	if len(p) == 0 {
		return 0, nil
	}
	fmt.Fprintf(w.bw, "%x\r\n", len(p))
	w.bw.Write(p)
	_, err := w.bw.WriteString("\r\n")
	return len(p), err
}

func (w *streamWriter) Flush() error {
	w.head()
	return w.bw.Flush()
}

func (w *streamWriter) Respond(status int, contentType string, body []byte) error {
	if contentType != "" {
		w.h.Set("Content-Type", contentType)
	}
	w.WriteHeader(status)
	_, err := w.Write(body)
	return err
}

func (w *streamWriter) Written() bool { return w.wrote }

func (w *streamWriter) finish() {
	w.head()
	w.bw.WriteString("0\r\n\r\n")
	w.bw.Flush()
}

func (w *streamWriter) Hijack() (net.Conn, []byte, error) {
	if w.headOut {
		return nil, nil, errors.New("response already written")
	}
	buffered, _ := w.br.Peek(w.br.Buffered())
	w.hijacked = true
	return w.c, append([]byte(nil), buffered...), nil
}

var (
	_ stage.Flusher  = (*streamWriter)(nil)
	_ stage.Hijacker = (*streamWriter)(nil)
)
