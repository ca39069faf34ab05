package proxy

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	"gibbon/http1"
	"gibbon/stage"
)

// connPool is the keep-alive pool of one proto=http server: at most max
// idle connections, each closed after idleTimeout unused (0: kept). The
// handler goroutine itself writes requests and reads responses on a
// connection it took from the pool (no per-connection goroutines), and
// gives the connection back only when the exchange ended cleanly.
type connPool struct {
	addr        string
	dialer      net.Dialer
	max         int
	idleTimeout time.Duration

	mu     sync.Mutex
	idle   []*upConn // most recently used last
	reaper *time.Timer
	closed bool // after Cleanup: connections given back are closed
}

// upBufSize is the read buffer of a connection: the largest response head
// accepted, and the piece size of relayed bodies.
const upBufSize = 32 << 10

func newConnPool(pl *pool, s *server) *connPool {
	return &connPool{
		addr:        s.addr,
		dialer:      net.Dialer{Timeout: pl.connectTimeout, KeepAlive: 30 * time.Second},
		max:         pl.maxIdle,
		idleTimeout: pl.idleTimeout,
	}
}

// get returns an idle connection (reused true) or, when there is none or
// fresh is set, a new one. With check set, idle connections the server
// already closed are skipped (a request with a body cannot be sent again
// once the body was read). now is the current time, against which idle
// connections expire. A failure to connect is a *dialError.
func (cp *connPool) get(ctx context.Context, fresh, check bool, now time.Time) (c *upConn, reused bool, err error) {
	for !fresh {
		c = nil
		cp.mu.Lock()
		if n := len(cp.idle); n > 0 {
			c = cp.idle[n-1]
			cp.idle[n-1] = nil
			cp.idle = cp.idle[:n-1]
		}
		cp.mu.Unlock()
		if c == nil {
			break
		}
		if cp.idleTimeout > 0 && now.Sub(c.idleAt) >= cp.idleTimeout || check && !c.alive() {
			c.Close() // past its time (the reaper had not come yet), or closed by the server
			continue
		}
		return c, true, nil
	}
	nc, err := cp.dialer.DialContext(ctx, "tcp", cp.addr)
	if err != nil {
		return nil, false, &dialError{err}
	}
	return newUpConn(nc), false, nil
}

// put gives c back after a clean exchange, or closes it when the pool is
// full or closed.
func (cp *connPool) put(c *upConn) {
	c.r, c.w = 0, 0
	cp.mu.Lock()
	if cp.closed || len(cp.idle) >= cp.max {
		cp.mu.Unlock()
		c.Close()
		return
	}
	c.idleAt = time.Now()
	cp.idle = append(cp.idle, c)
	if cp.idleTimeout > 0 && cp.reaper == nil {
		cp.reaper = time.AfterFunc(cp.idleTimeout, cp.reap)
	}
	cp.mu.Unlock()
}

// reap closes the connections idle for idleTimeout and runs again when the
// oldest remaining one is due.
func (cp *connPool) reap() {
	now := time.Now()
	cp.mu.Lock()
	cp.reaper = nil
	n := 0
	for n < len(cp.idle) && now.Sub(cp.idle[n].idleAt) >= cp.idleTimeout {
		n++
	}
	old := make([]*upConn, n)
	copy(old, cp.idle[:n])
	cp.idle = append(cp.idle[:0], cp.idle[n:]...)
	clear(cp.idle[len(cp.idle) : len(cp.idle)+n])
	if len(cp.idle) > 0 && !cp.closed {
		cp.reaper = time.AfterFunc(cp.idle[0].idleAt.Add(cp.idleTimeout).Sub(now), cp.reap)
	}
	cp.mu.Unlock()
	for _, c := range old {
		c.Close()
	}
}

