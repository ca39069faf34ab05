package websocket

import (
	"bufio"
	"bytes"
	"compress/flate"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"
)

// readBufSize is the size of a connection's pooled read buffer.
const readBufSize = 1 << 10

// keepBuf is the largest message buffer a connection keeps between
// messages.
const keepBuf = 64 << 10

// closeTimeout bounds the wait for the peer's close frame.
const closeTimeout = 5 * time.Second

// MessageType is the type of a data message.
type MessageType int

// The data message types (their opcodes).
const (
	Text   MessageType = 1
	Binary MessageType = 2
)

func (t MessageType) String() string {
	switch t {
	case Text:
		return "text"
	case Binary:
		return "binary"
	}
	return fmt.Sprintf("MessageType(%d)", int(t))
}

// StatusCode is a close status (RFC 6455 §7.4).
type StatusCode int

// Close status codes.
const (
	StatusNormal          StatusCode = 1000
	StatusGoingAway       StatusCode = 1001
	StatusProtocolError   StatusCode = 1002
	StatusUnsupportedData StatusCode = 1003
	StatusNoStatus        StatusCode = 1005 // received without a code; never sent
	StatusInvalidPayload  StatusCode = 1007
	StatusPolicyViolation StatusCode = 1008
	StatusTooBig          StatusCode = 1009
	StatusInternalError   StatusCode = 1011
)

// CloseError is the error ReadMessage returns once the connection is
// closed by a close frame, the peer's or ours (for a protocol violation
// the code is the one sent).
type CloseError struct {
	Code   StatusCode
	Reason string
}

func (e *CloseError) Error() string {
	return fmt.Sprintf("websocket: closed: %d %s", e.Code, e.Reason)
}

const (
	opContinuation = 0
	opText         = 1
	opBinary       = 2
	opClose        = 8
	opPing         = 9
	opPong         = 10
)

// Conn is a server WebSocket connection. ReadMessage must be called from
// one goroutine at a time; WriteMessage, Ping and Close are safe for
// concurrent use, also with ReadMessage.
type Conn struct {
	// Fields are ordered so that the struct has no padding: parked
	// connections are many.
	nc       net.Conn
	in       input
	protocol string
	max      int64
	wait     time.Duration // Options.MessageTimeout, for parked connections

	// reader state
	msg []byte

	// parked connections (see Park)
	h     Handler
	reg   registry     // the server's, which Park registers the connection with; nil if none
	watch watch        // the poller's registration
	state atomic.Int32 // a parkState

	wmu       sync.Mutex
	closeSent bool // guarded by wmu
	reading   bool // guarded by wmu: a ReadMessage runs
	deflate   bool
}

// input is a connection's reader: first the bytes the client sent before
// the upgrade was answered, then the socket through a read buffer from a
// pool, which a parked connection gives back while it waits.
type input struct {
	nc  net.Conn
	pre []byte
	br  *bufio.Reader
}

func (in *input) Read(p []byte) (int, error) {
	if len(in.pre) > 0 {
		n := copy(p, in.pre)
		in.pre = in.pre[n:]
		return n, nil
	}
	return in.reader().Read(p)
}

// reader returns the read buffer, taken from the pool when the connection
// has none.
func (in *input) reader() *bufio.Reader {
	if in.br == nil {
		in.br = readers.Get().(*bufio.Reader)
		in.br.Reset(in.nc)
	}
	return in.br
}

// fill waits until input is buffered (a read of the socket when none is).
func (in *input) fill() error {
	if len(in.pre) > 0 {
		return nil
	}
	_, err := in.reader().Peek(1)
	return err
}

// readFull fills p a byte at a time, for a frame's header and a control
// frame's payload, which are short: unlike io.ReadFull, it lets p stay on
// the caller's stack (a slice given to an io.Reader escapes to the heap).
// Like io.ReadFull, it fails with io.ErrUnexpectedEOF after part of p.
func (in *input) readFull(p []byte) error {
	for i := range p {
		b, err := in.readByte()
		if err != nil {
			if i > 0 && errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return err
		}
		p[i] = b
	}
	return nil
}

func (in *input) readByte() (byte, error) {
	if len(in.pre) > 0 {
		b := in.pre[0]
		in.pre = in.pre[1:]
		return b, nil
	}
	return in.reader().ReadByte()
}

// buffered returns how many received bytes wait to be read.
func (in *input) buffered() int {
	n := len(in.pre)
	if in.br != nil {
		n += in.br.Buffered()
	}
	return n
}

