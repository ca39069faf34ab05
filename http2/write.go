package http2

import (
	"strconv"
	"time"

	"golang.org/x/net/http2/hpack"
)

// Output returns the bytes waiting to be written to the connection. The
// driver writes a prefix of them and reports it with [ServerConn.Advance].
// The slice is valid until the next call of any ServerConn method.
func (c *ServerConn) Output() []byte { return c.out[c.outOff:] }

// Advance drops the first n bytes of Output, which the driver has written.
// Freeing output room may call [Handler.OnWritable].
func (c *ServerConn) Advance(n int) {
	c.outOff += n
	switch {
	case c.outOff >= len(c.out):
		c.out, c.outOff, c.ctrlQueued = c.out[:0], 0, 0
		if cap(c.out) > 64<<10 && len(c.streams) == 0 {
			c.out = nil // an idle connection keeps no large buffer
		}
	case c.outOff > cap(c.out)/2:
		k := copy(c.out, c.out[c.outOff:])
		c.out, c.outOff = c.out[:k], 0
	}
	c.notifyWritable()
}

// Done reports whether the connection is finished: after a connection
// error, after Close, or after Shutdown once no stream is left. The driver
// then writes the remaining Output and closes (a lingering close, shutting
// down the write side and draining input briefly, avoids a TCP reset that
// could destroy the GOAWAY). A GOAWAY from the client does not make Done
// true: the client closes, or the driver's idle timeout does;
// [ServerConn.PeerGoAway] reports it.
func (c *ServerConn) Done() bool {
	return c.err != nil || c.closed || c.goAwaySent && len(c.streams) == 0 && !c.hdr.inBlock
}

// PeerGoAway reports whether the client has sent GOAWAY.
func (c *ServerConn) PeerGoAway() bool { return c.peerGoAway }

// Err returns the connection error that ended the connection, or nil.
func (c *ServerConn) Err() error {
	if c.err == nil {
		return nil
	}
	return c.err
}

// ActiveStreams returns the number of streams not yet closed.
func (c *ServerConn) ActiveStreams() int { return len(c.streams) }

// Stream returns the open stream id, or nil.
func (c *ServerConn) Stream(id uint32) *Stream { return c.streams[id] }

// Idle reports whether no stream is open and no header block is in
// progress: the state in which a keep-alive timeout applies.
func (c *ServerConn) Idle() bool { return len(c.streams) == 0 && !c.hdr.inBlock }

// BlockedSince returns the earliest time at which a stream that still has
// data to write was stopped by a zero flow-control window (its WriteData
// accepted less than it was given and no OnWritable followed), or the zero
// time if none is. A driver closes the connection (or resets the stream)
// when this is older than its write timeout: a client that never opens its
// window must not hold the stream for ever. [Stream.BlockedSince] tells
// one stream's, for a driver whose limit differs per stream.
func (c *ServerConn) BlockedSince() time.Time {
	var t time.Time
	for _, s := range c.streams {
		if !s.blockedSince.IsZero() && (t.IsZero() || s.blockedSince.Before(t)) {
			t = s.blockedSince
		}
	}
	return t
}

// writable returns the open stream id the server may still write on.
func (c *ServerConn) writable(id uint32) (*Stream, error) {
	if c.err != nil || c.closed {
		return nil, ErrConnClosed
	}
	s := c.streams[id]
	switch {
	case s == nil:
		return nil, ErrStreamClosed
	case s.sentEnd:
		return nil, ErrStreamEnded
	}
	return s, nil
}

// WriteHeaders sends the response header block of stream id: :status, then
// headers in order. Connection-specific fields (Connection, Keep-Alive,
// Proxy-Connection, Transfer-Encoding, Upgrade) are dropped and names are
// lower-cased. A status in 100..199 sends an interim response (it cannot
// end the stream); any other may be sent once. endStream ends the response
// (HEAD, 204, 304 or an empty body). headers is not retained.
func (c *ServerConn) WriteHeaders(id uint32, status int, headers []HeaderField, endStream bool) error {
	s, err := c.writable(id)
	if err != nil {
		return err
	}
	interim := status >= 100 && status < 200
	switch {
	case status < 100 || status > 999 || status == 101 || interim && endStream:
		return ErrBadStatus
	case s.wroteHeaders:
		return ErrHeadersSent
	}
	c.hbuf.b = c.hbuf.b[:0]
	c.enc.WriteField(hpack.HeaderField{Name: ":status", Value: statusValue(status)})
	c.encodeFields(headers)
	if !interim {
		s.wroteHeaders = true
	}
	c.out = AppendHeaderBlock(c.out, id, endStream, c.hbuf.b, int(min(c.peerMaxFrame, maxWriteFrame)))
	if endStream {
		c.endLocal(s)
	}
	return nil
}

// WriteTrailers sends the response trailers of stream id, which ends the
// response. Pseudo-header fields are dropped.
func (c *ServerConn) WriteTrailers(id uint32, trailers []HeaderField) error {
	s, err := c.writable(id)
	if err != nil {
		return err
	}
	if !s.wroteHeaders {
		return ErrNoHeaders
	}
	c.hbuf.b = c.hbuf.b[:0]
	c.encodeFields(trailers)
	c.out = AppendHeaderBlock(c.out, id, true, c.hbuf.b, int(min(c.peerMaxFrame, maxWriteFrame)))
	c.endLocal(s)
	return nil
}