// closeIdle closes the idle connections; connections in use are closed
// when they are given back.
func (cp *connPool) closeIdle() {
	cp.mu.Lock()
	old := cp.idle
	cp.idle = nil
	cp.closed = true
	if cp.reaper != nil {
		cp.reaper.Stop()
		cp.reaper = nil
	}
	cp.mu.Unlock()
	for _, c := range old {
		c.Close()
	}
}

// headBufs holds request-head buffers.
var headBufs = sync.Pool{New: func() any { b := make([]byte, 0, 2048); return &b }}

// bodyBufs holds the buffers of request-body copiers.
var bodyBufs = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

// errRetry marks a failure on a reused connection before any byte of the
// response came: the server had closed it while idle (the keep-alive race),
// and the request may be sent again on a new connection.
type errRetry struct{ err error }

func (e *errRetry) Error() string { return e.err.Error() }
func (e *errRetry) Unwrap() error { return e.err }

// exchange sends r to the proto=http server s and relays the answer. It
// reports whether the response head came (after which err is the relay's
// and the try is over); before that, err is the failure of the try. now
// is when the try began.
func (h *handler) exchange(w stage.ResponseWriter, r *stage.Request, s *server, body *reqBody, upgrade string, now time.Time) (bool, error) {
	ctx := r.Context()
	hb := headBufs.Get().(*[]byte)
	defer headBufs.Put(hb)
	*hb = appendRequestHead((*hb)[:0], r, s.addr, upgrade, body.length(), h.pool.maxIdle == 0)
	for fresh := false; ; fresh = true {
		c, reused, err := s.h1.get(ctx, fresh, body.length() != 0, now)
		if err != nil {
			return false, err
		}
		got, err := h.send(c, w, r, s, body, *hb, now)
		if re, ok := err.(*errRetry); ok { // send returns it unwrapped
			if reused && !fresh && body.length() == 0 && ctx.Err() == nil {
				continue
			}
			err = re.err
		}
		return got, err
	}
}

// copier streams the request body to the server beside the handler,
// which reads the response meanwhile (a server may answer early).
type copier struct {
	mu       sync.Mutex
	done     chan struct{}
	err      error
	finished bool
	headSeen bool
}

// send runs one exchange, begun at now, on c. It owns c: c goes back to
// the pool or is closed.
func (h *handler) send(c *upConn, w stage.ResponseWriter, r *stage.Request, s *server, body *reqBody, head []byte, now time.Time) (got bool, err error) {
	pl := h.pool
	ctx := r.Context()
	reusable := true
	var cp *copier
	c.begin(ctx, now)
	defer func() {
		if !c.end() || !reusable || cp != nil && !cp.finishedOK() {
			c.Close()
			if cp != nil {
				<-cp.done
			}
			return
		}
		s.h1.put(c)
	}()
	n := body.length()
	if n != 0 {
		_, err = c.Write(head)
	} else {
		err = c.sendWithRead(head)
	}
	if err != nil {
		reusable = false
		return false, &errRetry{err}
	}
	rt := pl.responseTimeout
	var hard time.Time // the response head's deadline, without a copier
	if n != 0 {
		c.watch() // the copier may wait on the client or the server
		c.clearReadDeadline()
		body.start(s)
		cp = &copier{done: make(chan struct{})}
		go cp.run(c, body, n, rt)
	} else if rt > 0 {
		hard = now.Add(rt)
	}

	resp := &c.resp
	c.r, c.w = 0, 0
	var hn int
	for {
		if c.w > c.r {
			hn, err = http1.ParseResponse(c.buf[c.r:c.w], resp, &http1.Limits{MaxHeaderBytes: len(c.buf)})
			if err != nil {
				reusable = false
				return false, err
			}
			if hn > 0 {
				if resp.Status >= 100 && resp.Status < 200 && resp.Status != http.StatusSwitchingProtocols {
					c.r += hn // an interim answer (100 Continue, 103): skipped
					continue
				}
				break
			}
			if c.r > 0 {
				c.w = copy(c.buf, c.buf[c.r:c.w])
				c.r = 0
			}
		}
		if c.r == c.w {
			c.r, c.w = 0, 0
		}
		var m int
		var rerr error
		if cp != nil {
			m, rerr = c.Conn.Read(c.buf[c.w:])
		} else {
			m, rerr = c.read(c.buf[c.w:], hard)
		}
		c.w += m
		if rerr != nil && m == 0 {
			reusable = false
			return false, h.readFailure(ctx, cp, rerr, c.w == 0)
		}
	}
	if cp != nil {
		cp.sawHead(c)
	}
	c.r += hn

	if resp.Status == http.StatusSwitchingProtocols {
		reusable = false
		c.clearReadDeadline() // the tunnel watches the context itself
		hr := &http.Response{StatusCode: resp.Status, Header: make(http.Header, len(resp.Headers))}
		for _, f := range resp.Headers {
			hr.Header.Add(string(f.Name), string(f.Value))
		}
		hr.Body = &tunnelConn{c: c}
		err := h.tunnel(w, r, s, hr)
		return true, err
	}
	pl.succeeded(s)
	headerTo(w.Header(), c.buf[c.r-hn:c.r], resp)
	w.WriteHeader(resp.Status)
	bodyless := r.Method == http1.MethodHead || resp.Status == http.StatusNoContent || resp.Status == http.StatusNotModified
	ok, err := h.relayBody(w, s, c, resp, bodyless)
	if !ok || !resp.KeepAlive || pl.maxIdle == 0 {
		reusable = false
	}
	return true, err
}

