package fastcgi

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"gibbon/internal/cgihead"
	"gibbon/plugins/internal/cgistage"
	"gibbon/stage"
)

// FastCGI is the plugin: the backends of fastcgi.conf. Read-only after
// Provision (the backends guard their own pools, the scripts' locator its
// cache); safe for concurrent use.
type FastCGI struct {
	backends []*backend
	scripts  cgihead.Locator // finds the scripts, remembering for a second
	log      *slog.Logger
}

// handler serves one [HANDLERS] rule.
type handler struct {
	f        *FastCGI
	backends []*backend
	exts     []string      // script name endings, of all its backends
	next     atomic.Uint32 // round-robin cursor
}

// Blocking is true: a handler waits on a backend.
func (h *handler) Blocking() bool { return true }

// ServeGibbon sends the request to a backend and streams its answer. It
// answers 404/403/301 when there is no script, 503 when no connection
// slot frees in time, 502 when no backend accepts a connection or one
// breaks the protocol or closes before its head, 504 when connecting or
// waiting for the backend times out. A local redirect returns a
// *stage.InternalRedirect.
func (h *handler) ServeGibbon(w stage.ResponseWriter, r *stage.Request) error {
	vh := r.VHost
	if vh == nil {
		return stage.Error(500, errors.New("fastcgi: request without a virtual host"))
	}
	var index []string
	if strings.HasSuffix(r.Path, "/") {
		index = h.indexFiles(vh)
	}
	s, err := h.f.scripts.Locate(vh.DocumentRoot, r.Path, index, vh.SymLink)
	if err != nil {
		return locateError(w, r, err)
	}
	if !h.runs(s.Name) {
		// "/uploads/photo.jpg/x.php": never hand a file that is not a
		// script to the backend (the cgi.fix_pathinfo hole).
		return stage.Error(403, fmt.Errorf("fastcgi: %s is not a script", s.Name))
	}
	body, length, done, err := cgistage.RequestBody(r, "fastcgi")
	if err != nil {
		return err
	}
	defer done()
	x := &exchange{h: h, w: w, r: r, s: s, ctx: r.Context(), meta: cgistage.Meta(r, s, length)}
	if body != nil {
		x.body = &countingReader{r: body}
	}
	return h.serve(x)
}

// runs reports whether a script named name may go to the backends.
func (h *handler) runs(name string) bool {
	for _, x := range h.exts {
		if strings.HasSuffix(name, x) {
			return true
		}
	}
	return false
}

// indexFiles are the host's index files that name scripts: a directory
// with index.html and index.php runs index.php.
func (h *handler) indexFiles(vh *stage.VHost) []string {
	var out []string
	for _, f := range vh.IndexFiles {
		if h.runs(f) {
			out = append(out, f)
		}
	}
	return out
}

// order returns the backends to try: round-robin from the cursor, those
// that refused a connection lately last.
func (h *handler) order() []*backend {
	n := len(h.backends)
	if n == 1 {
		return h.backends
	}
	start := int(h.next.Add(1)-1) % n
	out := make([]*backend, 0, n)
	var down []*backend
	now := time.Now()
	for i := range n {
		b := h.backends[(start+i)%n]
		if b.down(now) {
			down = append(down, b)
			continue
		}
		out = append(out, b)
	}
	return append(out, down...)
}

// serve tries the backends in order: first every backend with a free
// slot, failing over when one refuses connections; when all are busy it
// waits for a slot of the first.
func (h *handler) serve(x *exchange) error {
	order := h.order()
	var last error
	tried := false
	for _, b := range order {
		if !b.tryAcquire() {
			continue
		}
		tried = true
		err, failover := x.on(b)
		if !failover {
			return err
		}
		last = err
	}
	if tried {
		return last
	}
	b := order[0]
	if !b.acquire(x.ctx) {
		if x.ctx.Err() != nil {
			return stage.Error(499, fmt.Errorf("fastcgi: client went away: %w", x.ctx.Err()))
		}
		x.w.Header().Set("Retry-After", "1")
		return stage.Error(503, fmt.Errorf("fastcgi: %s: all %d connections busy", b.name, b.maxConns))
	}
	err, _ := x.on(b)
	return err
}

