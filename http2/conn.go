package http2

import (
	"encoding/binary"
	"errors"
	"time"

	"golang.org/x/net/http2/hpack"
)

// ClientPreface is the connection preface every HTTP/2 client sends first
// (RFC 9113 §3.4), before its SETTINGS frame.
const ClientPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

// maxWriteFrame is the largest DATA payload and header block fragment
// ServerConn writes, whatever larger SETTINGS_MAX_FRAME_SIZE the client
// allows: 16 KiB frames keep streams interleaved and buffers small.
const maxWriteFrame = MinMaxFrameSize

// Handler receives the events of a [ServerConn]. Every method is called on
// the driver goroutine, from inside a ServerConn method (Feed, Advance, a
// write method, Close), and may call ServerConn's methods itself; calls nest
// (an OnClose can run inside the WriteData called by an OnData). A method
// must not block: it hands long work to another goroutine and returns.
type Handler interface {
	// OnRequest is called once per stream when its request header block is
	// complete and valid. s.RequestEnded reports whether a body follows.
	OnRequest(s *Stream)
	// OnData delivers request body octets and, with end set, the end of the
	// request (s.Trailer is set then, if trailers came); p may be empty
	// when end is set. p is a view into the ServerConn's input, valid only
	// during the call. The octets count against the flow-control windows
	// until the driver calls [ServerConn.Consume] for them.
	OnData(s *Stream, p []byte, end bool)
	// OnWritable is called when a stream whose WriteData was cut short may
	// take more data: the windows have opened or the output has drained.
	OnWritable(s *Stream)
	// OnClose is called once for every stream OnRequest was called for,
	// when the stream is closed: code is NoError when both sides ended
	// normally, the RST_STREAM code when either side reset it, or the
	// connection error's code (Cancel when the driver called Close). s must
	// not be used once OnClose returns.
	OnClose(s *Stream, code ErrCode)
}

// closeKind records how a stream was closed, to answer frames that arrive
// for it later (RFC 9113 §5.1 "closed").
type closeKind uint8

const (
	closedUnknown closeKind = iota
	closedNormally
	closedByPeer // RST_STREAM received
	closedByUs   // RST_STREAM sent: late frames are ignored
)

type closedRec struct {
	id   uint32
	kind closeKind
}

const closedRingSize = 128

// blockKind says what a header block in progress will become.
type blockKind uint8

const (
	blockRequest  blockKind = iota + 1 // a new stream
	blockTrailers                      // trailers of an open stream
	blockIgnore                        // decoded for HPACK state, then dropped
	blockRefuse                        // over MAX_CONCURRENT_STREAMS: REFUSED_STREAM
	blockReset                         // a stream error found in the HEADERS frame
)

// headerBlock is the HEADERS + CONTINUATION sequence being received.
type headerBlock struct {
	kind      blockKind
	inBlock   bool // waiting for CONTINUATION
	streamID  uint32
	endStream bool
	errCode   ErrCode // for blockReset
	size      int     // compressed octets plus frame headers so far
	listSize  uint32  // decoded header list size (RFC 9113 §6.5.2)
	tooLarge  bool
	fields    []hpack.HeaderField // reused between blocks
}

// blockBuf is the io.Writer the HPACK encoder appends to.
type blockBuf struct{ b []byte }

func (w *blockBuf) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	return len(p), nil
}

