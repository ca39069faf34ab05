package websocket_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	cws "github.com/coder/websocket"

	"gibbon"
	"gibbon/websocket"
)

// parkServer serves h on parked connections accepted with opts, natively
// at base+"/ws" and through HandleHTTP at base+"/nethttp"; every
// connection is also sent on conns, if not nil, once parked. The server
// is shut down when the test ends.
func parkServer(t *testing.T, opts *websocket.Options, h websocket.Handler, conns chan<- *websocket.Conn) (srv *gibbon.Server, base string) {
	t.Helper()
	srv, err := gibbon.New(gibbon.Config{Listen: []string{"127.0.0.1:0"}, Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	park := func(conn *websocket.Conn) {
		conn.Park(h)
		if conns != nil {
			conns <- conn
		}
	}
	srv.HandleFunc("GET /ws", func(c *gibbon.Ctx) {
		if conn, err := websocket.Accept(c, opts); err == nil {
			park(conn)
		}
	})
	srv.HandleHTTP("GET /nethttp", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if conn, err := websocket.Upgrade(w, r, opts); err == nil {
			park(conn)
		}
	}))
	if err := srv.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Shutdown(context.Background()) })
	return srv, "ws://" + srv.Addr().String()
}

const upgradeRequest = "GET %s HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"

// rawDial opens a TCP connection to the WebSocket URL and sends the
// upgrade request followed by extra, in one write.
func rawDial(t testing.TB, url string, extra []byte) net.Conn {
	t.Helper()
	host, path, _ := strings.Cut(strings.TrimPrefix(url, "ws://"), "/")
	c, err := net.Dial("tcp", host)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Write(append(fmt.Appendf(nil, upgradeRequest, "/"+path), extra...)); err != nil {
		t.Fatal(err)
	}
	return c
}

// readHead reads the response head and checks it is a 101.
func readHead(t testing.TB, c net.Conn) {
	t.Helper()
	var head []byte
	b := make([]byte, 1)
	for !bytes.HasSuffix(head, []byte("\r\n\r\n")) {
		if _, err := c.Read(b); err != nil {
			t.Fatalf("head %q: %v", head, err)
		}
		head = append(head, b[0])
	}
	if !bytes.HasPrefix(head, []byte("HTTP/1.1 101 ")) {
		t.Fatalf("head %q", head)
	}
}

// TestPipelined sends a message in the same write as the upgrade request:
// the server reads it from the bytes buffered before the hijack, with
// both APIs, natively and through the net/http adapter.
func TestPipelined(t *testing.T) {
	t.Parallel()
	for name, url := range servers(t) {
		if strings.HasPrefix(name, "net/http") {
			continue // the same request reaches net/http's server in one write too, but it may read it in two
		}
		t.Run(name, func(t *testing.T) {
			c := rawDial(t, url, frame(true, 1, []byte("hi")))
			readHead(t, c)
			got := make([]byte, 4)
			if _, err := io.ReadFull(c, got); err != nil || string(got) != "\x81\x02hi" {
				t.Fatalf("echo %q %v", got, err)
			}
		})
	}
}

// frame builds one masked client frame with a short payload.
func frame(fin bool, op byte, p []byte) []byte {
	b0 := op
	if fin {
		b0 |= 0x80
	}
	out := []byte{b0, 0x80 | byte(len(p)), 1, 2, 3, 4}
	for i, c := range p {
		out = append(out, c^byte(i%4+1))
	}
	return out
}

// room is a chat room of parked connections for the tests.
type room struct {
	mu      sync.Mutex
	members map[*websocket.Conn]bool
	closed  chan error
}

func (r *room) OnMessage(c *websocket.Conn, t websocket.MessageType, p []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for m := range r.members {
		m.WriteMessage(t, p)
	}
}

func (r *room) OnClose(c *websocket.Conn, err error) {
	r.mu.Lock()
	delete(r.members, c)
	r.mu.Unlock()
	r.closed <- err
}

