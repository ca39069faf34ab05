package server

import (
	"bytes"
	"errors"
	"strings"
	"sync"
	"time"

	"gibbon/http1"
	"gibbon/http2"
)

// Sizes of the HTTP/2 driver.
const (
	// h2ReadBufSize is the buffer one read of an HTTP/2 connection fills.
	h2ReadBufSize = 16 << 10
	// h2FileChunk is the most file bytes read (pread) at once into DATA
	// frames; what the flow-control windows do not take is read again
	// when they open.
	h2FileChunk = 64 << 10
)

// h2conn is one HTTP/2 connection served by its own goroutine: the
// goroutine driver of an [http2.ServerConn] (see package http2). A reader
// goroutine hands it the bytes read; it feeds them to the ServerConn,
// runs the plugins' stages 20 to 40 per stream (h2stage.go), answers
// every stream with the same responder as HTTP/1 (routing, virtual hosts,
// static files, ranges, conditional requests, error pages, redirects),
// sends bodies as DATA frames within the flow-control windows and writes
// the ServerConn's output. Blocking handlers run on goroutines of their
// own (h2handler.go) and submit their writes through queue. Every field
// but those under mu is owned by the driver goroutine.
type h2conn struct {
	c       *conn
	sc      *http2.ServerConn
	rs      responder
	streams map[uint32]*h2stream
	free    []*h2stream // recycled streams

	head    []byte              // the HTTP/1 head the responder writes
	fields  []http2.HeaderField // the head as HTTP/2 header fields
	interns [h2NameCount]string // the last value of each known field, reused when equal
	fileBuf []byte              // file bytes on their way into DATA frames
	waiting int                 // streams whose request has not ended yet
	active  time.Time           // the last time bytes arrived
	running int                 // blocking handlers not yet ended
	wake    chan struct{}       // a handler queued work (capacity 1)

	mu    sync.Mutex   // guards queue, qhead and the h2handler fields marked so
	queue []*h2handler // handlers with work for the driver, each once
	qhead int          // queue[:qhead] is done
}

// h2stream is the exchange of one stream: its request in HTTP/1 form,
// its plugin state, the responder's plan and how far its body has been
// sent. Streams are recycled with what they hold.
type h2stream struct {
	id       uint32
	req      http1.Request // the request, for the responder and the plugins
	arena    []byte        // the bytes req views
	rsp      response
	body     []byte      // the stream's copy of rsp.body
	segs     []h2seg     // the body, in order
	seg      int         // the segment being sent
	off      int64       // bytes of segs[seg] sent
	after    h2after     // what follows the last segment
	answered bool        // response headers written
	waiting  bool        // answered once the request has ended (counted in h2conn.waiting)
	closed   bool        // OnClose ran
	gen      *generation // the configuration serving the stream, held until finish
	status   int         // the status sent, for stage 40
	sent     int64       // body bytes taken by WriteData, for stage 40

	// plugins (h2stage.go, h2handler.go)
	x       *exchange // nil unless plugins see requests
	next    h2next    // what answers the request once it has ended
	herr    error     // the handler's error, for stage 40
	code    http2.ErrCode
	dropped bool       // a filter closed the stream
	bh      *h2handler // the blocking handler, nil if none ran
	frame   framing    // the blocking handler's body framing
	remain  int64      // frameLength: body bytes still allowed
	werr    error      // the blocking handler's write error
	hops    int        // internal redirects followed after blocking handlers
}

// h2after is what pump does once the segments are sent.
type h2after uint8

const (
	afterEnd      h2after = iota // END_STREAM with the last byte
	afterReply                   // more follows: let the blocking handler write again
	afterTrailers                // the blocking handler's trailers, with END_STREAM
	afterReset                   // the body is short of its Content-Length: RST_STREAM
)

// h2seg is a piece of a response body: memory (the stream's copy of the
// responder's body, a part prefix, a range of a file's content kept in
// memory by the cache), or a range of the response's file.
type h2seg struct {
	mem    []byte // nil for a file range
	off, n int64  // the file range
}

