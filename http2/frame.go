package http2

import (
	"encoding/binary"
	"strconv"
)

// FrameType is the type octet of a frame header (RFC 9113 §6).
type FrameType uint8

// The frame types of RFC 9113 §6.
const (
	FrameData         FrameType = 0x0
	FrameHeaders      FrameType = 0x1
	FramePriority     FrameType = 0x2
	FrameRSTStream    FrameType = 0x3
	FrameSettings     FrameType = 0x4
	FramePushPromise  FrameType = 0x5
	FramePing         FrameType = 0x6
	FrameGoAway       FrameType = 0x7
	FrameWindowUpdate FrameType = 0x8
	FrameContinuation FrameType = 0x9
)

var frameTypeNames = [...]string{
	FrameData:         "DATA",
	FrameHeaders:      "HEADERS",
	FramePriority:     "PRIORITY",
	FrameRSTStream:    "RST_STREAM",
	FrameSettings:     "SETTINGS",
	FramePushPromise:  "PUSH_PROMISE",
	FramePing:         "PING",
	FrameGoAway:       "GOAWAY",
	FrameWindowUpdate: "WINDOW_UPDATE",
	FrameContinuation: "CONTINUATION",
}

// String returns the RFC name of the frame type, or "UNKNOWN_FRAME_0x…".
func (t FrameType) String() string {
	if int(t) < len(frameTypeNames) {
		return frameTypeNames[t]
	}
	return "UNKNOWN_FRAME_0x" + strconv.FormatUint(uint64(t), 16)
}

// Flags are the flag bits of a frame header. Their meaning depends on the
// frame type; undefined flags are ignored (RFC 9113 §4.1).
type Flags uint8

// Frame flags (RFC 9113 §6).
const (
	FlagEndStream  Flags = 0x1  // DATA, HEADERS
	FlagAck        Flags = 0x1  // SETTINGS, PING
	FlagEndHeaders Flags = 0x4  // HEADERS, CONTINUATION
	FlagPadded     Flags = 0x8  // DATA, HEADERS
	FlagPriority   Flags = 0x20 // HEADERS
)

// Has reports whether all bits of v are set in f.
func (f Flags) Has(v Flags) bool { return f&v == v }

// FrameHeaderLen is the size of a frame header.
const FrameHeaderLen = 9

// Frame size bounds (RFC 9113 §4.2, §6.5.2).
const (
	MinMaxFrameSize = 1 << 14   // the initial and smallest SETTINGS_MAX_FRAME_SIZE
	MaxMaxFrameSize = 1<<24 - 1 // the largest SETTINGS_MAX_FRAME_SIZE
	MaxWindowSize   = 1<<31 - 1 // the largest flow-control window
	initialWindow   = 65535     // the initial window of RFC 9113 §6.9.2
)

// FrameHeader is a parsed frame header. StreamID has the reserved bit
// cleared.
type FrameHeader struct {
	Length   uint32
	Type     FrameType
	Flags    Flags
	StreamID uint32
}

// ParseFrameHeader parses the first FrameHeaderLen bytes of b. It panics if
// b is shorter; it never fails otherwise (every 9-octet header is
// syntactically valid).
func ParseFrameHeader(b []byte) FrameHeader {
	_ = b[8]
	return FrameHeader{
		Length:   uint32(b[0])<<16 | uint32(b[1])<<8 | uint32(b[2]),
		Type:     FrameType(b[3]),
		Flags:    Flags(b[4]),
		StreamID: binary.BigEndian.Uint32(b[5:]) & (1<<31 - 1),
	}
}

// AppendFrameHeader appends the 9-octet encoding of h to dst.
func AppendFrameHeader(dst []byte, h FrameHeader) []byte {
	return append(dst,
		byte(h.Length>>16), byte(h.Length>>8), byte(h.Length),
		byte(h.Type), byte(h.Flags),
		byte(h.StreamID>>24)&0x7f, byte(h.StreamID>>16), byte(h.StreamID>>8), byte(h.StreamID))
}

// SettingID identifies a SETTINGS parameter (RFC 9113 §6.5.2).
type SettingID uint16

// The settings of RFC 9113 §6.5.2 (and RFC 8441's extended CONNECT).
const (
	SettingHeaderTableSize       SettingID = 0x1
	SettingEnablePush            SettingID = 0x2
	SettingMaxConcurrentStreams  SettingID = 0x3
	SettingInitialWindowSize     SettingID = 0x4
	SettingMaxFrameSize          SettingID = 0x5
	SettingMaxHeaderListSize     SettingID = 0x6
	SettingEnableConnectProtocol SettingID = 0x8
)

// String returns the RFC name of the setting, or "UNKNOWN_SETTING_0x…".
func (s SettingID) String() string {
	switch s {
	case SettingHeaderTableSize:
		return "HEADER_TABLE_SIZE"
	case SettingEnablePush:
		return "ENABLE_PUSH"
	case SettingMaxConcurrentStreams:
		return "MAX_CONCURRENT_STREAMS"
	case SettingInitialWindowSize:
		return "INITIAL_WINDOW_SIZE"
	case SettingMaxFrameSize:
		return "MAX_FRAME_SIZE"
	case SettingMaxHeaderListSize:
		return "MAX_HEADER_LIST_SIZE"
	case SettingEnableConnectProtocol:
		return "ENABLE_CONNECT_PROTOCOL"
	}
	return "UNKNOWN_SETTING_0x" + strconv.FormatUint(uint64(s), 16)
}