// readFailure classifies a failed read of the response head.
func (h *handler) readFailure(ctx context.Context, cp *copier, err error, nothing bool) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if cp != nil {
		if cerr := cp.failure(); cerr != nil {
			return cerr
		}
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return ErrResponseTimeout
	}
	if nothing {
		return &errRetry{err}
	}
	return err
}

// relayBody streams the response body from c to w. ok reports that the
// body ended where its framing says, with no byte after it.
func (h *handler) relayBody(w stage.ResponseWriter, s *server, c *upConn, resp *http1.Response, bodyless bool) (ok bool, err error) {
	f, _ := w.(stage.Flusher)
	if bodyless {
		return c.r == c.w, nil
	}
	cl := resp.ContentLength
	if resp.Chunked {
		cl = -1
	}
	if f != nil && cl < 0 {
		if err := f.Flush(); err != nil { // a stream: send the head now
			return false, err
		}
	}
	var sent int64
	out := func(p []byte) error {
		if _, err := w.Write(p); err != nil {
			return err
		}
		sent += int64(len(p))
		s.bytesOut.Add(int64(len(p)))
		if f != nil && sent != cl {
			return f.Flush()
		}
		return nil
	}
	fill := func(max int) error {
		c.r, c.w = 0, 0
		m, err := c.read(c.buf[:max], time.Time{})
		c.w = m
		if m > 0 {
			return nil
		}
		return err
	}
	switch {
	case resp.Chunked:
		c.dec.Reset()
		for {
			if c.r < c.w {
				p := c.buf[c.r:c.w]
				nsrc, ndst, derr := c.dec.Decode(p, p) // in place: output never overtakes input
				if ndst > 0 {
					if err := out(p[:ndst]); err != nil {
						return false, err
					}
				}
				c.r += nsrc
				if derr != nil {
					s.errors.Add(1)
					return false, derr
				}
				if c.dec.Done() {
					return c.r == c.w, nil
				}
				if c.r < c.w {
					continue
				}
			}
			if err := fill(len(c.buf)); err != nil {
				s.errors.Add(1)
				return false, unexpected(err)
			}
		}
	case cl >= 0:
		left := cl
		for {
			if c.r < c.w {
				p := c.buf[c.r:min(c.w, c.r+int(min(left, int64(c.w-c.r))))]
				c.r += len(p)
				left -= int64(len(p))
				if err := out(p); err != nil {
					return false, err
				}
			}
			if left == 0 {
				return c.r == c.w, nil
			}
			if err := fill(int(min(left, int64(len(c.buf))))); err != nil {
				s.errors.Add(1)
				return false, unexpected(err)
			}
		}
	default: // delimited by the end of the connection
		for {
			if c.r < c.w {
				p := c.buf[c.r:c.w]
				c.r = c.w
				if err := out(p); err != nil {
					return false, err
				}
			}
			if err := fill(len(c.buf)); err != nil {
				if err == io.EOF {
					return false, nil
				}
				s.errors.Add(1)
				return false, err
			}
		}
	}
}

func unexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// run copies the request body (n bytes, or chunked when n < 0) to c, then
// arms the response timeout unless the head already came.
func (cp *copier) run(c *upConn, body *reqBody, n int64, rt time.Duration) {
	err := copyBody(c, body, n)
	cp.mu.Lock()
	cp.finished, cp.err = true, err
	switch {
	case err != nil && !cp.headSeen:
		c.setReadDeadline(aLongTimeAgo) // wake the reader: the try failed
	case err == nil && !cp.headSeen && rt > 0:
		c.setReadDeadline(time.Now().Add(rt))
	}
	cp.mu.Unlock()
	close(cp.done)
}

// sawHead records that the response head came and clears the response
// timeout.
func (cp *copier) sawHead(c *upConn) {
	cp.mu.Lock()
	cp.headSeen = true
	if cp.finished {
		c.setReadDeadline(time.Time{})
	}
	cp.mu.Unlock()
}

func (cp *copier) failure() error {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	return cp.err
}

func (cp *copier) finishedOK() bool {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	return cp.finished && cp.err == nil
}

var errShortBody = errors.New("proxy: request body shorter than its Content-Length")

// copyBody writes the request body to c: n bytes as they are, or, when n
// < 0, re-encoded as chunks.
func copyBody(c net.Conn, body *reqBody, n int64) error {
	bp := bodyBufs.Get().(*[]byte)
	defer bodyBufs.Put(bp)
	buf := *bp
	if n > 0 {
		var sent int64
		for sent < n {
			m, err := body.Read(buf[:min(int64(len(buf)), n-sent)])
			if m > 0 {
				if _, werr := c.Write(buf[:m]); werr != nil {
					return werr
				}
				sent += int64(m)
			}
			if err == io.EOF {
				if sent < n {
					return errShortBody
				}
				break
			}
			if err != nil {
				return err
			}
		}
		return nil
	}
	const pre = 10 // room for the chunk-size line of up to 8 hex digits
	for {
		m, err := body.Read(buf[pre : len(buf)-2])
		if m > 0 {
			var line [pre]byte
			l := http1.AppendChunkHeader(line[:0], m)
			start := pre - len(l)
			copy(buf[start:], l)
			buf[pre+m], buf[pre+m+1] = '\r', '\n'
			if _, werr := c.Write(buf[start : pre+m+2]); werr != nil {
				return werr
			}
		}
		if err == io.EOF {
			_, werr := io.WriteString(c, http1.LastChunk)
			return werr
		}
		if err != nil {
			return err
		}
	}
}

// tunnelConn is the server side of a tunnel: the bytes read behind the
// 101 head first, then the connection.
type tunnelConn struct {
	c *upConn
}

func (t *tunnelConn) Read(p []byte) (int, error) {
	if t.c.r < t.c.w {
		n := copy(p, t.c.buf[t.c.r:t.c.w])
		t.c.r += n
		return n, nil
	}
	return t.c.Read(p)
}

func (t *tunnelConn) Write(p []byte) (int, error) { return t.c.Write(p) }
func (t *tunnelConn) Close() error                { return t.c.Close() }

var aLongTimeAgo = time.Unix(1, 0)