// ServerConn is the server side of one HTTP/2 connection, without I/O: the
// driver feeds it the bytes read from the connection ([ServerConn.Feed]),
// writes out what it produces ([ServerConn.Output], [ServerConn.Advance]),
// and answers requests through the write methods. Events reach the driver
// through its [Handler].
//
// A ServerConn is not safe for concurrent use: one goroutine, the driver,
// makes every call. Handlers running on other goroutines submit their
// writes to the driver (a channel the driver's loop selects on), which
// makes the calls; see the package documentation.
type ServerConn struct {
	h   Handler
	cfg Config

	// input
	in          []byte // an incomplete frame carried between Feed calls
	prefaceN    int    // octets of ClientPreface received
	gotSettings bool   // the client's first frame (SETTINGS) was seen
	err         *ConnError
	closed      bool

	// output
	out        []byte
	outOff     int
	ctrlQueued int // control frames queued since the output last drained
	hbuf       blockBuf
	enc        *hpack.Encoder

	// peer settings
	peerMaxFrame      uint32
	peerInitialWindow int64

	// flow control, connection level
	sendWindow  int64
	recvWindow  int64
	recvUnacked int64

	// streams
	streams     map[uint32]*Stream
	maxClientID uint32
	ring        [closedRingSize]closedRec
	ringPos     int

	// header decoding
	dec           *hpack.Decoder
	hdr           headerBlock
	settingsAcked bool

	// shutdown
	goAwaySent bool
	goAwayLast uint32
	peerGoAway bool

	// rapid reset accounting
	resetStart time.Time
	resets     int

	notifying bool
}

// NewServerConn returns a connection that has queued the server preface
// (SETTINGS and a connection WINDOW_UPDATE) in its output, and expects the
// client preface as its first input. cfg may be nil for the defaults.
func NewServerConn(h Handler, cfg *Config) *ServerConn {
	c := &ServerConn{h: h}
	if cfg != nil {
		c.cfg = *cfg
	}
	c.cfg = c.cfg.withDefaults()
	c.peerMaxFrame = MinMaxFrameSize
	c.peerInitialWindow = initialWindow
	c.sendWindow = initialWindow
	c.recvWindow = int64(c.cfg.ConnWindowSize)
	c.streams = make(map[uint32]*Stream)
	c.enc = hpack.NewEncoder(&c.hbuf)
	c.dec = hpack.NewDecoder(max(c.cfg.HeaderTableSize, DefaultHeaderTableSize), c.onField)
	c.dec.SetMaxStringLength(int(c.cfg.MaxHeaderListSize))

	set := [...]Setting{
		{SettingMaxConcurrentStreams, c.cfg.MaxConcurrentStreams},
		{SettingInitialWindowSize, c.cfg.InitialWindowSize},
		{SettingMaxHeaderListSize, c.cfg.MaxHeaderListSize},
		{SettingMaxFrameSize, c.cfg.MaxFrameSize},
		{SettingHeaderTableSize, c.cfg.HeaderTableSize},
	}
	c.out = AppendSettings(c.out, set[:]...)
	if inc := c.cfg.ConnWindowSize - initialWindow; inc > 0 {
		c.out = AppendWindowUpdate(c.out, 0, inc)
	}
	return c
}

// Feed processes bytes read from the connection. It returns nil, or the
// [*ConnError] that ended the connection: a GOAWAY carrying its code is
// then in the output, which the driver writes before closing. Once Feed has
// failed it returns the same error for ever. p is not retained after Feed
// returns (an incomplete frame is copied).
func (c *ServerConn) Feed(p []byte) error {
	if c.err != nil {
		return c.err
	}
	if c.closed {
		return ErrConnClosed
	}
	if c.prefaceN < len(ClientPreface) {
		n := min(len(p), len(ClientPreface)-c.prefaceN)
		if string(p[:n]) != ClientPreface[c.prefaceN:c.prefaceN+n] {
			return c.fail(connErr(ProtocolError, "invalid connection preface"))
		}
		c.prefaceN += n
		p = p[n:]
	}
	for len(p) > 0 {
		if len(c.in) > 0 {
			var done bool
			if p, done = c.fillPartial(p); !done {
				break
			}
			if err := c.frame(c.in); err != nil {
				return c.fail(err)
			}
			c.in = c.in[:0]
			continue
		}
		n, err := c.frameLen(p)
		if err != nil {
			return c.fail(err)
		}
		if n == 0 || len(p) < n {
			c.in = append(c.in[:0], p...)
			break
		}
		if err := c.frame(p[:n]); err != nil {
			return c.fail(err)
		}
		p = p[n:]
	}
	if c.err != nil {
		return c.err
	}
	if len(c.in) == 0 && cap(c.in) > 64<<10 {
		c.in = nil // an idle connection keeps no large buffer
	}
	return nil
}