// exchange is one request's trip to a backend.
type exchange struct {
	h    *handler
	w    stage.ResponseWriter
	r    *stage.Request
	s    cgihead.Script
	ctx  context.Context
	meta *cgihead.Meta
	body *countingReader // nil without a body
	fed  chan error      // the STDIN feeder's result; nil without a body
	sr   stdoutReader
}

// on runs the request on backend b, whose slot the caller took; it
// releases the slot. failover reports a backend that could not be reached
// (nothing was sent: another backend may be tried).
func (x *exchange) on(b *backend) (err error, failover bool) {
	defer b.release()
	fresh := false
	for {
		c, err := b.get(fresh, x.body != nil)
		if err != nil {
			if x.ctx.Err() != nil {
				return stage.Error(499, fmt.Errorf("fastcgi: client went away: %w", x.ctx.Err())), false
			}
			return gatewayError(fmt.Errorf("fastcgi: %s: %w", b.name, err)), true
		}
		c.requests++
		err, stale := x.run(b, c)
		if stale && !fresh {
			// A kept-alive connection the backend had closed: nothing was
			// consumed, try once on a new connection.
			fresh = true
			continue
		}
		return err, false
	}
}

// run sends the request on c and relays the answer. stale reports a
// reused connection that failed before the backend sent anything and
// before any body byte was read.
func (x *exchange) run(b *backend, c *conn) (err error, stale bool) {
	c.watchFrom(x.ctx, b.readTimeout)
	clean := false
	defer func() {
		b.answered(c)
		if !c.unwatch() {
			clean = false // the context ended: c's deadlines are in the past
		}
		b.put(c, clean)
	}()
	if c.requests == 1 && b.keepAlive {
		b.sentFirst(c) // see backend.starved
	}
	if err := x.send(b, c); err != nil {
		c.cancel()
		x.feedResult()
		return gatewayError(fmt.Errorf("fastcgi: %s: sending the request: %w", b.name, err)), c.reused && x.consumed() == 0
	}
	finish := func() error {
		c.cancel()
		return x.feedResult()
	}
	sr := &x.sr
	*sr = stdoutReader{x: x, b: b, c: c}
	br := c.head
	br.Reset(sr)
	head, err := cgihead.Read(br, 0)
	if err != nil {
		ferr := finish()
		return x.headError(b, sr, err, ferr), c.reused && !sr.got && x.consumed() == 0
	}
	if head.Kind() == cgihead.LocalRedirect {
		rerr := sr.discard(br)
		clean = x.done(sr, rerr)
		return cgistage.LocalRedirect(head.Location, "fastcgi", 502), false
	}
	cgistage.WriteHead(x.w, head, "")
	rerr, werr := x.relay(sr, br)
	switch {
	case werr != nil:
		finish()
		return fmt.Errorf("fastcgi: %s: writing to the client: %w", x.s.Name, werr), false
	case rerr != nil:
		finish()
		if x.ctx.Err() != nil {
			return fmt.Errorf("fastcgi: %s: client went away: %w", x.s.Name, x.ctx.Err()), false
		}
		return fmt.Errorf("fastcgi: %s: %s: reading the response: %w", x.s.Name, b.name, rerr), false
	}
	clean = x.done(sr, nil)
	return nil, false
}

// relay sends the body to the client: what the head's reader holds, then
// each STDOUT record's content as it comes, without a copy. It flushes
// only when the backend has not sent more yet, so a response that arrived
// whole goes out at the end in one write, with a Content-Length.
func (x *exchange) relay(sr *stdoutReader, br *bufio.Reader) (readErr, writeErr error) {
	flusher, _ := x.w.(stage.Flusher)
	if n := br.Buffered(); n > 0 {
		p, _ := br.Peek(n)
		if _, err := x.w.Write(p); err != nil {
			return nil, err
		}
		br.Discard(n)
	}
	for {
		if flusher != nil && sr.waits() {
			if err := flusher.Flush(); err != nil {
				return nil, err
			}
		}
		p, err := sr.next()
		if err == io.EOF {
			return nil, nil
		}
		if err != nil {
			return err, nil
		}
		if _, err := x.w.Write(p); err != nil {
			return nil, err
		}
	}
}