func (g *h2seg) size() int64 {
	if g.mem != nil {
		return int64(len(g.mem))
	}
	return g.n
}

// serveH2 serves the connection over HTTP/2 until it ends: buffered are
// bytes already read (the client preface onward), up the "Upgrade: h2c"
// request that becomes stream 1, or nil. The caller closes the connection.
func (c *conn) serveH2(buffered []byte, up *http2.UpgradeRequest) {
	c.state.Store(uint32(StateActive)) // Shutdown sends GOAWAY rather than closing
	c.h2.Store(true)
	c.nc.SetReadDeadline(time.Time{}) // timeouts are run's
	h := &h2conn{
		c:       c,
		streams: make(map[uint32]*h2stream),
		active:  time.Now(),
	}
	h.rs.respondConfig = respondConfig{clock: c.srv.clock, draining: c.srv.draining}
	h.rs.cache = c.srv.files
	h.wake = make(chan struct{}, 1)
	h.sc = http2.NewServerConn(h, nil)
	defer h.waitHandlers()
	defer h.sc.Close() // releases the responses of streams still open, cancels the handlers
	if up != nil && h.sc.Upgrade(up) != nil {
		return
	}
	if len(buffered) > 0 {
		h.sc.Feed(buffered)
	}
	h.run()
}

// run is the connection's loop: feed what the reader read, start a
// graceful shutdown when the server stops, check the timeouts, and write
// the output after each step.
func (h *h2conn) run() {
	reads, ack, stop := make(chan []byte), make(chan struct{}), make(chan struct{})
	defer close(stop)
	go h.read(reads, ack, stop)
	set := &h.c.srv.current().set
	tick := time.NewTicker(min(max(min(set.timeout, set.keepAliveTimeout)/5, 100*time.Millisecond), time.Second))
	defer tick.Stop()
	stopping := h.c.srv.stopping
	for h.flush() && !h.sc.Done() {
		select {
		case b, ok := <-reads:
			if !ok {
				h.sc.Close()
				return
			}
			h.active = time.Now()
			h.sc.Feed(b)
			ack <- struct{}{}
		case <-stopping:
			h.sc.Shutdown() // GOAWAY: streams in flight finish
			stopping = nil
		case now := <-tick.C:
			h.checkTimeouts(now)
		case <-h.wake:
			h.drain()
		}
	}
	if h.flush() {
		h.c.linger = true // let the client read the GOAWAY before the close
	}
}

// read hands the bytes read from the connection to run, one buffer at a
// time: it waits for ack before reading again. It closes reads at EOF or
// on an error, and returns once stop is closed.
func (h *h2conn) read(reads chan<- []byte, ack <-chan struct{}, stop <-chan struct{}) {
	buf := make([]byte, h2ReadBufSize)
	for {
		n, err := h.c.nc.Read(buf)
		if n > 0 {
			select {
			case reads <- buf[:n]:
			case <-stop:
				return
			}
			select {
			case <-ack:
			case <-stop:
				return
			}
		}
		if err != nil {
			close(reads)
			return
		}
	}
}

// checkTimeouts ends the connection when it has been idle (no stream)
// for KeepAliveTimeout (Timeout before the first request), with GOAWAY;
// when a response has waited for the client's flow-control window for
// Timeout (see stalled); or when requests have been waiting for more of
// their bodies for Timeout.
func (h *h2conn) checkTimeouts(now time.Time) {
	set := &h.c.srv.current().set
	idle := now.Sub(h.active)
	switch {
	case h.sc.Idle():
		limit := set.keepAliveTimeout
		if h.rs.served == 0 {
			limit = set.timeout
		}
		if idle > limit {
			h.sc.Shutdown()
		}
	case h.stalled(now):
		h.c.debug("HTTP/2 write", errWriteStalled)
		h.sc.Close()
	case h.waiting > 0 && idle > set.timeout:
		h.c.debug("HTTP/2 read", errReadStalled)
		h.sc.Close()
	}
}

