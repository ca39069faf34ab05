package http2

import "time"

// Defaults used when a [Config] field is zero.
const (
	// DefaultMaxConcurrentStreams is the SETTINGS_MAX_CONCURRENT_STREAMS a
	// server advertises (the value RFC 9113 §6.5.2 recommends as a floor).
	DefaultMaxConcurrentStreams = 100
	// DefaultInitialWindowSize is the receive window of each stream
	// (SETTINGS_INITIAL_WINDOW_SIZE): how much request body a client may
	// send ahead of the handler consuming it.
	DefaultInitialWindowSize = 256 << 10
	// DefaultConnWindowSize is the receive window of the connection, shared
	// by all its streams.
	DefaultConnWindowSize = 1 << 20
	// DefaultMaxHeaderListSize bounds a decoded header list (name + value
	// + 32 octets per field, RFC 9113 §6.5.2). A larger request is answered
	// with 431 on its stream.
	DefaultMaxHeaderListSize = 32 << 10
	// DefaultMaxHeaderBlockSize bounds the compressed octets (plus 9 per
	// frame) of one header block, HEADERS and all its CONTINUATIONs. More
	// is a CONTINUATION flood: GOAWAY ENHANCE_YOUR_CALM.
	DefaultMaxHeaderBlockSize = 64 << 10
	// DefaultHeaderTableSize is the HPACK dynamic table size allowed to the
	// client's encoder (SETTINGS_HEADER_TABLE_SIZE); it bounds the memory of
	// the decoder.
	DefaultHeaderTableSize = 4096
	// DefaultMaxControlFrames bounds the control frames (SETTINGS and PING
	// acknowledgements, RST_STREAM) queued in the output while the driver
	// has not written it out: a peer that sends PINGs or SETTINGS but never
	// reads gets GOAWAY ENHANCE_YOUR_CALM.
	DefaultMaxControlFrames = 1000
	// DefaultMaxResets and DefaultResetWindow bound stream resets: more than
	// DefaultMaxResets streams reset by the client (RST_STREAM on an
	// active stream) or by the server because of the client (malformed
	// request, refused stream, flow-control violation) within
	// DefaultResetWindow is the rapid reset attack (CVE-2023-44487): GOAWAY
	// ENHANCE_YOUR_CALM.
	DefaultMaxResets   = 200
	DefaultResetWindow = 10 * time.Second
	// DefaultMaxOutputBuffer bounds how many response body octets
	// [ServerConn.WriteData] copies into the output beyond what the driver
	// has written out.
	DefaultMaxOutputBuffer = 256 << 10
)

// Config holds the limits of a [ServerConn]. The zero value is valid: every
// zero field takes its DefaultXxx value. A Config is read once by
// [NewServerConn]; changing it afterwards has no effect.
type Config struct {
	// MaxConcurrentStreams is advertised as SETTINGS_MAX_CONCURRENT_STREAMS;
	// a stream opened beyond it is refused with RST_STREAM REFUSED_STREAM.
	MaxConcurrentStreams uint32
	// InitialWindowSize is the receive window of each stream, in octets
	// (65535 .. 2^31-1; smaller values are raised to 65535).
	InitialWindowSize uint32
	// ConnWindowSize is the receive window of the connection, in octets
	// (65535 .. 2^31-1).
	ConnWindowSize uint32
	// MaxFrameSize is the largest frame payload accepted, advertised as
	// SETTINGS_MAX_FRAME_SIZE (16384 .. 2^24-1). It also bounds the input
	// buffered for one incomplete frame.
	MaxFrameSize uint32
	// MaxHeaderListSize is advertised as SETTINGS_MAX_HEADER_LIST_SIZE and
	// enforced while decoding.
	MaxHeaderListSize uint32
	// MaxHeaderBlockSize bounds one compressed header block (see
	// DefaultMaxHeaderBlockSize).
	MaxHeaderBlockSize int
	// HeaderTableSize is advertised as SETTINGS_HEADER_TABLE_SIZE.
	HeaderTableSize uint32
	// MaxControlFrames bounds queued, unwritten control frames.
	MaxControlFrames int
	// MaxResets and ResetWindow bound stream resets (see DefaultMaxResets).
	MaxResets   int
	ResetWindow time.Duration
	// MaxOutputBuffer bounds the response body octets queued in the output.
	MaxOutputBuffer int
	// Now is the clock, for the reset window and [ServerConn.BlockedSince];
	// nil means time.Now.
	Now func() time.Time
}

// withDefaults returns c with every zero field set to its default and every
// field clamped to its legal range.
func (c Config) withDefaults() Config {
	if c.MaxConcurrentStreams == 0 {
		c.MaxConcurrentStreams = DefaultMaxConcurrentStreams
	}
	c.InitialWindowSize = clampWindow(c.InitialWindowSize, DefaultInitialWindowSize)
	c.ConnWindowSize = clampWindow(c.ConnWindowSize, DefaultConnWindowSize)
	switch {
	case c.MaxFrameSize == 0:
		c.MaxFrameSize = MinMaxFrameSize
	case c.MaxFrameSize < MinMaxFrameSize:
		c.MaxFrameSize = MinMaxFrameSize
	case c.MaxFrameSize > MaxMaxFrameSize:
		c.MaxFrameSize = MaxMaxFrameSize
	}
	if c.MaxHeaderListSize == 0 {
		c.MaxHeaderListSize = DefaultMaxHeaderListSize
	}
	if c.MaxHeaderBlockSize <= 0 {
		c.MaxHeaderBlockSize = DefaultMaxHeaderBlockSize
	}
	if c.HeaderTableSize == 0 {
		c.HeaderTableSize = DefaultHeaderTableSize
	}
	if c.MaxControlFrames <= 0 {
		c.MaxControlFrames = DefaultMaxControlFrames
	}
	if c.MaxResets <= 0 {
		c.MaxResets = DefaultMaxResets
	}
	if c.ResetWindow <= 0 {
		c.ResetWindow = DefaultResetWindow
	}
	if c.MaxOutputBuffer <= 0 {
		c.MaxOutputBuffer = DefaultMaxOutputBuffer
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

func clampWindow(v, def uint32) uint32 {
	switch {
	case v == 0:
		return def
	case v < initialWindow:
		return initialWindow
	case v > MaxWindowSize:
		return MaxWindowSize
	}
	return v
}