// done waits for the STDIN feeder after END_REQUEST and tells whether the
// connection may be reused: the request completed and all its STDIN went
// out (a backend that answered without reading the whole body leaves the
// connection in an unknown state).
func (x *exchange) done(sr *stdoutReader, rerr error) bool {
	clean := rerr == nil && sr.ended && sr.end.ProtocolStatus == statusRequestComplete
	fed := x.fed
	if fed == nil {
		return clean
	}
	select {
	case err := <-fed:
		return clean && err == nil
	default:
	}
	// The feeder may be just finishing its last flush; a backend that
	// stopped reading keeps it blocked, and then the connection goes.
	t := time.NewTimer(feedGrace)
	defer t.Stop()
	select {
	case err := <-fed:
		return clean && err == nil
	case <-t.C:
	}
	sr.c.cancel()
	<-fed
	return false
}

// feedGrace is how long the end of a request waits for the STDIN feeder
// before giving up on the connection.
const feedGrace = time.Second

// headError maps a failure before the response head to a status.
func (x *exchange) headError(b *backend, sr *stdoutReader, err, feedErr error) error {
	var pe *ProtocolError
	switch {
	case x.ctx.Err() != nil:
		return stage.Error(499, fmt.Errorf("fastcgi: client went away: %w", x.ctx.Err()))
	case feedErr != nil && !isNetError(feedErr):
		return stage.Error(400, fmt.Errorf("fastcgi: reading the request body: %w", feedErr))
	case sr.ended && sr.end.ProtocolStatus == statusOverloaded:
		x.w.Header().Set("Retry-After", "1")
		return stage.Error(503, fmt.Errorf("fastcgi: %s: backend overloaded", b.name))
	case sr.ended && sr.end.ProtocolStatus != statusRequestComplete:
		return stage.Error(502, fmt.Errorf("fastcgi: %s: request refused (protocol status %d)", b.name, sr.end.ProtocolStatus))
	case errors.As(err, &pe), errors.Is(err, cgihead.ErrMalformed):
		return stage.Error(502, fmt.Errorf("fastcgi: %s: %s: %w", b.name, x.s.Name, err))
	}
	return gatewayError(fmt.Errorf("fastcgi: %s: %s: %w", b.name, x.s.Name, err))
}

// send writes BEGIN_REQUEST and PARAMS, then STDIN: at once when there is
// no body, else from a goroutine that streams the body while the answer is
// read and then yields its result on x.fed. Before the first request of a
// new kept-alive connection goes GET_VALUES (see backend.starved).
func (x *exchange) send(b *backend, c *conn) error {
	x.fed = nil
	if err := c.setWriteDeadline(time.Now().Add(b.readTimeout)); err != nil {
		return err
	}
	rw := c.rw
	if !c.sentAt.IsZero() {
		rw.write(typeGetValues, 0, getValues)
	}
	c.vars = x.meta.Append(c.vars[:0])
	rw.writeBegin(requestID, b.keepAlive)
	c.params, _ = rw.writeParams(requestID, c.vars, c.params)
	if x.body == nil {
		rw.write(typeStdin, requestID, nil)
		return rw.flush()
	}
	if err := rw.flush(); err != nil {
		return err
	}
	x.fed = make(chan error, 1)
	go func() { x.fed <- x.feed(b, c) }()
	return nil
}

// feedResult waits for the STDIN feeder, if one runs, and returns its
// result.
func (x *exchange) feedResult() error {
	if x.fed == nil {
		return nil
	}
	return <-x.fed
}

