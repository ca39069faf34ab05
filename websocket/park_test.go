package websocket_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	cws "github.com/coder/websocket"

	"gibbon"
	"gibbon/websocket"
)

// parkServer serves h on a parked connection at the returned URL; every
// connection is also sent on conns, if not nil, once parked.
func parkServer(t *testing.T, h websocket.Handler, conns chan<- *websocket.Conn) string {
	t.Helper()
	srv, err := gibbon.New(gibbon.Config{Listen: []string{"127.0.0.1:0"}, Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	srv.HandleFunc("GET /ws", func(c *gibbon.Ctx) {
		conn, err := websocket.Accept(c, nil)
		if err != nil {
			return
		}
		conn.Park(h)
		if conns != nil {
			conns <- conn
		}
	})
	if err := srv.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Shutdown(context.Background()) })
	return "ws://" + srv.Addr().String() + "/ws"
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
	url := parkServer(t, rm, conns)
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
	url := parkServer(t, parkedEcho{closed: closed}, conns)

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
	url := parkServer(t, parkedEcho{closed: closed}, nil)
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