// frameLen returns the length of the frame at the start of b, header
// included, or 0 when b does not hold a whole frame header yet.
func (c *ServerConn) frameLen(b []byte) (int, *ConnError) {
	if len(b) < FrameHeaderLen {
		return 0, nil
	}
	n := uint32(b[0])<<16 | uint32(b[1])<<8 | uint32(b[2])
	if n > c.cfg.MaxFrameSize {
		return 0, connErr(FrameSizeError, "frame larger than SETTINGS_MAX_FRAME_SIZE")
	}
	return FrameHeaderLen + int(n), nil
}

// fillPartial moves octets of p into c.in until it holds a whole frame;
// done reports whether it does.
func (c *ServerConn) fillPartial(p []byte) (rest []byte, done bool) {
	if len(c.in) < FrameHeaderLen {
		k := min(FrameHeaderLen-len(c.in), len(p))
		c.in = append(c.in, p[:k]...)
		p = p[k:]
		if len(c.in) < FrameHeaderLen {
			return p, false
		}
	}
	n, err := c.frameLen(c.in)
	if err != nil {
		c.in = c.in[:0]
		c.fail(err)
		return nil, false
	}
	k := min(n-len(c.in), len(p))
	c.in = append(c.in, p[:k]...)
	return p[k:], len(c.in) == n
}

// fail records a connection error, queues its GOAWAY and closes every
// stream. It returns the recorded error.
func (c *ServerConn) fail(e *ConnError) error {
	if c.err != nil {
		return c.err
	}
	c.err = e
	c.out = AppendGoAway(c.out, c.maxClientID, e.Code, nil)
	c.closeAll(e.Code)
	return e
}

func (c *ServerConn) closeAll(code ErrCode) {
	for _, s := range c.streams {
		c.closeStream(s, code, closedByUs)
	}
}

// frame processes one whole frame f (header included).
func (c *ServerConn) frame(f []byte) *ConnError {
	fh := ParseFrameHeader(f)
	p := f[FrameHeaderLen:]
	if !c.gotSettings {
		if fh.Type != FrameSettings {
			return connErr(ProtocolError, "first frame is not SETTINGS")
		}
		c.gotSettings = true
	}
	if c.hdr.inBlock && (fh.Type != FrameContinuation || fh.StreamID != c.hdr.streamID) {
		return connErr(ProtocolError, "header block interrupted")
	}
	switch fh.Type {
	case FrameData:
		return c.onData(fh, p)
	case FrameHeaders:
		return c.onHeaders(fh, p)
	case FramePriority:
		return c.onPriority(fh, p)
	case FrameRSTStream:
		return c.onRSTStream(fh, p)
	case FrameSettings:
		return c.onSettings(fh, p)
	case FramePushPromise:
		return connErr(ProtocolError, "PUSH_PROMISE from a client")
	case FramePing:
		return c.onPing(fh, p)
	case FrameGoAway:
		return c.onGoAway(fh, p)
	case FrameWindowUpdate:
		return c.onWindowUpdate(fh, p)
	case FrameContinuation:
		return c.onContinuation(fh, p)
	}
	return nil // unknown frame types are ignored (RFC 9113 §5.5)
}

// stripPadding returns the payload of a DATA or HEADERS frame without its
// padding.
func stripPadding(fh FrameHeader, p []byte) ([]byte, *ConnError) {
	if !fh.Flags.Has(FlagPadded) {
		return p, nil
	}
	if len(p) == 0 {
		return nil, connErr(FrameSizeError, "padded frame without pad length")
	}
	pad := int(p[0])
	if pad >= len(p) {
		return nil, connErr(ProtocolError, "padding longer than the payload")
	}
	return p[1 : len(p)-pad], nil
}