// feed streams the body as STDIN records. A failure to read the body
// cancels the connection, so that the reader stops too.
func (x *exchange) feed(b *backend, c *conn) error {
	buf := make([]byte, 32<<10)
	for {
		n, err := x.body.Read(buf)
		if n > 0 {
			if werr := c.setWriteDeadline(time.Now().Add(b.readTimeout)); werr != nil {
				return &net.OpError{Op: "write", Err: werr}
			}
			c.rw.write(typeStdin, requestID, buf[:n])
			if werr := c.rw.flush(); werr != nil {
				return werr
			}
		}
		if err == io.EOF {
			c.rw.write(typeStdin, requestID, nil)
			return c.rw.flush()
		}
		if err != nil {
			c.cancel()
			return err
		}
	}
}

func (x *exchange) consumed() int64 {
	if x.body == nil {
		return 0
	}
	return x.body.n.Load()
}

// isNetError tells an error of the backend connection from one of the
// request body.
func isNetError(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, net.ErrClosed) || errors.Is(err, context.Canceled)
}

// gatewayError is 504 for a timeout, else 502.
func gatewayError(err error) error {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, context.DeadlineExceeded) {
		return stage.Error(504, err)
	}
	return stage.Error(502, err)
}

// countingReader counts the bytes read from the request body.
type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// stdoutReader reads the STDOUT stream of the request from its records,
// logs STDERR, and returns io.EOF at END_REQUEST.
type stdoutReader struct {
	x *exchange
	b *backend
	c *conn

	pending []byte // view into the record reader's buffer
	got     bool   // a record arrived
	ended   bool
	end     endRequest
}

// Read reads the STDOUT stream; the response head is parsed from it.
func (s *stdoutReader) Read(p []byte) (int, error) {
	b, err := s.next()
	n := copy(p, b)
	s.pending = b[n:]
	return n, err
}

// next returns the STDOUT bytes not read yet, up to the end of a record,
// as a view valid until the next call.
func (s *stdoutReader) next() ([]byte, error) {
	for len(s.pending) == 0 {
		if s.ended {
			return nil, io.EOF
		}
		h, content, err := s.c.rr.next()
		if err == io.EOF {
			err = errUnexpectedEnd
		}
		if err != nil {
			return nil, err
		}
		if !s.got {
			s.got = true
			s.b.answered(s.c)
		}
		if h.ID == 0 {
			// A management record: the answer to GET_VALUES, or
			// UNKNOWN_TYPE from a backend that does not know it.
			if h.Type == typeGetValuesResult && !s.b.answersValues.Load() {
				s.b.answersValues.Store(true)
			}
			continue
		}
		if h.ID != requestID {
			return nil, &ProtocolError{Msg: "record for request " + strconv.Itoa(int(h.ID))}
		}
		switch h.Type {
		case typeStdout:
			s.pending = content // empty: the end of STDOUT
		case typeStderr:
			if len(content) > 0 {
				s.x.h.f.log.Warn("fastcgi stderr", "server", s.b.name, "script", s.x.s.Name, "text", strings.TrimRight(string(content), "\r\n"))
			}
		case typeEndRequest:
			if s.end, err = parseEndRequest(content); err != nil {
				return nil, err
			}
			s.ended = true
		default:
			return nil, &ProtocolError{Msg: "unexpected " + h.Type.String() + " record"}
		}
	}
	p := s.pending
	s.pending = nil
	return p, nil
}

// waits reports whether reading on would wait for the backend: nothing is
// pending and no whole record is buffered.
func (s *stdoutReader) waits() bool {
	return len(s.pending) == 0 && !s.ended && !s.c.rr.buffered()
}

// discard reads the rest of the stream, what br holds included.
func (s *stdoutReader) discard(br *bufio.Reader) error {
	br.Discard(br.Buffered())
	for {
		if _, err := s.next(); err != nil {
			if err == io.EOF {
				return nil
			}
			return err
		}
	}
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

var (
	_ stage.Provisioner  = (*FastCGI)(nil)
	_ stage.Cleaner      = (*FastCGI)(nil)
	_ stage.HandlerMaker = (*FastCGI)(nil)
	_ stage.Handler      = (*handler)(nil)
)