// stalled reports whether a response has waited for the client's
// flow-control window for longer than Timeout. A stream whose blocking
// handler set a write deadline is left out: that deadline bounds it
// instead (resetting the stream when it passes), as the handler's
// deadline governs in x/net/http2's server.
func (h *h2conn) stalled(now time.Time) bool {
	limit := h.c.srv.current().set.timeout
	if t := h.sc.BlockedSince(); t.IsZero() || now.Sub(t) <= limit {
		return false
	}
	for id, st := range h.streams {
		s := h.sc.Stream(id)
		if s == nil || s.BlockedSince().IsZero() || now.Sub(s.BlockedSince()) <= limit {
			continue
		}
		if st.bh == nil || !st.bh.hasWriteDeadline() {
			return true
		}
	}
	return false
}

// flush writes the ServerConn's output, each write bounded by Timeout;
// false means the connection failed.
func (h *h2conn) flush() bool {
	for out := h.sc.Output(); len(out) > 0; out = h.sc.Output() {
		h.c.nc.SetWriteDeadline(time.Now().Add(h.c.srv.current().set.timeout))
		n, err := h.c.nc.Write(out)
		h.sc.Advance(n)
		if err != nil {
			h.c.debug("HTTP/2 write", err)
			h.sc.Close()
			return false
		}
	}
	return true
}

// OnRequest runs stages 20 and 30 for the request (when plugins see
// requests): a blocking handler takes the stream at once. Otherwise a
// request without a body is answered at once; one with a body when the
// body has ended (it is discarded, as over HTTP/1), or at once with 413
// when it announces more than MaxRequestSize.
func (h *h2conn) OnRequest(s *http2.Stream) {
	st := h.newStream(s)
	switch {
	case st.tooLarge(s.ContentLength):
		h.respondStatus(st, 413)
	case st.req.Method == http1.MethodUnknown:
		h.respondStatus(st, 501)
	case st.x != nil && !h.runStages(s, st):
		// closed by a filter, or a blocking handler has it
	case s.RequestEnded():
		h.answer(st)
	default:
		st.waiting = true
		h.waiting++
		h.expectContinue(s.ID)
	}
}

// expectContinue sends "100 Continue" on stream id when its request
// waits for it before sending its body.
func (h *h2conn) expectContinue(id uint32) {
	if s := h.sc.Stream(id); s != nil && strings.EqualFold(s.HeaderValue("expect"), "100-continue") {
		h.sc.WriteHeaders(id, 100, nil, false)
	}
}

// OnData hands request body bytes to a blocking handler, or discards
// them, returning their flow-control credit, and answers once the body
// has ended.
func (h *h2conn) OnData(s *http2.Stream, p []byte, end bool) {
	st := h.streams[s.ID]
	if st != nil && st.bh != nil && st.bh.running {
		h.feed(s, st, p, end)
		return
	}
	h.sc.Consume(s.ID, len(p))
	if st == nil || !st.waiting {
		return
	}
	switch {
	case st.tooLarge(s.Received()):
		h.stopWaiting(st)
		h.respondStatus(st, 413)
	case end:
		h.stopWaiting(st)
		h.answer(st)
	}
}

// stopWaiting marks st as no longer waiting for its request to end.
func (h *h2conn) stopWaiting(st *h2stream) {
	if st.waiting {
		st.waiting = false
		h.waiting--
	}
}

// OnWritable sends more of a stream's body.
func (h *h2conn) OnWritable(s *http2.Stream) {
	if st := h.streams[s.ID]; st != nil {
		h.pump(s.ID, st)
	}
}

