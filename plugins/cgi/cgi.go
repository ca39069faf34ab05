package cgi

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"gibbon/internal/cgihead"
	"gibbon/plugins/internal/cgistage"
	"gibbon/stage"
)

// CGI is the plugin: the [CGI] settings and the process slots shared by its
// handlers. Read-only after Provision except for the slots channel and the
// scripts' locator, which caches what it found of the document root for a
// second; safe for concurrent use.
type CGI struct {
	timeLimit    time.Duration
	queueTimeout time.Duration
	maxProcs     int

	log     *slog.Logger
	slots   chan struct{}   // one token per running script
	scripts cgihead.Locator // finds the scripts, remembering for a second
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
	s, err := h.c.scripts.Locate(vh.DocumentRoot, r.Path, vh.IndexFiles, vh.SymLink)
	if err != nil {
		return locateError(w, r, err)
	}
	if h.interpreter == "" {
		if st, err := os.Stat(s.Filename); err != nil || st.Mode()&0o111 == 0 {
			return stage.Error(403, fmt.Errorf("cgi: %s is not executable", s.Name))
		}
	}
	body, length, done, err := cgistage.RequestBody(r, "cgi")
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
	env := cgihead.Environ(cgistage.Meta(r, s, length).Append(nil))
	return h.run(ctx, w, r, s, env, body)
}

// locateError answers what cgihead.Locator.Locate found instead of a script.
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
		return cgistage.LocalRedirect(head.Location, "cgi", 500)
	}
	cgistage.WriteHead(w, head, h.mimetype)
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

var (
	_ stage.Provisioner  = (*CGI)(nil)
	_ stage.HandlerMaker = (*CGI)(nil)
	_ stage.Handler      = (*handler)(nil)
)
