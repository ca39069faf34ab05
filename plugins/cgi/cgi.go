package cgi

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"gibbon/internal/cgihead"
	"gibbon/stage"
	"gibbon/static"
)

// CGI is the plugin: the [CGI] settings and the process slots shared by its
// handlers. Read-only after Provision except for the slots channel; safe for
// concurrent use.
type CGI struct {
	timeLimit    time.Duration
	queueTimeout time.Duration
	maxProcs     int

	log   *slog.Logger
	slots chan struct{} // one token per running script
}

// handler serves one [HANDLERS] rule.
type handler struct {
	c           *CGI
	interpreter string // "" runs the script itself
	mimetype    string // Content-Type when the script sends none
}

// Blocking is true: a handler waits on a child process.
func (h *handler) Blocking() bool { return true }

// ServeGibbon runs the script the request path names and streams its
// answer. It answers 404/403/301 when there is no script, 503 when no
// process slot frees in time, 500 for a script that fails to start or
// writes a malformed head, 504 for one that writes no head within the time
// limit. A local redirect ("Location: /path", no Status) returns a
// *stage.InternalRedirect for the server to follow.
func (h *handler) ServeGibbon(w stage.ResponseWriter, r *stage.Request) error {
	vh := r.VHost
	if vh == nil {
		return stage.Error(500, errors.New("cgi: request without a virtual host"))
	}
	s, err := cgihead.Locate(vh.DocumentRoot, r.Path, vh.IndexFiles, vh.SymLink)
	if err != nil {
		return locateError(w, r, err)
	}
	if h.interpreter == "" {
		if st, err := os.Stat(s.Filename); err != nil || st.Mode()&0o111 == 0 {
			return stage.Error(403, fmt.Errorf("cgi: %s is not executable", s.Name))
		}
	}
	body, length, done, err := requestBody(r)
	if err != nil {
		return err
	}
	defer done()
	ctx := r.Context()
	if !h.c.acquire(ctx) {
		w.Header().Set("Retry-After", "1")
		return stage.Error(503, errors.New("cgi: all process slots busy"))
	}
	defer h.c.release()
	env := cgihead.Environ(meta(r, s, length).Append(nil))
	return h.run(ctx, w, r, s, env, body)
}

// locateError answers what cgihead.Locate found instead of a script.
func locateError(w stage.ResponseWriter, r *stage.Request, err error) error {
	var se *cgihead.StatusError
	if !errors.As(err, &se) {
		return err
	}
	if se.Status == 301 {
		w.Header().Set("Location", stage.EscapePath(r.Path)+"/")
		return w.Respond(301, "", nil)
	}
	return stage.Error(se.Status, err)
}

// acquire takes a process slot, waiting up to queueTimeout.
func (c *CGI) acquire(ctx context.Context) bool {
	select {
	case c.slots <- struct{}{}:
		return true
	default:
	}
	t := time.NewTimer(c.queueTimeout)
	defer t.Stop()
	select {
	case c.slots <- struct{}{}:
		return true
	case <-t.C:
		return false
	case <-ctx.Done():
		return false
	}
}

func (c *CGI) release() { <-c.slots }

// run starts the script and relays its answer.
func (h *handler) run(ctx context.Context, w stage.ResponseWriter, r *stage.Request, s cgihead.Script, env []string, body io.Reader) error {
	p, err := h.start(s, env)
	if err != nil {
		return stage.Error(500, fmt.Errorf("cgi: starting %s: %w", s.Name, err))
	}
	defer p.finish()
	go p.logStderr(h.c.log, s.Name)
	go p.feed(body)
	go p.watch(ctx, h.c.timeLimit)

	br := bufio.NewReaderSize(p.stdout, 32<<10)
	head, err := cgihead.Read(br, 0)
	if err != nil {
		p.kill()
		if p.timedOut() {
			return stage.Error(504, fmt.Errorf("cgi: %s: no response head within %v", s.Name, h.c.timeLimit))
		}
		if ctx.Err() != nil {
			return stage.Error(499, fmt.Errorf("cgi: %s: client went away: %w", s.Name, ctx.Err()))
		}
		return stage.Error(500, fmt.Errorf("cgi: %s: %w", s.Name, err))
	}
	if head.Kind() == cgihead.LocalRedirect {
		io.Copy(io.Discard, br) // RFC 3875 §6.2.2: no body; bounded by the time limit
		p.wait()
		return localRedirect(head.Location)
	}
	writeHead(w, head, h.mimetype)
	var flush func() error
	if f, ok := w.(stage.Flusher); ok {
		flush = f.Flush
	}
	_, rerr, werr := cgihead.Copy(w, flush, br)
	switch {
	case werr != nil:
		p.kill()
		return fmt.Errorf("cgi: %s: writing to the client: %w", s.Name, werr)
	case rerr != nil:
		p.kill()
		return fmt.Errorf("cgi: %s: reading the output: %w", s.Name, rerr)
	}
	err = p.wait()
	switch {
	case err != nil && p.timedOut():
		return fmt.Errorf("cgi: %s: killed at the time limit %v", s.Name, h.c.timeLimit)
	case ctx.Err() != nil:
		return fmt.Errorf("cgi: %s: client went away: %w", s.Name, ctx.Err())
	case err != nil && h.c.log.Enabled(ctx, slog.LevelDebug):
		h.c.log.Debug("cgi exit", "script", s.Name, "err", err)
	}
	return nil
}