func (c *ServerConn) encodeFields(fields []HeaderField) {
	for _, f := range fields {
		if f.Name == "" || f.Name[0] == ':' || connectionSpecific(f.Name) {
			continue
		}
		name := f.Name
		if hasUpper(name) {
			name = lower(name)
		}
		c.enc.WriteField(hpack.HeaderField{Name: name, Value: f.Value})
	}
}

// WriteData sends up to len(p) octets of the response body of stream id
// and returns how many it took, n. It takes as much as the flow-control
// windows and the output room allow, in DATA frames of at most 16 KiB.
// endStream ends the response when all of p was taken (an empty p with
// endStream sends an empty DATA frame with END_STREAM). When n < len(p)
// the stream is blocked: the driver keeps p[n:] and calls WriteData again
// after [Handler.OnWritable] for the stream. p is not retained.
func (c *ServerConn) WriteData(id uint32, p []byte, endStream bool) (int, error) {
	s, err := c.writable(id)
	if err != nil {
		return 0, err
	}
	if !s.wroteHeaders {
		return 0, ErrNoHeaders
	}
	n := 0
	for n < len(p) {
		k := min(int64(len(p)-n), c.sendWindow, s.sendWindow, int64(c.outRoom()), maxWriteFrame)
		if k <= 0 {
			break
		}
		last := n+int(k) == len(p)
		c.out = AppendData(c.out, id, last && endStream, p[n:n+int(k)])
		c.sendWindow -= k
		s.sendWindow -= k
		n += int(k)
	}
	if n < len(p) {
		s.wantWrite = true
		if (c.sendWindow <= 0 || s.sendWindow <= 0) && s.blockedSince.IsZero() {
			s.blockedSince = c.cfg.Now()
		}
		return n, nil
	}
	s.wantWrite = false
	s.blockedSince = time.Time{}
	if endStream {
		if len(p) == 0 {
			c.out = AppendData(c.out, id, true, nil)
		}
		c.endLocal(s)
	}
	return n, nil
}

// endLocal records END_STREAM sent on s.
func (c *ServerConn) endLocal(s *Stream) {
	s.sentEnd = true
	s.wantWrite = false
	s.blockedSince = time.Time{}
	if s.gotEnd && !s.closed {
		c.closeStream(s, NoError, closedNormally)
	}
}

// Reset resets stream id with code (RST_STREAM) and closes it; OnClose
// follows at once. Use Cancel to abandon a response, NoError to stop a
// request body that is no longer needed after a complete response
// (RFC 9113 §8.1). Resetting a closed stream does nothing.
func (c *ServerConn) Reset(id uint32, code ErrCode) {
	if c.err != nil || c.closed {
		return
	}
	s := c.streams[id]
	if s == nil {
		return
	}
	c.out = AppendRSTStream(c.out, id, code)
	s.sentEnd = true
	c.closeStream(s, code, closedByUs)
}

// Consume returns n octets of request body of stream id, delivered by
// OnData, to the flow-control windows: the driver calls it once the body
// has been consumed (at once for a handler that buffers, or as a handler
// reads). Octets delivered to a stream that has since closed are returned
// automatically; Consume on a closed stream does nothing.
func (c *ServerConn) Consume(id uint32, n int) {
	s := c.streams[id]
	if s == nil || n <= 0 || c.err != nil {
		return
	}
	k := min(int64(n), s.unconsumed)
	s.unconsumed -= k
	c.returnCredit(s, k)
}

// Shutdown starts a graceful shutdown: it sends GOAWAY(NO_ERROR) naming
// the highest stream received; streams up to it finish, later ones are
// ignored (the client retries them elsewhere). Done reports true once the
// last stream has closed. Calling Shutdown again does nothing.
func (c *ServerConn) Shutdown() {
	if c.err != nil || c.closed || c.goAwaySent {
		return
	}
	c.goAwaySent = true
	c.goAwayLast = c.maxClientID
	c.out = AppendGoAway(c.out, c.goAwayLast, NoError, nil)
}

// Close ends the connection without a word to the client, as after a read
// error, EOF or a timeout: every open stream gets OnClose with Cancel. The
// output is left as it is; later calls fail with ErrConnClosed.
func (c *ServerConn) Close() {
	if c.closed {
		return
	}
	c.closed = true
	if c.err == nil {
		c.closeAll(Cancel)
	}
}

// statusValue returns the :status value of status.
func statusValue(status int) string {
	switch status {
	case 200:
		return "200"
	case 204:
		return "204"
	case 206:
		return "206"
	case 301:
		return "301"
	case 302:
		return "302"
	case 304:
		return "304"
	case 400:
		return "400"
	case 403:
		return "403"
	case 404:
		return "404"
	case 500:
		return "500"
	}
	return strconv.Itoa(status)
}
