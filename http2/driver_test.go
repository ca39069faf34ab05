package http2_test

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"gibbon/http2"
	"gibbon/internal/loopback"
	"gibbon/tlsx"
)

// testDriver is a minimal goroutine driver of an http2.ServerConn over a
// net.Conn, the shape the server's driver takes: one goroutine owns the
// ServerConn; a reader goroutine hands it the bytes read; other goroutines
// would submit work through the work channel. Every request is answered
// with 200 and its path as the body (HEAD: headers only).
type testDriver struct {
	conn    net.Conn
	sc      *http2.ServerConn
	pending map[uint32][]byte // response body not yet taken by WriteData
	work    chan func()
	// writeTimeout bounds a response blocked on flow control.
	writeTimeout time.Duration
}

func serveConn(conn net.Conn, cfg *http2.Config) {
	d := &testDriver{conn: conn, pending: map[uint32][]byte{}, work: make(chan func()), writeTimeout: 5 * time.Second}
	defer conn.Close()
	br := bufio.NewReader(conn)
	if !d.start(br, cfg) {
		return
	}
	reads, ack, done := make(chan []byte), make(chan struct{}), make(chan struct{})
	defer close(done)
	go func() {
		buf := make([]byte, 32<<10)
		for {
			n, err := br.Read(buf)
			if n > 0 {
				select {
				case reads <- buf[:n]:
					<-ack
				case <-done:
					return
				}
			}
			if err != nil {
				close(reads)
				return
			}
		}
	}()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for d.flush() && !d.sc.Done() {
		select {
		case b, ok := <-reads:
			if !ok {
				d.sc.Close()
				return
			}
			d.sc.Feed(b)
			ack <- struct{}{}
		case f := <-d.work:
			f()
		case now := <-tick.C:
			if t := d.sc.BlockedSince(); !t.IsZero() && now.Sub(t) > d.writeTimeout {
				d.sc.Close()
				return
			}
		}
	}
	d.flush()
}

// start makes the ServerConn: prior knowledge when the connection begins
// with the client preface, else an HTTP/1.1 "Upgrade: h2c" request.
func (d *testDriver) start(br *bufio.Reader, cfg *http2.Config) bool {
	for {
		b, err := br.Peek(len(http2.ClientPreface))
		switch http2.MatchPreface(b) {
		case http2.PrefaceYes:
			d.sc = http2.NewServerConn(d, cfg)
			return true
		case http2.PrefaceNo:
			return d.upgrade(br, cfg)
		}
		if err != nil {
			return false
		}
	}
}

// upgrade serves an HTTP/1.1 request asking for h2c as stream 1.
func (d *testDriver) upgrade(br *bufio.Reader, cfg *http2.Config) bool {
	req, err := http.ReadRequest(br)
	if err != nil {
		return false
	}
	settings, err := http2.DecodeHTTP2Settings(nil, []byte(req.Header.Get("HTTP2-Settings")))
	if err != nil || !strings.EqualFold(req.Header.Get("Upgrade"), "h2c") {
		io.WriteString(d.conn, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
		return false
	}
	body, err := io.ReadAll(req.Body)
	if err != nil {
		return false
	}
	u := &http2.UpgradeRequest{Method: req.Method, Scheme: "http", Authority: req.Host,
		Path: req.URL.RequestURI(), Settings: settings, Body: body}
	for name, vs := range req.Header {
		for _, v := range vs {
			u.Header = append(u.Header, http2.HeaderField{Name: name, Value: v})
		}
	}
	if _, err := io.WriteString(d.conn, http2.UpgradeResponse); err != nil {
		return false
	}
	d.sc = http2.NewServerConn(d, cfg)
	return d.sc.Upgrade(u) == nil
}

// flush writes the ServerConn's output; false means the write failed.
func (d *testDriver) flush() bool {
	for out := d.sc.Output(); len(out) > 0; out = d.sc.Output() {
		d.conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
		n, err := d.conn.Write(out)
		d.sc.Advance(n)
		if err != nil {
			d.sc.Close()
			return false
		}
	}
	return true
}

func (d *testDriver) OnRequest(s *http2.Stream) {
	if s.RequestEnded() {
		d.respond(s)
	}
}

func (d *testDriver) OnData(s *http2.Stream, p []byte, end bool) {
	d.sc.Consume(s.ID, len(p))
	if end {
		d.respond(s)
	}
}

// respond answers 200 with the path as the body; "/big/N" gets N octets,
// and x-received tells how many request body octets arrived.
func (d *testDriver) respond(s *http2.Stream) {
	body := []byte(s.Path)
	if n, ok := strings.CutPrefix(s.Path, "/big/"); ok {
		k, _ := strconv.Atoi(n)
		body = bytes.Repeat([]byte("x"), k)
	}
	hdr := []http2.HeaderField{
		{Name: "content-type", Value: "text/plain"},
		{Name: "content-length", Value: strconv.Itoa(len(body))},
		{Name: "x-received", Value: strconv.FormatInt(s.Received(), 10)},
	}
	if s.Method == "HEAD" {
		d.sc.WriteHeaders(s.ID, 200, hdr, true)
		return
	}
	if err := d.sc.WriteHeaders(s.ID, 200, hdr, false); err != nil {
		return
	}
	d.pending[s.ID] = body
	d.OnWritable(s)
}

func (d *testDriver) OnWritable(s *http2.Stream) {
	body, ok := d.pending[s.ID]
	if !ok {
		return
	}
	n, err := d.sc.WriteData(s.ID, body, true)
	if err != nil || n == len(body) {
		delete(d.pending, s.ID)
		return
	}
	d.pending[s.ID] = body[n:]
}

func (d *testDriver) OnClose(s *http2.Stream, code http2.ErrCode) { delete(d.pending, s.ID) }

// startServer serves h2c with prior knowledge on 127.0.0.1:0 until the
// test ends (clients must close their connections by then).
func startServer(t testing.TB, cfg *http2.Config) string {
	t.Helper()
	return loopback.Serve(t, func(c net.Conn) { serveConn(c, cfg) })
}

// startTLSServer serves h2 over TLS (tlsx, self-signed, ALPN h2 only) on
// 127.0.0.1:0 until the test ends.
func startTLSServer(t testing.TB, cfg *http2.Config) string {
	t.Helper()
	store, err := tlsx.NewStore(tlsx.StoreConfig{})
	if err != nil {
		t.Fatal(err)
	}
	tc := tlsx.ServerConfig(store, []string{tlsx.ALPNH2}, nil)
	return loopback.Serve(t, func(c net.Conn) { serveConn(tls.Server(c, tc), cfg) })
}
