package websocket

import (
	"errors"
	"io"
	"net"
	"runtime"
	"testing"
	"time"
)

// recorder is a Handler that sends what it gets on channels.
type recorder struct {
	msgs   chan string
	closed chan error
}

func (r recorder) OnMessage(c *Conn, t MessageType, p []byte) { r.msgs <- string(p) }
func (r recorder) OnClose(c *Conn, err error)                 { r.closed <- err }

// tcpPair returns the two ends of a loopback TCP connection.
func tcpPair(t *testing.T) (server, client net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server, err = ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close(); server.Close() })
	client.SetDeadline(time.Now().Add(10 * time.Second))
	return server, client
}

// waitParked waits until c is parked with no buffer.
func waitParked(t *testing.T, c *Conn, after string) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); c.state.Load() != stateWaiting; {
		if time.Now().After(deadline) {
			t.Fatalf("not parked after %s (state %d)", after, c.state.Load())
		}
		runtime.Gosched()
		time.Sleep(time.Millisecond)
	}
}

// TestParkAgain checks that a parked connection goes back to the poller,
// with no read buffer, after a message and after a ping (which is
// answered), and that input split across writes is read whole.
func TestParkAgain(t *testing.T) {
	t.Parallel()
	if runtime.GOOS != "linux" {
		t.Skip("no poller on this system")
	}
	server, client := tcpPair(t)
	c := &Conn{nc: server, in: input{nc: server}, max: DefaultMaxMessageSize}
	r := recorder{msgs: make(chan string, 1), closed: make(chan error, 1)}
	c.Park(r)
	waitParked(t, c, "Park")

	client.Write(frame(true, opText, false, []byte("one")))
	if got := <-r.msgs; got != "one" {
		t.Fatalf("message %q", got)
	}
	waitParked(t, c, "a message")

	client.Write(frame(true, opPing, false, []byte("p")))
	pong := make([]byte, 3)
	if _, err := io.ReadFull(client, pong); err != nil || string(pong) != "\x8a\x01p" {
		t.Fatalf("pong %q %v", pong, err)
	}
	waitParked(t, c, "a ping")

	two := frame(true, opBinary, false, []byte("two"))
	client.Write(two[:3])
	time.Sleep(10 * time.Millisecond)
	client.Write(two[3:])
	if got := <-r.msgs; got != "two" {
		t.Fatalf("message %q", got)
	}
	waitParked(t, c, "a message in two writes")
	c.wmu.Lock() // orders this read before the next ReadMessage's writes
	if c.in.br != nil || c.msg != nil {
		t.Error("a parked connection holds a buffer")
	}
	c.wmu.Unlock()

	client.Write(frame(true, opClose, false, []byte{0x03, 0xe8}))
	if err := <-r.closed; err == nil {
		t.Error("OnClose with nil")
	}
	if c.state.Load() != stateDone {
		t.Errorf("state %d after OnClose", c.state.Load())
	}
}

// TestParkUnwatchable parks a connection the poller cannot watch (a
// net.Pipe, as a TLS connection would be): a goroutine serves it instead.
func TestParkUnwatchable(t *testing.T) {
	t.Parallel()
	server, client := net.Pipe()
	defer client.Close()
	client.SetDeadline(time.Now().Add(10 * time.Second))
	c := &Conn{nc: server, in: input{nc: server}, max: DefaultMaxMessageSize}
	r := recorder{msgs: make(chan string, 2), closed: make(chan error, 1)}
	c.Park(r)
	for _, m := range []string{"one", "two"} {
		if _, err := client.Write(frame(true, opText, false, []byte(m))); err != nil {
			t.Fatal(err)
		}
		if got := <-r.msgs; got != m {
			t.Fatalf("message %q, want %q", got, m)
		}
	}
	client.Close()
	if err := <-r.closed; !errors.Is(err, io.EOF) {
		t.Errorf("OnClose: %v, want EOF", err)
	}
}

// TestCloseDuringPark closes connections while Park runs on another
// goroutine: whichever goes first, the close handshake completes, the
// connection is closed and OnClose runs once, with the peer's answer (or,
// when Close ended the connection before Park began, with net.ErrClosed).
func TestCloseDuringPark(t *testing.T) {
	t.Parallel()
	for range 20 {
		server, client := tcpPair(t)
		c := &Conn{nc: server, in: input{nc: server}, max: DefaultMaxMessageSize}
		r := recorder{msgs: make(chan string, 1), closed: make(chan error, 2)}
		answered := make(chan error, 1)
		go func() {
			got := make([]byte, 4)
			_, err := io.ReadFull(client, got)
			if err == nil {
				_, err = client.Write(frame(true, opClose, false, got[2:]))
			}
			answered <- err
		}()
		done := make(chan struct{})
		go func() {
			c.Close(4000, "")
			close(done)
		}()
		c.Park(r)
		<-done
		if err := <-answered; err != nil {
			t.Fatalf("peer: %v", err)
		}
		var ce *CloseError
		select {
		case err := <-r.closed:
			if (!errors.As(err, &ce) || ce.Code != 4000) && !errors.Is(err, net.ErrClosed) {
				t.Errorf("OnClose: %v, want the answer 4000", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("no OnClose")
		}
		if _, err := client.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
			t.Errorf("peer read after the handshake: %v, want EOF", err)
		}
		select {
		case err := <-r.closed:
			t.Fatalf("OnClose again: %v", err)
		default:
		}
	}
}