// OnClose ends the stream: stage 40 runs and its response (its file) is
// released, once its blocking handler, if one runs, has returned.
func (h *h2conn) OnClose(s *http2.Stream, code http2.ErrCode) {
	st := h.streams[s.ID]
	if st == nil {
		return
	}
	delete(h.streams, s.ID)
	h.stopWaiting(st)
	st.closed, st.code = true, code
	if st.bh != nil {
		st.bh.stopDeadline()
	}
	if st.bh != nil && st.bh.running {
		h.abandon(st)
		return
	}
	h.finish(st)
}

// finish runs stage 40 for a closed stream and recycles it.
func (h *h2conn) finish(st *h2stream) {
	h.c.srv.stats.h2.count(st.status, st.sent)
	h.c.answered.Add(1)
	if st.x != nil {
		err := st.herr
		if err == nil && st.code != http2.NoError && !st.dropped {
			err = &http2.StreamError{StreamID: st.id, Code: st.code}
		}
		st.x.done(&st.gen.pp, st.status, st.sent, err)
	}
	st.rsp.release()
	h.c.srv.release(st.gen)
	*st = h2stream{req: st.req, arena: st.arena, body: st.body[:0], segs: st.segs[:0], x: st.x}
	h.free = append(h.free, st)
}

// newStream starts the exchange of stream s: its request in HTTP/1
// form and, when plugins see requests, its stage.Request.
func (h *h2conn) newStream(s *http2.Stream) *h2stream {
	var st *h2stream
	if n := len(h.free); n > 0 {
		st, h.free = h.free[n-1], h.free[:n-1]
	} else {
		st = new(h2stream)
	}
	st.id = s.ID
	st.gen = h.c.srv.acquire()
	h.streams[s.ID] = st
	req := h.request(s, st)
	if pp := &st.gen.pp; pp.requests {
		if st.x == nil {
			st.x = new(exchange)
		}
		if h.c.info.ID == 0 && pp.conns {
			h.c.info = h.c.connInfo() // opened before a reload loaded plugins
		}
		st.x.begin(pp, req, st.gen.set.vhosts.Lookup(req.Host), h.c.info)
		st.x.r.Proto = http1.Version20
	}
	return st
}

// use points the responder at st's configuration.
func (h *h2conn) use(st *h2stream) {
	h.rs.set, h.rs.lister = &st.gen.set, st.gen.pp.lister
}

// tooLarge reports whether a request body of n bytes exceeds
// MaxRequestSize.
func (st *h2stream) tooLarge(n int64) bool {
	m := st.gen.set.maxRequestSize
	return m > 0 && n > m
}

// respondStatus answers st with the built-in page for status.
func (h *h2conn) respondStatus(st *h2stream, status int) {
	h.use(st)
	h.head = h.rs.closeError(h.head[:0], status, &st.rsp)
	if st.req.Method == http1.MethodHead {
		st.rsp.release()
		st.rsp.body, st.rsp.parts = nil, nil
	}
	h.send(st)
}

// send writes the response planned in st.rsp: its head as header fields,
// then its body.
func (h *h2conn) send(st *h2stream) {
	st.answered, st.status, st.after = true, st.rsp.status, afterEnd
	h.planBody(st)
	h.fields = h.appendFields(h.fields[:0], h.head)
	end := len(st.segs) == 0
	id := st.id
	if err := h.sc.WriteHeaders(id, st.rsp.status, h.fields, end); err != nil || end {
		h.resetUnread(id) // st may already be recycled by OnClose
		return
	}
	h.pump(id, st)
}

// planBody lists the non-empty pieces of st.rsp's body. The in-memory body
// is copied: the responder's scratch is reused by the next stream.
func (h *h2conn) planBody(st *h2stream) {
	rsp := &st.rsp
	st.segs = st.segs[:0]
	if len(rsp.body) > 0 {
		st.body = append(st.body[:0], rsp.body...)
		st.segs = append(st.segs, h2seg{mem: st.body})
	}
	for _, p := range rsp.parts {
		if len(p.Prefix) > 0 {
			st.segs = append(st.segs, h2seg{mem: p.Prefix})
		}
		switch {
		case p.Length == 0:
		case rsp.data != nil:
			st.segs = append(st.segs, h2seg{mem: rsp.data[p.Offset : p.Offset+p.Length]})
		default:
			st.segs = append(st.segs, h2seg{off: p.Offset, n: p.Length})
		}
	}
	if len(rsp.trailer) > 0 {
		st.segs = append(st.segs, h2seg{mem: rsp.trailer})
	}
}