func (c *ServerConn) onData(fh FrameHeader, p []byte) *ConnError {
	id := fh.StreamID
	if id == 0 {
		return connErr(ProtocolError, "DATA on stream 0")
	}
	data, cerr := stripPadding(fh, p)
	if cerr != nil {
		return cerr
	}
	n := int64(len(p)) // padding counts against the windows too
	if n > c.recvWindow {
		return connErr(FlowControlError, "DATA beyond the connection window")
	}
	c.recvWindow -= n
	s := c.streams[id]
	if s == nil || s.gotEnd {
		c.returnConnCredit(n)
		switch {
		case s != nil:
			return c.streamError(id, StreamClosed)
		case id > c.maxClientID:
			return connErr(ProtocolError, "DATA on an idle stream")
		case c.goAwaySent && id > c.goAwayLast, c.closedKind(id) == closedByUs:
			return nil
		}
		return c.streamError(id, StreamClosed)
	}
	if n > s.recvWindow {
		c.returnConnCredit(n)
		return c.streamError(id, FlowControlError)
	}
	s.recvWindow -= n
	if pad := n - int64(len(data)); pad > 0 {
		c.returnCredit(s, pad)
	}
	s.received += int64(len(data))
	end := fh.Flags.Has(FlagEndStream)
	if s.ContentLength >= 0 && (s.received > s.ContentLength || end && s.received != s.ContentLength) {
		c.returnConnCredit(int64(len(data)))
		return c.streamError(id, ProtocolError)
	}
	s.unconsumed += int64(len(data))
	if end {
		c.endRemote(s, data)
	} else if len(data) > 0 {
		c.h.OnData(s, data, false)
	}
	return nil
}

// endRemote records END_STREAM from the client and reports it.
func (c *ServerConn) endRemote(s *Stream, data []byte) {
	s.gotEnd = true
	s.recvUnacked = 0 // no stream WINDOW_UPDATE is needed any more
	c.h.OnData(s, data, true)
	if s.sentEnd && !s.closed {
		c.closeStream(s, NoError, closedNormally)
	}
}

func (c *ServerConn) onHeaders(fh FrameHeader, p []byte) *ConnError {
	id := fh.StreamID
	if id == 0 {
		return connErr(ProtocolError, "HEADERS on stream 0")
	}
	if id%2 == 0 {
		return connErr(ProtocolError, "HEADERS on an even stream")
	}
	frag, cerr := stripPadding(fh, p)
	if cerr != nil {
		return cerr
	}
	selfDep := false
	if fh.Flags.Has(FlagPriority) {
		if len(frag) < 5 {
			return connErr(FrameSizeError, "HEADERS too short for its priority")
		}
		selfDep = binary.BigEndian.Uint32(frag)&(1<<31-1) == id
		frag = frag[5:]
	}
	end := fh.Flags.Has(FlagEndStream)
	b := &c.hdr
	*b = headerBlock{streamID: id, endStream: end, fields: b.fields[:0]}
	if s := c.streams[id]; s != nil {
		switch {
		case s.gotEnd:
			b.kind, b.errCode = blockReset, StreamClosed
		case !end:
			b.kind, b.errCode = blockReset, ProtocolError // trailers must end the stream
		default:
			b.kind = blockTrailers
		}
	} else if id <= c.maxClientID {
		switch c.closedKind(id) {
		case closedByUs:
			b.kind = blockIgnore
		case closedUnknown:
			if !c.goAwaySent || id <= c.goAwayLast {
				return connErr(ProtocolError, "stream identifier not increasing")
			}
			b.kind = blockIgnore // a stream ignored after our GOAWAY
		default: // closed normally or by the peer's RST_STREAM
			return connErr(StreamClosed, "HEADERS on a closed stream")
		}
	} else {
		c.maxClientID = id
		switch {
		case c.goAwaySent:
			b.kind = blockIgnore
		case len(c.streams) >= int(c.cfg.MaxConcurrentStreams):
			b.kind = blockRefuse
		default:
			b.kind = blockRequest
		}
	}
	if selfDep && b.kind != blockIgnore {
		b.kind, b.errCode = blockReset, ProtocolError
	}
	c.dec.SetEmitEnabled(b.kind == blockRequest || b.kind == blockTrailers)
	return c.headerFragment(fh.Flags.Has(FlagEndHeaders), frag, FrameHeaderLen+len(p))
}

func (c *ServerConn) onContinuation(fh FrameHeader, p []byte) *ConnError {
	if !c.hdr.inBlock {
		return connErr(ProtocolError, "CONTINUATION without a header block")
	}
	return c.headerFragment(fh.Flags.Has(FlagEndHeaders), p, FrameHeaderLen+len(p))
}

