package proxy

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"gibbon/stage"
)

// Proxy is the plugin: the upstream pools of proxy.conf and the stats URI
// of each host. Its configuration is read-only after Provision; the pools'
// counters and states are atomics, so its hooks and handlers are safe for
// concurrent use.
type Proxy struct {
	pools    []*pool
	byName   map[string]*pool
	statsURI []string // by VHost.Index; "" for none
	log      *slog.Logger
}

// Provision builds each server's connection pool and starts one health
// checker goroutine per upstream that has a Check line.
func (p *Proxy) Provision(ctx *stage.Context) error {
	p.log = ctx.Logger()
	for _, pl := range p.pools {
		pl.log = p.log
		for _, s := range pl.servers {
			s.transport = pl.newTransport(s)
			if !s.h2c {
				s.h1 = newConnPool(pl, s)
			}
		}
		if pl.check != nil {
			pl.startChecker()
		}
	}
	return nil
}

// Cleanup stops the health checkers and closes idle upstream connections.
// It copes with a plugin that was only decoded.
func (p *Proxy) Cleanup() error {
	for _, pl := range p.pools {
		pl.stopChecker()
		for _, s := range pl.servers {
			if s.transport != nil {
				s.transport.CloseIdleConnections()
			}
			if s.h1 != nil {
				s.h1.closeIdle()
			}
		}
	}
	return nil
}

// OnRequest answers the stats page of the host (its [PROXY] StatsURI) and
// lets every other request through. It reads counters only and does not
// block.
func (p *Proxy) OnRequest(w stage.ResponseWriter, r *stage.Request) stage.Verdict {
	if r.VHost == nil || r.VHost.Index >= len(p.statsURI) {
		return stage.Continue
	}
	if uri := p.statsURI[r.VHost.Index]; uri == "" || r.Path != uri {
		return stage.Continue
	}
	p.serveStats(w, r)
	return stage.Handled
}

// handler serves the requests of one "Match <regex> proxy <upstream>"
// rule.
type handler struct {
	p    *Proxy
	pool *pool
}

// Blocking reports true: the handler waits on upstream servers and reads
// the request body.
func (h *handler) Blocking() bool { return true }

// ServeGibbon forwards r to a server of the upstream and relays the
// answer, streaming bodies both ways. Connect failures are retried (on
// another server with Redispatch on); when every try failed it returns
// 503, 502 for another transport error, 504 when no response head came
// within ResponseTimeout. An upgrade answered with 101 becomes a tunnel
// over the hijacked client connection.
func (h *handler) ServeGibbon(w stage.ResponseWriter, r *stage.Request) error {
	pl := h.pool
	upgrade := upgradeOf(w, r)
	body := newBody(r)
	defer body.detach()

	var tried []*server
	var s *server
	for try := 0; ; try++ {
		now := time.Now()
		if s == nil || pl.redispatch {
			s = pl.pick(r, tried, now)
			if s == nil && len(tried) > 0 {
				s = pl.pick(r, nil, now) // every server tried: any that is still up
			}
			if s == nil {
				return stage.Error(http.StatusServiceUnavailable, ErrNoServer)
			}
		} else {
			s.active.Add(1)
		}
		s.requests.Add(1)
		if s.h1 != nil {
			got, err := h.exchange(w, r, s, body, upgrade, now)
			if got {
				s.active.Add(-1)
				return err
			}
			s.active.Add(-1)
			status := h.failure(s, r, err)
			if isDialError(err) && body.sent() == 0 && try < pl.retries && r.Context().Err() == nil {
				tried = append(tried, s)
				continue
			}
			return pl.answerFailure(s, status, err)
		}
		resp, done, err := h.roundTrip(r.Context(), s, r, body, upgrade)
		if err == nil {
			err = h.relay(w, r, s, resp, done)
			s.active.Add(-1)
			return err
		}
		s.active.Add(-1)
		status := h.failure(s, r, err)
		if isDialError(err) && body.sent() == 0 && try < pl.retries && r.Context().Err() == nil {
			tried = append(tried, s)
			continue
		}
		return pl.answerFailure(s, status, err)
	}
}