// release gives the read buffer back to the pool; what it held is
// dropped.
func (in *input) release() {
	if in.br != nil {
		in.br.Reset(nil)
		readers.Put(in.br)
		in.br = nil
	}
}

var readers = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, readBufSize) }}

// buffers holds message and frame buffers of up to keepBuf bytes.
var buffers = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

func getBuf() *[]byte { return buffers.Get().(*[]byte) }

func putBuf(bp *[]byte) {
	if c := cap(*bp); c > 0 && c <= keepBuf {
		*bp = (*bp)[:0]
		buffers.Put(bp)
	}
}

// Subprotocol returns the negotiated subprotocol, or "".
func (c *Conn) Subprotocol() string { return c.protocol }

// Compressed reports whether permessage-deflate was negotiated.
func (c *Conn) Compressed() bool { return c.deflate }

// NetConn returns the underlying connection (for deadlines and
// addresses).
func (c *Conn) NetConn() net.Conn { return c.nc }

// ReadMessage returns the next data message, answering pings and skipping
// pongs on the way. p is valid until the next call. After a close frame
// (the peer's, answered; or ours, confirmed) it returns a *CloseError and
// the connection is closed; after a protocol violation it sends the close
// frame the RFC asks for (1002, 1007, 1009) and returns that *CloseError.
func (c *Conn) ReadMessage() (t MessageType, p []byte, err error) {
	return c.readMessage(false)
}

// readMessage is ReadMessage; with parked set it also returns, with t 0,
// after a control frame when no message is in progress and no input is
// buffered, so that the connection can park again.
func (c *Conn) readMessage(parked bool) (t MessageType, p []byte, err error) {
	c.setReading(true)
	defer c.setReading(false)
	c.msg = c.msg[:0]
	switch {
	case cap(c.msg) > keepBuf:
		c.msg = nil
	case c.msg == nil && parked:
		c.msg = *getBuf()
	}
	var op byte
	var ctrl [125]byte
	compressed := false
	for {
		fin, rsv1, fop, payload, err := c.readFrame(&ctrl)
		if err != nil {
			return 0, nil, err
		}
		switch fop {
		case opPing, opPong:
			if fop == opPing {
				if err := c.writeFrame(opPong, false, payload); err != nil {
					return 0, nil, err
				}
			}
			if parked && op == 0 && c.in.buffered() == 0 {
				return 0, nil, nil
			}
			continue
		case opClose:
			return 0, nil, c.closeReceived(payload)
		case opText, opBinary:
			if op != 0 {
				return 0, nil, c.fail(StatusProtocolError, "new message inside a fragmented one")
			}
			op, compressed = fop, rsv1
		case opContinuation:
			if op == 0 {
				return 0, nil, c.fail(StatusProtocolError, "continuation without a message")
			}
			if rsv1 {
				return 0, nil, c.fail(StatusProtocolError, "RSV1 on a continuation")
			}
		default:
			return 0, nil, c.fail(StatusProtocolError, "unknown opcode")
		}
		if !fin {
			continue
		}
		if compressed {
			if err := c.inflate(); err != nil {
				return 0, nil, err
			}
		}
		if op == opText && !utf8.Valid(c.msg) {
			return 0, nil, c.fail(StatusInvalidPayload, "invalid UTF-8")
		}
		return MessageType(op), c.msg, nil
	}
}

func (c *Conn) setReading(on bool) {
	c.wmu.Lock()
	c.reading = on
	c.wmu.Unlock()
}