// headerFragment decodes one fragment of the header block in progress;
// cost is what the frame counts towards MaxHeaderBlockSize.
func (c *ServerConn) headerFragment(end bool, frag []byte, cost int) *ConnError {
	b := &c.hdr
	b.size += cost
	if b.size > c.cfg.MaxHeaderBlockSize {
		return connErr(EnhanceYourCalm, "header block too large")
	}
	if _, err := c.dec.Write(frag); err != nil {
		if errors.Is(err, hpack.ErrStringLength) {
			return connErr(EnhanceYourCalm, "header field too large")
		}
		return connErr(CompressionError, err.Error())
	}
	b.inBlock = !end
	if !end {
		return nil
	}
	if err := c.dec.Close(); err != nil {
		return connErr(CompressionError, err.Error())
	}
	switch b.kind {
	case blockReset:
		return c.streamError(b.streamID, b.errCode)
	case blockRefuse:
		return c.streamError(b.streamID, RefusedStream)
	case blockTrailers:
		return c.endTrailers()
	case blockRequest:
		return c.startRequest()
	}
	return nil
}

// onField is the HPACK decoder's emit function.
func (c *ServerConn) onField(f hpack.HeaderField) {
	b := &c.hdr
	b.listSize += uint32(len(f.Name) + len(f.Value) + 32)
	if b.listSize > c.cfg.MaxHeaderListSize {
		b.tooLarge = true
		c.dec.SetEmitEnabled(false)
		return
	}
	b.fields = append(b.fields, f)
}

// startRequest opens the stream of a complete request header block.
func (c *ServerConn) startRequest() *ConnError {
	b := &c.hdr
	if b.tooLarge {
		return c.reject431(b.streamID, b.endStream)
	}
	s := &Stream{ID: b.streamID, ContentLength: -1}
	if !parseRequest(s, b.fields) || b.endStream && s.ContentLength > 0 {
		return c.streamError(s.ID, ProtocolError)
	}
	s.sendWindow = c.peerInitialWindow
	s.recvWindow = int64(c.cfg.InitialWindowSize)
	s.gotEnd = b.endStream
	c.streams[s.ID] = s
	c.h.OnRequest(s)
	return nil
}

// endTrailers completes a request with its trailers.
func (c *ServerConn) endTrailers() *ConnError {
	b := &c.hdr
	s := c.streams[b.streamID]
	if s == nil || s.gotEnd {
		return nil // reset by the driver meanwhile
	}
	if b.tooLarge || !parseTrailers(s, b.fields) ||
		s.ContentLength >= 0 && s.received != s.ContentLength {
		return c.streamError(s.ID, ProtocolError)
	}
	c.endRemote(s, nil)
	return nil
}

// reject431 answers a request whose header list is over
// MaxHeaderListSize with 431 and forgets the stream.
func (c *ServerConn) reject431(id uint32, endStream bool) *ConnError {
	c.hbuf.b = c.hbuf.b[:0]
	c.enc.WriteField(hpack.HeaderField{Name: ":status", Value: "431"})
	c.enc.WriteField(hpack.HeaderField{Name: "content-length", Value: "0"})
	c.out = AppendHeaderBlock(c.out, id, true, c.hbuf.b, int(min(c.peerMaxFrame, maxWriteFrame)))
	if endStream {
		c.recordClosed(id, closedNormally)
		return c.queueControl()
	}
	return c.streamError(id, NoError)
}

func (c *ServerConn) onPriority(fh FrameHeader, p []byte) *ConnError {
	if fh.StreamID == 0 {
		return connErr(ProtocolError, "PRIORITY on stream 0")
	}
	if len(p) != 5 {
		return c.streamError(fh.StreamID, FrameSizeError)
	}
	if binary.BigEndian.Uint32(p)&(1<<31-1) == fh.StreamID {
		return c.streamError(fh.StreamID, ProtocolError)
	}
	return nil // priorities are parsed but not used (RFC 9113 §5.3.2)
}

