package http2

import (
	"errors"
	"strconv"
)

// ErrCode is an HTTP/2 error code (RFC 9113 §7), carried by RST_STREAM and
// GOAWAY frames.
type ErrCode uint32

// The error codes of RFC 9113 §7.
const (
	NoError            ErrCode = 0x0
	ProtocolError      ErrCode = 0x1
	InternalError      ErrCode = 0x2
	FlowControlError   ErrCode = 0x3
	SettingsTimeout    ErrCode = 0x4
	StreamClosed       ErrCode = 0x5
	FrameSizeError     ErrCode = 0x6
	RefusedStream      ErrCode = 0x7
	Cancel             ErrCode = 0x8
	CompressionError   ErrCode = 0x9
	ConnectError       ErrCode = 0xa
	EnhanceYourCalm    ErrCode = 0xb
	InadequateSecurity ErrCode = 0xc
	HTTP11Required     ErrCode = 0xd
)

var errCodeNames = [...]string{
	NoError:            "NO_ERROR",
	ProtocolError:      "PROTOCOL_ERROR",
	InternalError:      "INTERNAL_ERROR",
	FlowControlError:   "FLOW_CONTROL_ERROR",
	SettingsTimeout:    "SETTINGS_TIMEOUT",
	StreamClosed:       "STREAM_CLOSED",
	FrameSizeError:     "FRAME_SIZE_ERROR",
	RefusedStream:      "REFUSED_STREAM",
	Cancel:             "CANCEL",
	CompressionError:   "COMPRESSION_ERROR",
	ConnectError:       "CONNECT_ERROR",
	EnhanceYourCalm:    "ENHANCE_YOUR_CALM",
	InadequateSecurity: "INADEQUATE_SECURITY",
	HTTP11Required:     "HTTP_1_1_REQUIRED",
}

// String returns the RFC name of the code, or "ERR_CODE_0x…" for an unknown
// one (unknown codes are legal on the wire and mean INTERNAL_ERROR).
func (c ErrCode) String() string {
	if int(c) < len(errCodeNames) {
		return errCodeNames[c]
	}
	return "ERR_CODE_0x" + strconv.FormatUint(uint64(c), 16)
}

// ConnError is a connection error (RFC 9113 §5.4.1): the connection is
// finished. [ServerConn.Feed] returns it after queueing a GOAWAY frame
// carrying Code; the driver writes the pending output and closes.
type ConnError struct {
	Code   ErrCode
	Reason string // short description for logs; not API
}

func (e *ConnError) Error() string {
	if e.Reason == "" {
		return "http2: connection error: " + e.Code.String()
	}
	return "http2: connection error: " + e.Code.String() + ": " + e.Reason
}

// StreamError is a stream error (RFC 9113 §5.4.2): one stream is reset
// with Code and the connection goes on. ServerConn handles stream errors
// itself (it sends RST_STREAM and reports [Handler.OnClose]); the type is
// exported for tests and logs.
type StreamError struct {
	StreamID uint32
	Code     ErrCode
	Reason   string // short description for logs; not API
}

func (e *StreamError) Error() string {
	s := "http2: stream " + strconv.FormatUint(uint64(e.StreamID), 10) + " error: " + e.Code.String()
	if e.Reason != "" {
		s += ": " + e.Reason
	}
	return s
}

// Errors returned by the write methods of [ServerConn].
var (
	// ErrStreamClosed: the stream is unknown, already closed, or reset.
	ErrStreamClosed = errors.New("http2: stream closed")
	// ErrStreamEnded: the response on the stream was already ended
	// (END_STREAM sent).
	ErrStreamEnded = errors.New("http2: response already ended")
	// ErrHeadersSent: WriteHeaders was called twice with a final status.
	ErrHeadersSent = errors.New("http2: response headers already sent")
	// ErrNoHeaders: WriteData or WriteTrailers before WriteHeaders.
	ErrNoHeaders = errors.New("http2: response headers not sent")
	// ErrConnClosed: the connection had a connection error or is closed.
	ErrConnClosed = errors.New("http2: connection closed")
	// ErrBadStatus: a status outside 100..999, or 101 (not allowed in HTTP/2).
	ErrBadStatus = errors.New("http2: invalid response status")
)

func connErr(code ErrCode, reason string) *ConnError { return &ConnError{Code: code, Reason: reason} }