// readFrame reads one frame. A data frame's payload is appended to c.msg
// (payload is then nil); a control frame's is read into ctrl and
// returned.
func (c *Conn) readFrame(ctrl *[125]byte) (fin, rsv1 bool, op byte, payload []byte, err error) {
	var h [8]byte
	if err = c.in.readFull(h[:2]); err != nil {
		return c.broken(err)
	}
	fin, rsv1, op = h[0]&0x80 != 0, h[0]&0x40 != 0, h[0]&0x0f
	masked, n := h[1]&0x80 != 0, int64(h[1]&0x7f)
	switch {
	case h[0]&0x30 != 0 || rsv1 && (!c.deflate || op >= opClose):
		return c.failFrame(StatusProtocolError, "reserved bits set")
	case !masked:
		return c.failFrame(StatusProtocolError, "client frames must be masked")
	case op >= opClose && (!fin || n > 125):
		return c.failFrame(StatusProtocolError, "bad control frame")
	}
	switch n {
	case 126:
		if err = c.in.readFull(h[:2]); err != nil {
			return c.broken(err)
		}
		n = int64(binary.BigEndian.Uint16(h[:2]))
	case 127:
		if err = c.in.readFull(h[:8]); err != nil {
			return c.broken(err)
		}
		n = int64(binary.BigEndian.Uint64(h[:8]))
		if n < 0 {
			return c.failFrame(StatusProtocolError, "bad length")
		}
	}
	var mask [4]byte
	if err = c.in.readFull(mask[:]); err != nil {
		return c.broken(err)
	}
	if op >= opClose {
		payload = ctrl[:n]
		if err = c.in.readFull(payload); err != nil {
			return c.broken(err)
		}
		unmask(payload, mask)
		return fin, rsv1, op, payload, nil
	}
	if int64(len(c.msg))+n > c.max {
		return c.failFrame(StatusTooBig, "message too big")
	}
	start := len(c.msg)
	c.msg = append(c.msg, make([]byte, n)...)
	data := c.msg[start:]
	if _, err = io.ReadFull(&c.in, data); err != nil {
		return c.broken(err)
	}
	unmask(data, mask)
	return fin, rsv1, op, nil, nil
}

func unmask(p []byte, mask [4]byte) {
	for i := range p {
		p[i] ^= mask[i&3]
	}
}

// broken closes the connection after a failed read. A read that timed out
// (a parked connection's message that stalled, or a deadline the
// application set) first sends a close frame 1008, unless one was sent:
// the peer learns why rather than seeing the connection drop (1006).
func (c *Conn) broken(err error) (bool, bool, byte, []byte, error) {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		c.sendClose(StatusPolicyViolation, "read timeout")
	}
	c.nc.Close()
	return false, false, 0, nil, err
}

func (c *Conn) failFrame(code StatusCode, reason string) (bool, bool, byte, []byte, error) {
	return false, false, 0, nil, c.fail(code, reason)
}

// fail closes the connection with code after a violation by the peer.
func (c *Conn) fail(code StatusCode, reason string) error {
	c.sendClose(code, reason)
	c.nc.Close()
	return &CloseError{Code: code, Reason: reason}
}

// closeReceived answers the peer's close frame (or takes it as the answer
// to ours) and closes the connection.
func (c *Conn) closeReceived(p []byte) error {
	ce := &CloseError{Code: StatusNoStatus}
	switch {
	case len(p) == 1:
		return c.fail(StatusProtocolError, "bad close payload")
	case len(p) >= 2:
		ce.Code, ce.Reason = StatusCode(binary.BigEndian.Uint16(p)), string(p[2:])
		if !validCode(ce.Code) || !utf8.ValidString(ce.Reason) {
			return c.fail(StatusProtocolError, "bad close code or reason")
		}
	}
	echo := ce.Code
	if echo == StatusNoStatus {
		echo = StatusNormal
	}
	c.sendClose(echo, "")
	c.nc.Close()
	return ce
}

// validCode reports whether a peer may send code in a close frame.
func validCode(code StatusCode) bool {
	switch {
	case code >= 3000 && code <= 4999:
		return true
	case code < 1000 || code > 1014:
		return false
	}
	return code != 1004 && code != 1005 && code != 1006
}

// inflate decompresses the message in c.msg (RFC 7692 §7.2.2).
func (c *Conn) inflate() error {
	c.msg = append(c.msg, 0x00, 0x00, 0xff, 0xff)
	fr := flateReaders.Get().(io.ReadCloser)
	defer flateReaders.Put(fr)
	fr.(flate.Resetter).Reset(bytes.NewReader(c.msg), nil)
	var out bytes.Buffer
	n, err := io.Copy(&out, io.LimitReader(fr, c.max+1))
	switch {
	case n > c.max:
		return c.fail(StatusTooBig, "message too big")
	case err != nil && !errors.Is(err, io.ErrUnexpectedEOF):
		return c.fail(StatusInvalidPayload, "bad compressed data")
	}
	c.msg = append(c.msg[:0], out.Bytes()...)
	return nil
}

var flateReaders = sync.Pool{New: func() any { return flate.NewReader(bytes.NewReader(nil)) }}

var flateWriters = sync.Pool{New: func() any {
	w, _ := flate.NewWriter(io.Discard, flate.DefaultCompression)
	return w
}}

// minCompress is the smallest message worth compressing.
const minCompress = 128

