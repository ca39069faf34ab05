package websocket

import (
	"bytes"
	"errors"
	"io"
	"net"
	"testing"
	"time"
	"unicode/utf8"
)

// byteConn is a net.Conn that reads a fixed byte string and discards
// writes: the peer of a fuzzed Conn.
type byteConn struct{ r *bytes.Reader }

func (c byteConn) Read(p []byte) (int, error)     { return c.r.Read(p) }
func (byteConn) Write(p []byte) (int, error)      { return len(p), nil }
func (byteConn) Close() error                     { return nil }
func (byteConn) LocalAddr() net.Addr              { return &net.TCPAddr{} }
func (byteConn) RemoteAddr() net.Addr             { return &net.TCPAddr{} }
func (byteConn) SetDeadline(time.Time) error      { return nil }
func (byteConn) SetReadDeadline(time.Time) error  { return nil }
func (byteConn) SetWriteDeadline(time.Time) error { return nil }

// frame builds one masked client frame.
func frame(fin bool, op byte, rsv1 bool, payload []byte) []byte {
	b0 := op
	if fin {
		b0 |= 0x80
	}
	if rsv1 {
		b0 |= 0x40
	}
	out := []byte{b0}
	switch n := len(payload); {
	case n < 126:
		out = append(out, 0x80|byte(n))
	case n <= 0xffff:
		out = append(out, 0x80|126, byte(n>>8), byte(n))
	default:
		out = append(out, 0x80|127, 0, 0, 0, 0, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
	key := [4]byte{1, 2, 3, 4}
	out = append(out, key[:]...)
	for i, c := range payload {
		out = append(out, c^key[i%4])
	}
	return out
}

// FuzzReadMessage feeds arbitrary client bytes to a Conn (with and
// without permessage-deflate, with a small size limit, as ReadMessage or
// as a parked connection reads): reading never panics, every message
// returned respects the limit and, for text, is valid UTF-8, and reading
// ends with a close or an I/O error.
func FuzzReadMessage(f *testing.F) {
	f.Add(frame(true, opText, false, []byte("hello")), false, false)
	f.Add(append(frame(false, opText, false, []byte("hel")), frame(true, opContinuation, false, []byte("lo"))...), false, false)
	f.Add(append(frame(true, opPing, false, []byte("p")), frame(true, opClose, false, []byte{3, 232})...), false, false)
	f.Add(append(frame(true, opPing, false, []byte("p")), frame(true, opText, false, []byte("after"))...), false, true)
	f.Add(frame(true, opText, false, []byte{0xff, 0xfe}), false, false)
	f.Add(frame(true, opBinary, false, bytes.Repeat([]byte{7}, 2000)), false, false)
	f.Add(frame(true, opText, true, []byte{0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}), true, false)
	f.Add(frame(true, opText, true, []byte{0x00, 0x00, 0xff, 0xff}), true, false)
	f.Fuzz(func(t *testing.T, in []byte, deflate, parked bool) {
		const limit = 1024
		nc := byteConn{bytes.NewReader(in)}
		c := &Conn{nc: nc, in: input{nc: nc}, deflate: deflate, max: limit}
		for range 64 {
			typ, p, err := c.readMessage(parked)
			if err != nil {
				var ce *CloseError
				if !errors.As(err, &ce) && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
					t.Fatalf("ReadMessage error %T %v: want a *CloseError or EOF", err, err)
				}
				return
			}
			if typ == 0 && (!parked || p != nil) {
				t.Fatalf("readMessage(%v) returned no message and no error", parked)
			}
			if len(p) > limit {
				t.Fatalf("message of %d bytes passed the %d-byte limit", len(p), limit)
			}
			if typ == Text && !utf8.Valid(p) {
				t.Fatalf("invalid UTF-8 text message %q", p)
			}
		}
	})
}