func (c *ServerConn) onRSTStream(fh FrameHeader, p []byte) *ConnError {
	id := fh.StreamID
	if id == 0 {
		return connErr(ProtocolError, "RST_STREAM on stream 0")
	}
	if len(p) != 4 {
		return connErr(FrameSizeError, "RST_STREAM length not 4")
	}
	if id > c.maxClientID {
		return connErr(ProtocolError, "RST_STREAM on an idle stream")
	}
	s := c.streams[id]
	if s == nil {
		return nil
	}
	c.closeStream(s, ErrCode(binary.BigEndian.Uint32(p)), closedByPeer)
	return c.countReset()
}

func (c *ServerConn) onSettings(fh FrameHeader, p []byte) *ConnError {
	if fh.StreamID != 0 {
		return connErr(ProtocolError, "SETTINGS on a stream")
	}
	if fh.Flags.Has(FlagAck) {
		if len(p) != 0 {
			return connErr(FrameSizeError, "SETTINGS ACK with a payload")
		}
		if !c.settingsAcked {
			c.settingsAcked = true
			c.dec.SetAllowedMaxDynamicTableSize(c.cfg.HeaderTableSize)
		}
		return nil
	}
	if len(p)%6 != 0 {
		return connErr(FrameSizeError, "SETTINGS length not a multiple of 6")
	}
	grew := false
	for i := range len(p) / 6 {
		s := settingAt(p, i)
		if err := s.Valid(); err != nil {
			return err
		}
		switch s.ID {
		case SettingHeaderTableSize:
			c.enc.SetMaxDynamicTableSizeLimit(s.Val)
		case SettingMaxFrameSize:
			c.peerMaxFrame = s.Val
		case SettingInitialWindowSize:
			delta := int64(s.Val) - c.peerInitialWindow
			c.peerInitialWindow = int64(s.Val)
			for _, st := range c.streams {
				st.sendWindow += delta
				if st.sendWindow > MaxWindowSize {
					return connErr(FlowControlError, "INITIAL_WINDOW_SIZE overflows a stream window")
				}
			}
			grew = grew || delta > 0
		}
	}
	if err := c.queueControl(); err != nil {
		return err
	}
	c.out = AppendSettingsAck(c.out)
	if grew {
		c.notifyWritable()
	}
	return nil
}

func (c *ServerConn) onPing(fh FrameHeader, p []byte) *ConnError {
	if fh.StreamID != 0 {
		return connErr(ProtocolError, "PING on a stream")
	}
	if len(p) != 8 {
		return connErr(FrameSizeError, "PING length not 8")
	}
	if fh.Flags.Has(FlagAck) {
		return nil
	}
	if err := c.queueControl(); err != nil {
		return err
	}
	c.out = AppendPing(c.out, true, [8]byte(p))
	return nil
}

func (c *ServerConn) onGoAway(fh FrameHeader, p []byte) *ConnError {
	if fh.StreamID != 0 {
		return connErr(ProtocolError, "GOAWAY on a stream")
	}
	if len(p) < 8 {
		return connErr(FrameSizeError, "GOAWAY shorter than 8")
	}
	c.peerGoAway = true
	return nil
}

func (c *ServerConn) onWindowUpdate(fh FrameHeader, p []byte) *ConnError {
	if len(p) != 4 {
		return connErr(FrameSizeError, "WINDOW_UPDATE length not 4")
	}
	inc := int64(binary.BigEndian.Uint32(p) & (1<<31 - 1))
	id := fh.StreamID
	if id == 0 {
		if inc == 0 {
			return connErr(ProtocolError, "WINDOW_UPDATE increment 0")
		}
		c.sendWindow += inc
		if c.sendWindow > MaxWindowSize {
			return connErr(FlowControlError, "connection window above 2^31-1")
		}
		c.notifyWritable()
		return nil
	}
	s := c.streams[id]
	if s == nil {
		if id > c.maxClientID {
			return connErr(ProtocolError, "WINDOW_UPDATE on an idle stream")
		}
		return nil
	}
	if inc == 0 {
		return c.streamError(id, ProtocolError)
	}
	s.sendWindow += inc
	if s.sendWindow > MaxWindowSize {
		return c.streamError(id, FlowControlError)
	}
	c.notifyWritable()
	return nil
}