// writeHead copies the script's head to w.
func writeHead(w stage.ResponseWriter, head *cgihead.Head, mimetype string) {
	hd := w.Header()
	for _, f := range head.Fields {
		hd.Add(f.Name, f.Value)
	}
	if head.ContentType == "" && mimetype != "" {
		hd.Set("Content-Type", mimetype)
	}
	w.WriteHeader(head.Code())
}

// localRedirect turns "Location: /path?query" into a
// *stage.InternalRedirect.
func localRedirect(loc string) error {
	p, q, _ := strings.Cut(loc, "?")
	clean, status := static.CleanPath([]byte(p))
	if status != 0 {
		return stage.Error(500, fmt.Errorf("cgi: bad local redirect %q", loc))
	}
	return &stage.InternalRedirect{Path: clean, Query: q}
}

// requestBody returns what the script reads on stdin and CONTENT_LENGTH
// (-1: no body). A body of unknown length (chunked) is spooled to a
// temporary file first, since CGI needs its length. done releases the
// spool.
func requestBody(r *stage.Request) (body io.Reader, length int64, done func(), err error) {
	done = func() {}
	if r.Body == nil {
		return nil, -1, done, nil
	}
	hs := headers(r)
	if n, ok := cgihead.ContentLength(hs); ok {
		return io.LimitReader(r.Body, n), n, done, nil
	}
	if r.Header("Transfer-Encoding") == nil {
		return nil, -1, done, nil
	}
	f, n, err := cgihead.Spool(r.Body, 0)
	if err != nil {
		var se *cgihead.StatusError
		if errors.As(err, &se) {
			return nil, 0, done, stage.Error(se.Status, err)
		}
		return nil, 0, done, fmt.Errorf("cgi: spooling the request body: %w", err)
	}
	return f, n, func() { f.Close() }, nil
}

func headers(r *stage.Request) []cgihead.Header {
	hs := make([]cgihead.Header, len(r.Headers))
	for i, h := range r.Headers {
		hs[i] = cgihead.Header{Name: h.Name, Value: h.Value}
	}
	return hs
}

// meta fills the meta-variables of r for script s.
func meta(r *stage.Request, s cgihead.Script, length int64) *cgihead.Meta {
	m := &cgihead.Meta{
		Method:         string(r.MethodName),
		RequestURI:     string(r.Target),
		Query:          r.Query,
		ScriptName:     s.Name,
		ScriptFilename: s.Filename,
		PathInfo:       s.PathInfo,
		DocumentRoot:   r.VHost.DocumentRoot,
		ServerName:     serverName(r),
		ServerAddr:     r.Conn.Local.Addr().Unmap().String(),
		ServerPort:     strconv.Itoa(int(r.Conn.Local.Port())),
		ServerProtocol: protocol(r),
		ServerSoftware: "gibbon",
		RemoteAddr:     r.Conn.Remote.Addr().Unmap().String(),
		RemotePort:     strconv.Itoa(int(r.Conn.Remote.Port())),
		RemoteUser:     r.User,
		HTTPS:          r.Conn.TLS,
		ContentLength:  length,
		Headers:        headers(r),
	}
	if m.RequestURI == "" {
		m.RequestURI = stage.EscapePath(r.Path)
		if r.Query != "" {
			m.RequestURI += "?" + r.Query
		}
	}
	return m
}

// serverName is the Host header without its port, else the vhost's name.
func serverName(r *stage.Request) string {
	host := string(r.Host)
	if host == "" {
		return r.VHost.Name
	}
	if h, _, err := net.SplitHostPort(host); err == nil {
		return h
	}
	return strings.Trim(host, "[]")
}

// protocol is SERVER_PROTOCOL: the HTTP/1.x version, else HTTP/2.0.
func protocol(r *stage.Request) string {
	if s := r.Proto.String(); strings.HasPrefix(s, "HTTP/") {
		return s
	}
	return "HTTP/2.0"
}

var (
	_ stage.Provisioner  = (*CGI)(nil)
	_ stage.HandlerMaker = (*CGI)(nil)
	_ stage.Handler      = (*handler)(nil)
)