// pump sends as much of st's body as the flow-control windows and the
// output take; OnWritable calls it again for the rest. The last byte
// goes with END_STREAM unless st.after says otherwise (h2handler.go).
func (h *h2conn) pump(id uint32, st *h2stream) {
	for st.seg < len(st.segs) {
		g := &st.segs[st.seg]
		last := st.seg == len(st.segs)-1 && st.after == afterEnd
		var p []byte
		if g.mem != nil {
			p = g.mem[st.off:]
		} else {
			p = h.readFile(st, g)
			if p == nil {
				h.sc.Reset(id, http2.InternalError)
				return
			}
		}
		end := last && st.off+int64(len(p)) == g.size()
		st.sent += int64(len(p)) // before: the stream may end, and stage 40 run, inside WriteData
		n, err := h.sc.WriteData(id, p, end)
		if err != nil {
			st.sent -= int64(len(p))
			return
		}
		if end && n == len(p) {
			h.resetUnread(id) // st may already be recycled by OnClose
			return
		}
		st.sent -= int64(len(p) - n)
		st.off += int64(n)
		if n < len(p) {
			return // blocked: OnWritable resumes
		}
		if st.off == g.size() {
			st.seg, st.off = st.seg+1, 0
		}
	}
	if st.after != afterEnd {
		h.segmentsSent(st)
	}
}

// readFile reads the next bytes of file segment g into the connection's
// file buffer; nil means the file ended early (it changed under us).
func (h *h2conn) readFile(st *h2stream, g *h2seg) []byte {
	if h.fileBuf == nil {
		h.fileBuf = make([]byte, h2FileChunk)
	}
	p := h.fileBuf[:min(g.n-st.off, int64(len(h.fileBuf)))]
	if m, _ := st.rsp.file.ReadAt(p, g.off+st.off); m < len(p) {
		h.c.debug("HTTP/2 file", errShortFile)
		return nil
	}
	return p
}

// resetUnread ends the request body of a stream whose response is
// complete while the client is still sending: RST_STREAM NO_ERROR asks it
// to stop (RFC 9113 §8.1).
func (h *h2conn) resetUnread(id uint32) {
	if s := h.sc.Stream(id); s != nil && !s.RequestEnded() {
		h.sc.Reset(id, http2.NoError)
	}
}

// request fills st.req, the HTTP/1 form of s's request, whose views
// point into st.arena: the method, the target, the authority as Host and
// every header field, in order, for the plugins; a host field from
// :authority when the client sent none, and "transfer-encoding: chunked"
// for a body without a content-length, so that plugins reading the
// headers as over HTTP/1 (CGI, FastCGI, proxy) know a body follows
// (Request.Body is decoded either way).
func (h *h2conn) request(s *http2.Stream, st *h2stream) *http1.Request {
	r := &st.req
	r.Reset()
	chunked := !s.RequestEnded() && s.ContentLength < 0
	n := len(s.Method) + len(s.Path) + len(s.Authority) + len("hosttransfer-encodingchunked")
	for _, f := range s.Header {
		n += len(f.Name) + len(f.Value)
	}
	if cap(st.arena) < n {
		st.arena = make([]byte, 0, n)
	}
	a := st.arena[:0]
	view := func(v string) []byte {
		start := len(a)
		a = append(a, v...)
		return a[start:len(a):len(a)]
	}
	r.MethodName = view(s.Method)
	r.Method = lookupMethod(s.Method)
	r.Version = http1.Version11
	r.KeepAlive = true
	r.ContentLength, r.Chunked = s.ContentLength, chunked
	r.Target = view(s.Path)
	path, _, hasQuery := strings.Cut(s.Path, "?")
	r.Path = r.Target[:len(path):len(path)]
	if hasQuery {
		r.Query = r.Target[len(path)+1:]
	}
	r.Host = view(s.Authority)
	host := false
	for _, f := range s.Header {
		hd := http1.Header{Name: view(f.Name), Value: view(f.Value)}
		r.Headers = append(r.Headers, hd)
		if dst := conditionalDst(r, f.Name); dst != nil && *dst == nil {
			*dst = hd.Value
		}
		host = host || f.Name == "host"
	}
	if !host && s.Authority != "" {
		r.Headers = append(r.Headers, http1.Header{Name: view("host"), Value: r.Host})
	}
	if chunked {
		r.Headers = append(r.Headers, http1.Header{Name: view("transfer-encoding"), Value: view("chunked")})
	}
	return r
}