// streamError resets stream id with code because of the client (RFC 9113
// §5.4.2) and counts the reset towards the rapid-reset limit.
func (c *ServerConn) streamError(id uint32, code ErrCode) *ConnError {
	if err := c.queueControl(); err != nil {
		return err
	}
	c.out = AppendRSTStream(c.out, id, code)
	if s := c.streams[id]; s != nil {
		c.closeStream(s, code, closedByUs)
	} else {
		c.recordClosed(id, closedByUs)
	}
	if code == NoError {
		return nil
	}
	return c.countReset()
}

// closeStream forgets s, returns its unconsumed octets to the connection
// window and reports OnClose.
func (c *ServerConn) closeStream(s *Stream, code ErrCode, kind closeKind) {
	if s.closed {
		return
	}
	s.closed = true
	s.wantWrite = false
	delete(c.streams, s.ID)
	c.recordClosed(s.ID, kind)
	if s.unconsumed > 0 {
		c.returnConnCredit(s.unconsumed)
		s.unconsumed = 0
	}
	c.h.OnClose(s, code)
}

func (c *ServerConn) recordClosed(id uint32, k closeKind) {
	c.ring[c.ringPos] = closedRec{id, k}
	c.ringPos = (c.ringPos + 1) % closedRingSize
}

// closedKind tells how stream id was closed, if it was closed recently.
func (c *ServerConn) closedKind(id uint32) closeKind {
	for i := range c.ring {
		if c.ring[i].id == id {
			return c.ring[i].kind
		}
	}
	return closedUnknown
}

// queueControl counts a control frame about to be queued in answer to the
// client, failing once too many wait unwritten.
func (c *ServerConn) queueControl() *ConnError {
	c.ctrlQueued++
	if c.ctrlQueued > c.cfg.MaxControlFrames {
		return connErr(EnhanceYourCalm, "too many queued control frames")
	}
	return nil
}

// countReset counts a stream reset caused by the client.
func (c *ServerConn) countReset() *ConnError {
	now := c.cfg.Now()
	if c.resetStart.IsZero() || now.Sub(c.resetStart) >= c.cfg.ResetWindow {
		c.resetStart, c.resets = now, 0
	}
	c.resets++
	if c.resets > c.cfg.MaxResets {
		return connErr(EnhanceYourCalm, "too many stream resets")
	}
	return nil
}

// returnConnCredit gives n consumed octets back to the connection window,
// sending WINDOW_UPDATE once half the window is owed.
func (c *ServerConn) returnConnCredit(n int64) {
	c.recvUnacked += n
	if c.err != nil || c.recvUnacked < int64(c.cfg.ConnWindowSize/2) {
		return
	}
	c.out = AppendWindowUpdate(c.out, 0, uint32(c.recvUnacked))
	c.recvWindow += c.recvUnacked
	c.recvUnacked = 0
}

// returnCredit gives n consumed octets of s back to both windows.
func (c *ServerConn) returnCredit(s *Stream, n int64) {
	c.returnConnCredit(n)
	if s.gotEnd || s.closed {
		return
	}
	s.recvUnacked += n
	if s.recvUnacked < int64(c.cfg.InitialWindowSize/2) {
		return
	}
	c.out = AppendWindowUpdate(c.out, s.ID, uint32(s.recvUnacked))
	s.recvWindow += s.recvUnacked
	s.recvUnacked = 0
}

// notifyWritable calls OnWritable for the streams waiting to write that
// now can.
func (c *ServerConn) notifyWritable() {
	if c.notifying || c.err != nil {
		return
	}
	c.notifying = true
	defer func() { c.notifying = false }()
	for _, s := range c.streams {
		if s.wantWrite && c.canSend(s) {
			s.wantWrite = false
			s.blockedSince = time.Time{}
			c.h.OnWritable(s)
		}
	}
}

func (c *ServerConn) canSend(s *Stream) bool {
	return c.sendWindow > 0 && s.sendWindow > 0 && c.outRoom() > 0
}

func (c *ServerConn) outRoom() int { return c.cfg.MaxOutputBuffer - (len(c.out) - c.outOff) }
