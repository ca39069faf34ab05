// Package wstest is a minimal RFC 6455 peer for tests, written without
// gibbon/websocket so that what it checks (the proxy's Upgrade tunnel)
// shares no code with gibbon's own WebSocket implementation: the
// handshake's accept key, single-frame encoding and decoding, and an echo
// handler for net/http servers. It handles no fragmentation, no
// extensions and no close handshake beyond hanging up; it is not for
// production use.
package wstest

import (
	"bufio"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// AcceptKey is the Sec-WebSocket-Accept value for a Sec-WebSocket-Key.
func AcceptKey(key string) string {
	h := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	return base64.StdEncoding.EncodeToString(h[:])
}

// Frame encodes one final frame of opcode op, masked with a fixed key when
// mask is set (as a client must).
func Frame(op byte, payload []byte, mask bool) []byte {
	b := []byte{0x80 | op}
	m := byte(0)
	if mask {
		m = 0x80
	}
	switch n := len(payload); {
	case n < 126:
		b = append(b, m|byte(n))
	case n < 1<<16:
		b = append(b, m|126, byte(n>>8), byte(n))
	default:
		b = append(b, m|127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	p := append([]byte(nil), payload...)
	if mask {
		key := []byte{1, 2, 3, 4}
		b = append(b, key...)
		for i := range p {
			p[i] ^= key[i%4]
		}
	}
	return append(b, p...)
}

// ReadFrame reads one frame and returns its opcode and unmasked payload.
func ReadFrame(r *bufio.Reader) (op byte, payload []byte, err error) {
	var h [2]byte
	if _, err = io.ReadFull(r, h[:]); err != nil {
		return
	}
	op = h[0] & 0x0f
	n := int64(h[1] & 0x7f)
	switch n {
	case 126:
		var x [2]byte
		_, err = io.ReadFull(r, x[:])
		n = int64(binary.BigEndian.Uint16(x[:]))
	case 127:
		var x [8]byte
		_, err = io.ReadFull(r, x[:])
		n = int64(binary.BigEndian.Uint64(x[:]))
	}
	var key [4]byte
	if h[1]&0x80 != 0 {
		_, err = io.ReadFull(r, key[:])
	}
	if err != nil {
		return
	}
	payload = make([]byte, n)
	if _, err = io.ReadFull(r, payload); err != nil {
		return
	}
	if h[1]&0x80 != 0 {
		for i := range payload {
			payload[i] ^= key[i%4]
		}
	}
	return
}

// Echo answers a WebSocket handshake (with extra header lines, each
// "Name: value", in the 101 answer) and echoes each frame's payload in an
// unmasked frame of the same opcode until a close frame or an error, then
// hangs up. A request without "Upgrade: websocket" gets 400.
func Echo(w http.ResponseWriter, r *http.Request, extra ...string) {
	if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		http.Error(w, "want websocket", 400)
		return
	}
	conn, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return
	}
	defer conn.Close()
	fmt.Fprintf(brw, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n",
		AcceptKey(r.Header.Get("Sec-WebSocket-Key")))
	for _, h := range extra {
		fmt.Fprintf(brw, "%s\r\n", h)
	}
	brw.WriteString("\r\n")
	brw.Flush()
	for {
		op, payload, err := ReadFrame(brw.Reader)
		if err != nil || op == 8 {
			return
		}
		conn.Write(Frame(op, payload, false))
	}
}