// Setting is one SETTINGS parameter.
type Setting struct {
	ID  SettingID
	Val uint32
}

// Valid checks the value of a setting received from a peer and returns
// the connection error RFC 9113 §6.5.2 prescribes, or nil. Unknown settings
// are valid (they are ignored).
func (s Setting) Valid() *ConnError {
	switch s.ID {
	case SettingEnablePush:
		if s.Val > 1 {
			return connErr(ProtocolError, "ENABLE_PUSH not 0 or 1")
		}
	case SettingInitialWindowSize:
		if s.Val > MaxWindowSize {
			return connErr(FlowControlError, "INITIAL_WINDOW_SIZE above 2^31-1")
		}
	case SettingMaxFrameSize:
		if s.Val < MinMaxFrameSize || s.Val > MaxMaxFrameSize {
			return connErr(ProtocolError, "MAX_FRAME_SIZE out of range")
		}
	case SettingEnableConnectProtocol:
		if s.Val > 1 {
			return connErr(ProtocolError, "ENABLE_CONNECT_PROTOCOL not 0 or 1")
		}
	}
	return nil
}

// settingAt returns the i-th setting of a SETTINGS payload.
func settingAt(p []byte, i int) Setting {
	b := p[i*6 : i*6+6]
	return Setting{ID: SettingID(binary.BigEndian.Uint16(b)), Val: binary.BigEndian.Uint32(b[2:])}
}

// The appenders below write whole frames. They are used by ServerConn and
// exported so that drivers, tests and tools can speak a little HTTP/2
// without a framer.

// AppendSettings appends a SETTINGS frame carrying settings.
func AppendSettings(dst []byte, settings ...Setting) []byte {
	dst = AppendFrameHeader(dst, FrameHeader{Length: uint32(6 * len(settings)), Type: FrameSettings})
	for _, s := range settings {
		dst = append(dst, byte(s.ID>>8), byte(s.ID), byte(s.Val>>24), byte(s.Val>>16), byte(s.Val>>8), byte(s.Val))
	}
	return dst
}

// AppendSettingsAck appends a SETTINGS frame with the ACK flag.
func AppendSettingsAck(dst []byte) []byte {
	return AppendFrameHeader(dst, FrameHeader{Type: FrameSettings, Flags: FlagAck})
}

// AppendPing appends a PING frame, an acknowledgement when ack is set.
func AppendPing(dst []byte, ack bool, data [8]byte) []byte {
	var f Flags
	if ack {
		f = FlagAck
	}
	dst = AppendFrameHeader(dst, FrameHeader{Length: 8, Type: FramePing, Flags: f})
	return append(dst, data[:]...)
}

// AppendGoAway appends a GOAWAY frame.
func AppendGoAway(dst []byte, lastStreamID uint32, code ErrCode, debug []byte) []byte {
	dst = AppendFrameHeader(dst, FrameHeader{Length: uint32(8 + len(debug)), Type: FrameGoAway})
	dst = binary.BigEndian.AppendUint32(dst, lastStreamID&(1<<31-1))
	dst = binary.BigEndian.AppendUint32(dst, uint32(code))
	return append(dst, debug...)
}

// AppendRSTStream appends a RST_STREAM frame.
func AppendRSTStream(dst []byte, streamID uint32, code ErrCode) []byte {
	dst = AppendFrameHeader(dst, FrameHeader{Length: 4, Type: FrameRSTStream, StreamID: streamID})
	return binary.BigEndian.AppendUint32(dst, uint32(code))
}

// AppendWindowUpdate appends a WINDOW_UPDATE frame; incr must be in
// 1..2^31-1.
func AppendWindowUpdate(dst []byte, streamID, incr uint32) []byte {
	dst = AppendFrameHeader(dst, FrameHeader{Length: 4, Type: FrameWindowUpdate, StreamID: streamID})
	return binary.BigEndian.AppendUint32(dst, incr&(1<<31-1))
}

// AppendData appends one DATA frame carrying p (len(p) must not exceed the
// peer's SETTINGS_MAX_FRAME_SIZE).
func AppendData(dst []byte, streamID uint32, endStream bool, p []byte) []byte {
	var f Flags
	if endStream {
		f = FlagEndStream
	}
	dst = AppendFrameHeader(dst, FrameHeader{Length: uint32(len(p)), Type: FrameData, Flags: f, StreamID: streamID})
	return append(dst, p...)
}

// AppendHeaderBlock appends a HEADERS frame followed by as many
// CONTINUATION frames as needed to carry the encoded header block, each
// payload at most maxFrame octets.
func AppendHeaderBlock(dst []byte, streamID uint32, endStream bool, block []byte, maxFrame int) []byte {
	typ := FrameHeaders
	var f Flags
	if endStream {
		f = FlagEndStream
	}
	for first := true; first || len(block) > 0; first = false {
		n := min(len(block), maxFrame)
		ff := f
		if n == len(block) {
			ff |= FlagEndHeaders
		}
		dst = AppendFrameHeader(dst, FrameHeader{Length: uint32(n), Type: typ, Flags: ff, StreamID: streamID})
		dst = append(dst, block[:n]...)
		block = block[n:]
		typ, f = FrameContinuation, 0
	}
	return dst
}
