package server

import (
	"bytes"
	"crypto/tls"
	"io"
	"net"
	"sync/atomic"
	"testing"

	"gibbon/tlsx"
)

// countingConn counts the writes that reach the socket.
type countingConn struct {
	net.Conn
	writes atomic.Int64
}

func (c *countingConn) Write(p []byte) (int, error) {
	c.writes.Add(1)
	return c.Conn.Write(p)
}

// A large Write through tlsConn reaches the socket in one write per
// tlsBatchMax bytes rather than one per record, and the client reads it
// intact; a small one passes straight through.
func TestTLSConnGathersRecords(t *testing.T) {
	cert, err := tlsx.SelfSigned([]string{"localhost"})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	payload := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB: 64 full records
	got := make(chan []byte, 1)
	go func() {
		c, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{InsecureSkipVerify: true})
		if err != nil {
			got <- nil
			return
		}
		defer c.Close()
		b, _ := io.ReadAll(io.LimitReader(c, int64(2*len(payload)+5)))
		got <- b
	}()
	nc, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	cc := &countingConn{Conn: nc}
	tc := newTLSConn(cc, &tls.Config{Certificates: []tls.Certificate{cert}})
	defer tc.Close()
	if err := tc.Handshake(); err != nil {
		t.Fatal(err)
	}
	for range 2 { // the first Write's records are small while crypto/tls sizes them for a new connection
		before := cc.writes.Load()
		if n, err := tc.Write(payload); n != len(payload) || err != nil {
			t.Fatalf("Write = %d, %v", n, err)
		}
		writes := cc.writes.Load() - before
		if max := int64(len(payload)/tlsBatchMax + 1); writes > max {
			t.Errorf("%d socket writes for %d bytes, want at most %d", writes, len(payload), max)
		}
	}
	before := cc.writes.Load()
	if _, err := tc.Write([]byte("tail!")); err != nil {
		t.Fatal(err)
	}
	if w := cc.writes.Load() - before; w != 1 {
		t.Errorf("%d socket writes for a small Write, want 1", w)
	}
	tc.Close()
	b := <-got
	want := append(append(append([]byte(nil), payload...), payload...), "tail!"...)
	if !bytes.Equal(b, want) {
		t.Fatalf("client read %d bytes, want %d intact", len(b), len(want))
	}
}