// TestParkedBroadcast has parked clients talk in a room while another
// goroutine broadcasts to them: every client gets every message, and
// writes from other goroutines race with nothing (run it with -race).
func TestParkedBroadcast(t *testing.T) {
	t.Parallel()
	const clients, each, outside = 20, 5, 20
	rm := &room{members: make(map[*websocket.Conn]bool), closed: make(chan error, clients)}
	conns := make(chan *websocket.Conn, clients)
	_, base := parkServer(t, nil, rm, conns)
	url := base + "/ws"
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cs := make([]*cws.Conn, clients)
	for i := range cs {
		cs[i] = dialPlain(t, url)
		rm.mu.Lock()
		rm.members[<-conns] = true
		rm.mu.Unlock()
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := range outside {
			rm.OnMessage(nil, websocket.Text, fmt.Appendf(nil, "server %d", i))
		}
	})
	for i, c := range cs {
		wg.Go(func() {
			for j := range each {
				if err := c.Write(ctx, cws.MessageText, fmt.Appendf(nil, "client %d %d", i, j)); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	for i, c := range cs {
		wg.Go(func() {
			seen := 0
			for seen < clients*each+outside {
				_, _, err := c.Read(ctx)
				if err != nil {
					t.Errorf("client %d after %d messages: %v", i, seen, err)
					return
				}
				seen++
			}
		})
	}
	wg.Wait()
	for _, c := range cs {
		c.Close(cws.StatusNormalClosure, "")
	}
	for range clients {
		var ce *websocket.CloseError
		if err := <-rm.closed; !errors.As(err, &ce) || ce.Code != websocket.StatusNormal {
			t.Errorf("OnClose: %v", err)
		}
	}
}

func dialPlain(t *testing.T, url string) *cws.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, _, err := cws.Dial(ctx, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.CloseNow() })
	return c
}

// TestParkedClose closes parked connections from another goroutine: a
// peer that answers ends the handshake at once, one that does not is cut
// off after five seconds; OnClose runs once for each.
func TestParkedClose(t *testing.T) {
	t.Parallel()
	closed := make(chan error, 1)
	conns := make(chan *websocket.Conn, 1)
	_, base := parkServer(t, nil, parkedEcho{closed: closed}, conns)
	url := base + "/ws"

	c := dialPlain(t, url)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := (<-conns).Close(4001, "kick"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Read(ctx); cws.CloseStatus(err) != 4001 {
		t.Errorf("client read: %v", err)
	}
	var ce *websocket.CloseError
	if err := <-closed; !errors.As(err, &ce) || ce.Code != 4001 {
		t.Errorf("OnClose after an answered close: %v", err)
	}

	raw := rawDial(t, url, nil)
	readHead(t, raw)
	start := time.Now()
	(<-conns).Close(4002, "")
	select {
	case err := <-closed:
		var ne net.Error
		if !errors.As(err, &ne) || !ne.Timeout() || time.Since(start) < 4*time.Second {
			t.Errorf("OnClose after %v: %v, want a timeout after 5 s", time.Since(start), err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no OnClose 10 s after a close the peer did not answer")
	}
	raw.SetReadDeadline(time.Now().Add(time.Second))
	if b, err := io.ReadAll(raw); err != nil || !bytes.Equal(b, []byte{0x88, 2, 0x0f, 0xa2}) {
		t.Errorf("the unanswering peer read %x %v, want the close frame then EOF", b, err)
	}
}

// TestParkedPeerGone drops the TCP connection of a parked WebSocket.
func TestParkedPeerGone(t *testing.T) {
	t.Parallel()
	closed := make(chan error, 1)
	_, base := parkServer(t, nil, parkedEcho{closed: closed}, nil)
	url := base + "/ws"
	raw := rawDial(t, url, nil)
	readHead(t, raw)
	raw.Close()
	select {
	case err := <-closed:
		if !errors.Is(err, io.EOF) {
			t.Errorf("OnClose: %v, want EOF", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no OnClose 10 s after the peer left")
	}
}

// TestParkedStalledMessage has peers stall in the middle of a message on
// a parked connection: half a frame (a raw peer), and a fragmented
// message whose last fragment never comes (coder/websocket). Once
// MessageTimeout passed, each gets a close frame 1008 and the connection
// is closed. A connection idle for longer than MessageTimeout is left
// alone.
func TestParkedStalledMessage(t *testing.T) {
	t.Parallel()
	const timeout = 200 * time.Millisecond
	closed := make(chan error, 2)
	_, base := parkServer(t, &websocket.Options{MessageTimeout: timeout}, parkedEcho{closed: closed}, nil)
	url := base + "/ws"

	raw := rawDial(t, url, nil)
	readHead(t, raw)
	time.Sleep(3 * timeout) // idle: no timeout
	msg := frame(true, 1, []byte("still here"))
	raw.Write(msg)
	got := make([]byte, 12)
	if _, err := io.ReadFull(raw, got); err != nil || string(got[2:]) != "still here" {
		t.Fatalf("echo after an idle wait: %q %v", got, err)
	}
	raw.Write(msg[:8]) // the header and two bytes of ten
	var ne net.Error
	if err := receive(t, closed, "OnClose after a stalled frame"); !errors.As(err, &ne) || !ne.Timeout() {
		t.Errorf("OnClose: %v, want a timeout", err)
	}
	if b, err := io.ReadAll(raw); err != nil || !bytes.HasPrefix(b, []byte{0x88, 14, 0x03, 0xf0}) {
		t.Errorf("the stalled peer read %x %v, want a close frame 1008 then EOF", b, err)
	}

	c := dialPlain(t, url)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	w, err := c.Writer(ctx, cws.MessageBinary)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(make([]byte, 8<<10)) // more than the client buffers: a frame goes out, not the last
	if _, _, err := c.Read(ctx); cws.CloseStatus(err) != cws.StatusPolicyViolation {
		t.Errorf("client read: %v, want close 1008", err)
	}
	if err := receive(t, closed, "OnClose after a stalled message"); err == nil {
		t.Error("OnClose with nil")
	}
}

// TestShutdownParked shuts down a gibbon server that holds parked
// connections, native and through HandleHTTP: every client receives close
// 1001 (and answers it), OnClose runs for each connection, Shutdown
// returns without waiting for its deadline, and no goroutine is left.
// Not parallel, for the goroutine count.
func TestShutdownParked(t *testing.T) {
	const each = 10
	before := runtime.NumGoroutine()
	closed := make(chan error, 2*each)
	conns := make(chan *websocket.Conn, 2*each)
	srv, base := parkServer(t, nil, parkedEcho{closed: closed}, conns)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	reads := make(chan error, 2*each)
	for _, path := range []string{"/ws", "/nethttp"} {
		for range each {
			c := dialPlain(t, base+path)
			<-conns
			go func() {
				_, _, err := c.Read(ctx)
				reads <- err
			}()
		}
	}
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	for range 2 * each {
		if err := receive(t, reads, "client read"); cws.CloseStatus(err) != cws.StatusGoingAway {
			t.Errorf("client read: %v, want close 1001", err)
		}
		var ce *websocket.CloseError
		if err := receive(t, closed, "OnClose"); !errors.As(err, &ce) || ce.Code != websocket.StatusGoingAway {
			t.Errorf("OnClose: %v, want the answer 1001", err)
		}
	}
	http.DefaultClient.CloseIdleConnections() // coder/websocket dials with it
	const slack = 3
	for deadline := time.Now().Add(10 * time.Second); runtime.NumGoroutine() > before+slack; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines after Shutdown, %d before", runtime.NumGoroutine(), before)
		}
	}
}

// TestShutdownParkedUnanswered shuts down a server whose parked
// connection's peer never answers the close frame: Shutdown closes the
// socket when its context ends and returns its error.
func TestShutdownParkedUnanswered(t *testing.T) {
	t.Parallel()
	closed := make(chan error, 1)
	conns := make(chan *websocket.Conn, 1)
	srv, base := parkServer(t, nil, parkedEcho{closed: closed}, conns)
	raw := rawDial(t, base+"/ws", nil)
	readHead(t, raw)
	<-conns
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if err := srv.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Shutdown: %v, want its deadline", err)
	}
	if err := receive(t, closed, "OnClose"); err == nil {
		t.Error("OnClose with nil")
	}
	if b, err := io.ReadAll(raw); err != nil || !bytes.HasPrefix(b, []byte{0x88, 22, 0x03, 0xe9}) {
		t.Errorf("the peer read %x %v, want a close frame 1001 then EOF", b, err)
	}
}

// receive returns the next error from ch, failing the test after ten
// seconds without one.
func receive(t *testing.T, ch <-chan error, what string) error {
	t.Helper()
	select {
	case err := <-ch:
		return err
	case <-time.After(10 * time.Second):
		t.Fatalf("no %s within 10 s", what)
		return nil
	}
}
