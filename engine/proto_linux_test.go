package engine

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

// lineProto is the test protocol: one command per line.
//
//	quit     → "bye\n", then Close
//	big      → the big buffer (WriteNoCopy)
//	file     → "FILE\n" then the file (SendFile)
//	handoff  → Handoff (the callback gets the rest of the input)
//	worker   → the worker's index
//	addr     → the peer's and the local address as the engine sees them
//	more     → nothing, but the request is still in progress (SetTimeout)
//	tag      → nothing, but the connection's tag becomes 42
//	anything → echoed
//
// A line starting with "GET " is the benchmark's request: the input up to
// the blank line is consumed and a fixed HTTP response is written.
type lineProto struct {
	big      []byte
	file     *os.File
	fileSize int64
	released atomic.Int64
	reject   bool // OnOpen refuses every connection
	closes   chan closeEvent
}

type closeEvent struct {
	id  uint64
	err error
}

var httpResponse = []byte("HTTP/1.1 200 OK\r\nContent-Length: 13\r\nContent-Type: text/plain\r\n\r\nHello, World!")

func newLineProto() *lineProto { return &lineProto{closes: make(chan closeEvent, 1024)} }

func (p *lineProto) OnOpen(c *Conn) bool { return !p.reject }

func (p *lineProto) OnData(c *Conn, in []byte) (int, Action) {
	if bytes.HasPrefix(in, []byte("GET ")) {
		i := bytes.Index(in, []byte("\r\n\r\n"))
		if i < 0 {
			return 0, Continue
		}
		c.Write(httpResponse)
		return i + 4, Continue
	}
	i := bytes.IndexByte(in, '\n')
	if i < 0 {
		return 0, Continue
	}
	line, n := in[:i], i+1
	switch string(line) { // no allocation: the conversion is only compared
	case "quit":
		c.WriteString("bye\n")
		return n, Close
	case "big":
		c.WriteNoCopy(p.big)
	case "file":
		c.WriteString("FILE\n")
		c.SendFile(p.file, 0, p.fileSize, p.release)
	case "handoff":
		return n, Handoff
	case "more":
		c.SetTimeout(TimeoutRead)
	case "tag":
		c.SetTag(42)
	case "addr":
		c.WriteString(c.RemoteAddr().String())
		c.WriteString(" ")
		c.WriteString(c.LocalAddr().String())
		c.WriteString("\n")
	case "worker":
		c.Write(strconv.AppendInt(nil, int64(c.Worker()), 10))
		c.WriteString("\n")
	default:
		c.Write(in[:n])
	}
	return n, Continue
}

func (p *lineProto) OnWritten(c *Conn) Action { return Continue }

func (p *lineProto) OnClose(c *Conn, err error) {
	select {
	case p.closes <- closeEvent{c.ID(), err}:
	default:
	}
}

func (p *lineProto) release(*os.File) { p.released.Add(1) }

// waitClose returns the next close event, failing after d.
func (p *lineProto) waitClose(t *testing.T, d time.Duration) closeEvent {
	t.Helper()
	select {
	case ev := <-p.closes:
		return ev
	case <-time.After(d):
		t.Fatalf("no connection closed within %v", d)
	}
	return closeEvent{}
}

// testConfig is a small engine for tests: no TCP_DEFER_ACCEPT so that a
// silent client is accepted at once.
func testConfig(workers int, b Balancing) Config {
	return Config{Workers: workers, Balancing: b, DeferAccept: -1}
}

// start runs an engine on 127.0.0.1:0 and shuts it down at the end of the
// test; Serve must return nil.
func start(t testing.TB, cfg Config, p Protocol, onHandoff func(Detached)) (*Engine, string) {
	t.Helper()
	return startOn(t, "127.0.0.1:0", cfg, p, onHandoff)
}

func startOn(t testing.TB, listen string, cfg Config, p Protocol, onHandoff func(Detached)) (*Engine, string) {
	t.Helper()
	e, err := New(cfg, p, onHandoff)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Listen(listen); err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- e.Serve() }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := e.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		if err := <-served; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return e, e.Addrs()[0].String()
}

// client is a test connection with a line reader.
type client struct {
	t *testing.T
	net.Conn
	r *bufio.Reader
}

func dial(t *testing.T, addr string) *client {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	return &client{t: t, Conn: nc, r: bufio.NewReader(nc)}
}

func (c *client) send(s string) {
	c.t.Helper()
	if _, err := c.Write([]byte(s)); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

func (c *client) line() string {
	c.t.Helper()
	s, err := c.r.ReadString('\n')
	if err != nil {
		c.t.Fatalf("read line: %v (got %q)", err, s)
	}
	return s
}

// roundTrip sends a line and returns the reply line.
func (c *client) roundTrip(s string) string {
	c.t.Helper()
	c.send(s)
	return c.line()
}

// expectClosed fails unless the server closes the connection within d.
func (c *client) expectClosed(d time.Duration) {
	c.t.Helper()
	c.SetReadDeadline(time.Now().Add(d))
	var buf [64]byte
	for {
		_, err := c.r.Read(buf[:])
		if err == nil {
			continue
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			c.t.Fatalf("connection still open after %v", d)
		}
		return // EOF or reset
	}
}

// eventually polls cond until it holds or d passes.
func eventually(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func totalStats(e *Engine) WorkerStats {
	var s WorkerStats
	for _, w := range e.Stats() {
		s.Active += w.Active
		s.Accepted += w.Accepted
		s.Rejected += w.Rejected
		s.Closed += w.Closed
		s.HandedOff += w.HandedOff
		s.Timeouts += w.Timeouts
		s.Stalls += w.Stalls
	}
	return s
}

func dialErr(addr string) (net.Conn, error) {
	nc, err := net.DialTimeout("tcp", addr, time.Second)
	if err == nil {
		nc.Close()
	}
	return nc, err
}
