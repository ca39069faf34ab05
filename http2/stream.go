package http2

import "time"

// StreamState is the state of a stream (RFC 9113 §5.1). A server stream
// moves
//
//	idle → open                  (HEADERS received)
//	idle → half-closed (remote)  (HEADERS with END_STREAM received)
//	open → half-closed (remote)  (END_STREAM received)
//	open → half-closed (local)   (END_STREAM sent)
//	half-closed (*) → closed     (END_STREAM on the other side)
//	any → closed                 (RST_STREAM sent or received)
//
// Idle streams have no [Stream] value; closed ones are forgotten (a short
// record of recent closures remains to answer late frames per RFC).
type StreamState uint8

// The stream states.
const (
	StateIdle StreamState = iota
	StateOpen
	StateHalfClosedLocal
	StateHalfClosedRemote
	StateClosed
)

func (s StreamState) String() string {
	switch s {
	case StateIdle:
		return "idle"
	case StateOpen:
		return "open"
	case StateHalfClosedLocal:
		return "half-closed (local)"
	case StateHalfClosedRemote:
		return "half-closed (remote)"
	case StateClosed:
		return "closed"
	}
	return "unknown"
}

// HeaderField is one header field. Names of received fields are lower-case
// (HTTP/2 forbids upper case); names given to the write methods are
// lower-cased when needed.
type HeaderField struct {
	Name, Value string
}

// Stream is one request/response exchange.
//
// The exported fields are set before [Handler.OnRequest] and not changed
// afterwards, except Trailer, which is set before the final
// [Handler.OnData] call (the one with end set). They are immutable strings
// the handler may keep. A Stream is owned by its [ServerConn]: its methods
// and fields may be read on the driver goroutine only, and the value must
// not be used after [Handler.OnClose] for it returns (pass the ID to
// other goroutines instead).
type Stream struct {
	ID uint32

	// The request pseudo-header fields. Path is :path as sent, query
	// included (empty for CONNECT); Authority is :authority, or the Host
	// header when :authority is absent.
	Method, Scheme, Authority, Path string
	// Header holds the regular request header fields in order, duplicates
	// included, names lower-case.
	Header []HeaderField
	// Trailer holds the request trailer fields, if any. A request that
	// announced trailers ("trailer" field) and sends one a trailer must
	// not carry (host, content-length, authorization, an "if-"
	// precondition … as x/net/http2's server lists them) is malformed: a
	// stream error. Without the announcement such fields are dropped.
	Trailer []HeaderField
	// ContentLength is the content-length header value, -1 if absent. The
	// DATA received is checked against it (RFC 9113 §8.1.1).
	ContentLength int64

	// owned by the ServerConn
	gotEnd       bool  // END_STREAM received
	sentEnd      bool  // END_STREAM (or RST_STREAM) sent
	closed       bool  // removed from the connection
	sendWindow   int64 // may go negative after SETTINGS_INITIAL_WINDOW_SIZE shrinks
	recvWindow   int64 // octets the client may still send on this stream
	recvUnacked  int64 // consumed octets not yet returned by WINDOW_UPDATE
	unconsumed   int64 // delivered octets the handler has not consumed yet
	received     int64 // DATA octets received (for content-length)
	wroteHeaders bool  // final response headers sent
	wantWrite    bool  // a WriteData was cut short; OnWritable pending
	blockedSince time.Time
}

// State returns the stream's state.
func (s *Stream) State() StreamState {
	switch {
	case s.closed || s.gotEnd && s.sentEnd:
		return StateClosed
	case s.gotEnd:
		return StateHalfClosedRemote
	case s.sentEnd:
		return StateHalfClosedLocal
	}
	return StateOpen
}

// RequestEnded reports whether the whole request has been received
// (END_STREAM from the client): true in OnRequest for a request without a
// body, and in the OnData call with end set.
func (s *Stream) RequestEnded() bool { return s.gotEnd }

// ResponseEnded reports whether the response has been ended (END_STREAM
// or RST_STREAM sent).
func (s *Stream) ResponseEnded() bool { return s.sentEnd || s.closed }

// BlockedSince returns the time since which the stream, which still has
// data to write, has been stopped by a zero flow-control window or a full
// output, or the zero time if it is not ([ServerConn.BlockedSince] is the
// earliest over the connection's streams).
func (s *Stream) BlockedSince() time.Time { return s.blockedSince }

// Received returns the number of request body octets received so far.
func (s *Stream) Received() int64 { return s.received }

// HeaderValue returns the value of the first regular header field named name
// (lower-case), or "" when absent.
func (s *Stream) HeaderValue(name string) string {
	for i := range s.Header {
		if s.Header[i].Name == name {
			return s.Header[i].Value
		}
	}
	return ""
}