// conditionalDst returns the field of r that holds the conditional or
// range header name (lower-case), or nil for another name.
func conditionalDst(r *http1.Request, name string) *[]byte {
	switch name {
	case "if-none-match":
		return &r.IfNoneMatch
	case "if-modified-since":
		return &r.IfModifiedSince
	case "if-range":
		return &r.IfRange
	case "range":
		return &r.Range
	case "if-match":
		return &r.IfMatch
	case "if-unmodified-since":
		return &r.IfUnmodifiedSince
	}
	return nil
}

// lookupMethod maps an HTTP/2 :method to http1's Method.
func lookupMethod(name string) http1.Method {
	for m := http1.MethodGet; m <= http1.MethodPatch; m++ {
		if m.String() == name {
			return m
		}
	}
	return http1.MethodUnknown
}

// errWriteStalled and errReadStalled are logged when a timeout ends an
// HTTP/2 connection.
var (
	errWriteStalled = errors.New("server: HTTP/2 response stalled by the client's flow-control window")
	errReadStalled  = errors.New("server: HTTP/2 request body stalled")
)

// appendFields appends the header fields of an HTTP/1 head written by the
// responder (status line, "Name: value" lines, empty line) to dst, in
// HTTP/2 form: lower-case names, no Connection field. The responder
// decides; only the encoding differs.
func (h *h2conn) appendFields(dst []http2.HeaderField, head []byte) []http2.HeaderField {
	_, head, _ = bytes.Cut(head, crlf)
	for {
		line, rest, ok := bytes.Cut(head, crlf)
		if !ok || len(line) == 0 {
			return dst
		}
		head = rest
		name, value, _ := bytes.Cut(line, []byte(":"))
		value = bytes.TrimLeft(value, " \t")
		i := h2NameIndex(name)
		if i == h2NameConnection {
			continue
		}
		var f http2.HeaderField
		if i < 0 {
			f = http2.HeaderField{Name: strings.ToLower(string(name)), Value: string(value)}
		} else {
			if h.interns[i] != string(value) {
				h.interns[i] = string(value)
			}
			f = http2.HeaderField{Name: h2Names[i], Value: h.interns[i]}
		}
		dst = append(dst, f)
	}
}

var crlf = []byte("\r\n")

// The header field names the responder writes, in HTTP/2 form.
var h2Names = [...]string{
	"connection", "date", "server", "content-type", "content-length", "last-modified",
	"etag", "accept-ranges", "content-range", "allow", "location",
}

const (
	h2NameConnection = 0
	h2NameCount      = len(h2Names)
)

// h2NameIndex returns the index of name (any case) in h2Names, or -1.
func h2NameIndex(name []byte) int {
	for i, n := range h2Names {
		if asciiEqualFold(name, n) {
			return i
		}
	}
	return -1
}

// asciiEqualFold reports whether b equals the lower-case s, ignoring the
// case of b's ASCII letters.
func asciiEqualFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range b {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != s[i] {
			return false
		}
	}
	return true
}