// answerFailure returns the error a failed request is answered with,
// logging it first (as nginx's error log does) unless the client went
// away.
func (pl *pool) answerFailure(s *server, status int, err error) error {
	if status != 499 {
		pl.log.Warn("upstream request failed", "upstream", pl.name, "server", s.name, "status", status, "error", err.Error())
	}
	return stage.Error(status, err)
}

// failure accounts a failed exchange with s and returns the status to
// answer with.
func (h *handler) failure(s *server, r *stage.Request, err error) int {
	pl := h.pool
	switch {
	case r.Context().Err() != nil:
		return 499 // the client is gone; nobody reads the answer
	case errors.Is(err, ErrResponseTimeout):
		s.errors.Add(1)
		return http.StatusGatewayTimeout
	case isDialError(err):
		pl.failed(s, time.Now(), err)
		return http.StatusServiceUnavailable
	}
	pl.failed(s, time.Now(), err)
	return http.StatusBadGateway
}

// roundTrip sends one try of r to s and waits for the response head.
// done must be called once the response body is finished with.
func (h *handler) roundTrip(ctx context.Context, s *server, r *stage.Request, body *reqBody, upgrade string) (*http.Response, func(), error) {
	pl := h.pool
	ctx, cancel := context.WithCancel(ctx)
	dl := &deadline{cancel: cancel}
	req := &http.Request{
		Method:     string(r.MethodName),
		URL:        outboundURL(r, s.addr),
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header:     outboundHeader(r, upgrade),
		Host:       string(r.Host),
	}
	if req.Host == "" {
		req.Host = s.addr
	}
	if n := body.length(); n != 0 {
		req.ContentLength, req.Body = n, body
		body.start(s)
	}
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		WroteRequest: func(httptrace.WroteRequestInfo) { dl.arm(pl.responseTimeout) },
	})
	resp, err := s.transport.RoundTrip(req.WithContext(ctx))
	if dl.disarm() {
		if resp != nil {
			resp.Body.Close()
		}
		cancel()
		return nil, nil, ErrResponseTimeout
	}
	if err != nil {
		cancel()
		return nil, nil, err
	}
	return resp, func() { resp.Body.Close(); cancel() }, nil
}

// relay writes the upstream response to w, or tunnels after a 101.
func (h *handler) relay(w stage.ResponseWriter, r *stage.Request, s *server, resp *http.Response, done func()) error {
	defer done()
	if resp.StatusCode == http.StatusSwitchingProtocols {
		return h.tunnel(w, r, s, resp)
	}
	h.pool.succeeded(s)
	inboundHeader(w.Header(), resp.Header)
	w.WriteHeader(resp.StatusCode)
	f, _ := w.(stage.Flusher)
	if f != nil && resp.ContentLength < 0 {
		if err := f.Flush(); err != nil { // a stream: send the head now
			return err
		}
	}
	buf := make([]byte, 32<<10)
	var sent int64
	for {
		n, err := resp.Body.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return werr
			}
			sent += int64(n)
			s.bytesOut.Add(int64(n))
			if f != nil && sent != resp.ContentLength {
				if werr := f.Flush(); werr != nil {
					return werr
				}
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			s.errors.Add(1)
			return err // after the head: the server closes the connection
		}
	}
}

// upgradeOf returns the Upgrade value to forward when r asks to switch
// protocols (Connection: upgrade) and w can hand its connection over; ""
// otherwise, and the upgrade is then dropped like any hop-by-hop field.
func upgradeOf(w stage.ResponseWriter, r *stage.Request) string {
	if _, ok := w.(stage.Hijacker); !ok {
		return ""
	}
	up := r.Header("Upgrade")
	if len(up) == 0 {
		return ""
	}
	var conn []string
	for _, f := range r.Headers {
		if equalFold(f.Name, "Connection") {
			conn = append(conn, string(f.Value))
		}
	}
	if !hasToken(conn, "upgrade") {
		return ""
	}
	return string(up)
}