// WriteMessage sends one message, compressed when permessage-deflate was
// negotiated and p is not tiny.
func (c *Conn) WriteMessage(t MessageType, p []byte) error {
	if t != Text && t != Binary {
		return fmt.Errorf("websocket: bad message type %v", t)
	}
	if c.deflate && len(p) >= minCompress {
		var out bytes.Buffer
		fw := flateWriters.Get().(*flate.Writer)
		fw.Reset(&out)
		fw.Write(p)
		fw.Flush()
		flateWriters.Put(fw)
		return c.writeFrame(byte(t), true, bytes.TrimSuffix(out.Bytes(), []byte{0, 0, 0xff, 0xff}))
	}
	return c.writeFrame(byte(t), false, p)
}

// Ping sends a ping with payload p (at most 125 bytes); ReadMessage
// skips the pong.
func (c *Conn) Ping(p []byte) error {
	if len(p) > 125 {
		return errors.New("websocket: ping payload over 125 bytes")
	}
	return c.writeFrame(opPing, false, p)
}

// ErrClosed is returned for a write after the close frame was sent.
var ErrClosed = errors.New("websocket: connection closed")

// writeFrame sends one final frame.
func (c *Conn) writeFrame(op byte, compressed bool, p []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.closeSent {
		return ErrClosed
	}
	if op == opClose {
		c.closeSent = true
	}
	bp := getBuf()
	b := (*bp)[:0]
	b0 := 0x80 | op
	if compressed {
		b0 |= 0x40
	}
	b = append(b, b0)
	switch n := len(p); {
	case n <= 125:
		b = append(b, byte(n))
	case n <= 0xffff:
		b = append(b, 126, byte(n>>8), byte(n))
	default:
		b = append(b, 127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	b = append(b, p...)
	c.nc.SetWriteDeadline(time.Now().Add(closeTimeout))
	_, err := c.nc.Write(b)
	*bp = b
	putBuf(bp)
	return err
}

// sendClose sends a close frame, once.
func (c *Conn) sendClose(code StatusCode, reason string) error {
	var p [125]byte
	binary.BigEndian.PutUint16(p[:], uint16(code))
	n := 2 + copy(p[2:], reason)
	return c.writeFrame(opClose, false, p[:n])
}

// Close starts the close handshake with code and reason (at most 123
// bytes): it sends the close frame, then, unless a ReadMessage is running
// (which gets the peer's answer and closes the connection), waits up to
// five seconds for the peer's close frame and closes the connection. A
// running ReadMessage also waits at most five seconds from then. On a
// parked connection (see [Conn.Park]) Close returns once the frame is
// sent: a goroutine of the package waits for the answer, closes the
// connection and calls the handler's OnClose. Close may run while Park
// does (if it reads the peer's answer itself, it then has OnClose called).
func (c *Conn) Close(code StatusCode, reason string) error {
	if len(reason) > 123 {
		reason = reason[:123]
	}
	err := c.sendClose(code, reason)
	c.wmu.Lock()
	c.nc.SetReadDeadline(time.Now().Add(closeTimeout))
	parked := c.state.Load() != stateBlocking
	drain := !parked && !c.reading
	if drain {
		c.reading = true // Close reads the answer: a Park now leaves it to Close
	}
	c.wmu.Unlock()
	switch {
	case parked:
		c.wake()
		return ignoreClosed(err)
	case !drain:
		return err
	}
	rerr := c.awaitClose()
	c.wmu.Lock()
	c.reading = false
	parked = c.state.Load() != stateBlocking
	c.wmu.Unlock()
	if parked {
		go c.end(rerr) // on a goroutine of the package, as Handler says
	}
	return ignoreClosed(err)
}

// awaitClose reads until the peer's close frame, which closes the
// connection, and returns what ReadMessage would: a *CloseError, or the
// read error (after which the connection is closed too).
func (c *Conn) awaitClose() error {
	for {
		var ctrl [125]byte
		_, _, op, p, err := c.readFrame(&ctrl)
		switch {
		case err != nil:
			return err
		case op == opClose:
			return c.closeReceived(p)
		}
	}
}

// ignoreClosed maps ErrClosed (a close frame was sent already) to nil.
func ignoreClosed(err error) error {
	if errors.Is(err, ErrClosed) {
		return nil
	}
	return err
}

// setReadDeadline sets the read deadline unless the close frame was sent:
// the deadline Close set then stays.
func (c *Conn) setReadDeadline(t time.Time) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if !c.closeSent {
		c.nc.SetReadDeadline(t)
	}
}

// closing reports whether the close frame was sent.
func (c *Conn) closing() bool {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.closeSent
}