// outboundURL is the URL of r on the server at addr: the target as sent
// (still encoded), or the rewritten path and query.
func outboundURL(r *stage.Request, addr string) *url.URL {
	target := string(r.Target)
	if r.Rewritten() || !strings.HasPrefix(target, "/") {
		target = stage.EscapePath(r.Path)
		if r.Query != "" {
			target += "?" + r.Query
		}
	}
	u, err := url.ParseRequestURI(target)
	if err != nil {
		u = &url.URL{Path: r.Path, RawQuery: r.Query}
	}
	u.Scheme, u.Host = "http", addr
	return u
}

// reqBody is the request body as the upstream transport reads it. It
// counts bytes and is detached when the handler returns: the transport may still be
// reading it then (the server answered before the whole body was sent),
// and r.Body must not be used after the handler returns. A nil *reqBody
// is a request without a body.
type reqBody struct {
	mu   sync.Mutex // held during a Read of r
	r    io.Reader  // nil once detached
	n    int64      // body length: -1 unknown (chunked)
	s    *server    // the server of the current try
	read atomic.Int64
}

// newBody returns the body of r, nil when it has none.
func newBody(r *stage.Request) *reqBody {
	if r.Body == nil {
		return nil
	}
	var n int64
	if te := r.Header("Transfer-Encoding"); len(te) > 0 {
		n = -1
	} else if cl := r.Header("Content-Length"); len(cl) > 0 {
		n, _ = strconv.ParseInt(string(cl), 10, 64)
	}
	if n == 0 {
		return nil
	}
	return &reqBody{r: r.Body, n: n}
}

// length returns the body length for the upstream request: 0 for none,
// -1 when unknown (sent chunked).
func (b *reqBody) length() int64 {
	if b == nil || b.r == nil {
		return 0
	}
	return b.n
}

// sent returns the number of body bytes read so far.
func (b *reqBody) sent() int64 {
	if b == nil {
		return 0
	}
	return b.read.Load()
}

// start prepares a try on s.
func (b *reqBody) start(s *server) {
	b.mu.Lock()
	b.s = s
	b.mu.Unlock()
}

func (b *reqBody) Read(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.r == nil {
		return 0, errDetached
	}
	n, err := b.r.Read(p)
	b.read.Add(int64(n))
	b.s.bytesIn.Add(int64(n))
	return n, err
}

// Close is a no-op: the transport closes the body after each try, and a
// retry sends it again (it is only retried when nothing was read).
func (b *reqBody) Close() error { return nil }

// detach waits for a Read in progress and makes later ones fail.
func (b *reqBody) detach() {
	if b == nil {
		return
	}
	b.mu.Lock()
	b.r = nil
	b.mu.Unlock()
}

var errDetached = errors.New("proxy: request ended")

// deadline is the response timeout of one try: armed when the request,
// body included, is written, disarmed when the response head arrives.
type deadline struct {
	cancel  context.CancelFunc
	mu      sync.Mutex
	t       *time.Timer
	stopped bool
	fired   atomic.Bool
}

func (d *deadline) arm(wait time.Duration) {
	if wait <= 0 {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.stopped || d.t != nil {
		return
	}
	d.t = time.AfterFunc(wait, func() {
		d.fired.Store(true)
		d.cancel()
	})
}

// disarm stops the timer and reports whether it fired.
func (d *deadline) disarm() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.stopped = true
	if d.t != nil {
		d.t.Stop()
	}
	return d.fired.Load()
}

var (
	_ stage.Provisioner   = (*Proxy)(nil)
	_ stage.Cleaner       = (*Proxy)(nil)
	_ stage.HandlerMaker  = (*Proxy)(nil)
	_ stage.RequestFilter = (*Proxy)(nil)
	_ stage.Handler       = (*handler)(nil)
)
