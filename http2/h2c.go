package http2

import (
	"encoding/base64"
	"errors"
	"strings"
)

// PrefaceMatch is the result of [MatchPreface].
type PrefaceMatch uint8

// The results of MatchPreface.
const (
	// PrefaceNo: the bytes are not the HTTP/2 client preface (HTTP/1).
	PrefaceNo PrefaceMatch = iota
	// PrefacePartial: the bytes are a proper prefix of the preface; read
	// more before deciding.
	PrefacePartial
	// PrefaceYes: the bytes begin with the whole preface (h2c with prior
	// knowledge, RFC 9113 §3.3).
	PrefaceYes
)

func (m PrefaceMatch) String() string {
	switch m {
	case PrefaceNo:
		return "no"
	case PrefacePartial:
		return "partial"
	case PrefaceYes:
		return "yes"
	}
	return "unknown"
}

// MatchPreface tells whether the first bytes b of a cleartext connection
// begin with the HTTP/2 client preface. An HTTP/1 driver calls it on its
// first read; on PrefaceYes it hands the connection, bytes included, to a
// new [ServerConn] (Feed the same bytes). Since "PRI * HTTP/2.0" also parses
// as an HTTP/1 request line, a driver may equally check for method PRI.
func MatchPreface(b []byte) PrefaceMatch {
	n := min(len(b), len(ClientPreface))
	if string(b[:n]) != ClientPreface[:n] {
		return PrefaceNo
	}
	if n < len(ClientPreface) {
		return PrefacePartial
	}
	return PrefaceYes
}

// ErrBadHTTP2Settings is returned by [DecodeHTTP2Settings] for a value that
// is not base64url, not a whole number of settings, or carries an invalid
// setting. The server then answers the request over HTTP/1.1 without
// upgrading (or 400).
var ErrBadHTTP2Settings = errors.New("http2: invalid HTTP2-Settings header")

// maxUpgradeSettings bounds the settings of an HTTP2-Settings header.
const maxUpgradeSettings = 32

// DecodeHTTP2Settings decodes the value of an HTTP2-Settings request header
// (RFC 7540 §3.2.1: the base64url payload of a SETTINGS frame, padding
// optional), appending to dst.
func DecodeHTTP2Settings(dst []Setting, v []byte) ([]Setting, error) {
	for len(v) > 0 && v[len(v)-1] == '=' {
		v = v[:len(v)-1]
	}
	var buf [maxUpgradeSettings * 6]byte
	if base64.RawURLEncoding.DecodedLen(len(v)) > len(buf) {
		return dst, ErrBadHTTP2Settings
	}
	n, err := base64.RawURLEncoding.Decode(buf[:], v)
	if err != nil || n%6 != 0 {
		return dst, ErrBadHTTP2Settings
	}
	for i := range n / 6 {
		s := settingAt(buf[:n], i)
		if s.Valid() != nil {
			return dst, ErrBadHTTP2Settings
		}
		dst = append(dst, s)
	}
	return dst, nil
}

// UpgradeResponse is the answer an HTTP/1.1 driver writes before handing a
// connection to [ServerConn.Upgrade] (RFC 7540 §3.2).
const UpgradeResponse = "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n"

// UpgradeRequest is the HTTP/1.1 request that asked for "Upgrade: h2c":
// it becomes stream 1, half-closed (remote), answered over HTTP/2.
type UpgradeRequest struct {
	Method, Scheme, Authority, Path string // Scheme is "http"; Path includes the query
	// Header holds the request's header fields except the hop-by-hop ones
	// (Connection, Upgrade, HTTP2-Settings, Host, ...); names are
	// lower-cased by Upgrade.
	Header []HeaderField
	// Settings are the decoded HTTP2-Settings ([DecodeHTTP2Settings]).
	Settings []Setting
	// Body is the request body, already read by the HTTP/1 driver (it must
	// be read whole before switching); it is delivered as stream 1's data.
	Body []byte
}

// ErrUpgradeTooLate is returned by [ServerConn.Upgrade] on a connection
// that has already received input or streams.
var ErrUpgradeTooLate = errors.New("http2: upgrade after the connection started")

// Upgrade turns a new ServerConn into the connection of an h2c upgrade
// (RFC 7540 §3.2, kept by the issue although RFC 9113 deprecates it). The
// driver has written [UpgradeResponse] and calls Upgrade before the first
// Feed: r's settings apply as if the client had sent them in a SETTINGS
// frame (no acknowledgement is sent for them), and r becomes stream 1,
// half-closed (remote). OnRequest (and OnData with the body and end) run
// before Upgrade returns, so the handler may answer at once. The client's
// connection preface is expected next in Feed.
func (c *ServerConn) Upgrade(r *UpgradeRequest) error {
	if c.prefaceN != 0 || c.maxClientID != 0 || c.err != nil || c.closed {
		return ErrUpgradeTooLate
	}
	for _, s := range r.Settings {
		if err := c.applyUpgradeSetting(s); err != nil {
			return err
		}
	}
	s := &Stream{ID: 1, Method: r.Method, Scheme: r.Scheme, Authority: r.Authority, Path: r.Path,
		ContentLength: -1}
	if len(r.Body) > 0 {
		s.ContentLength = int64(len(r.Body))
	}
	if len(r.Header) > 0 {
		s.Header = make([]HeaderField, 0, len(r.Header))
		for _, f := range r.Header {
			if connectionSpecific(f.Name) || strings.EqualFold(f.Name, "http2-settings") {
				continue
			}
			if hasUpper(f.Name) {
				f.Name = lower(f.Name)
			}
			s.Header = append(s.Header, f)
		}
	}
	if s.Authority == "" {
		s.Authority = s.HeaderValue("host")
	}
	s.sendWindow = c.peerInitialWindow
	s.recvWindow = int64(c.cfg.InitialWindowSize)
	s.gotEnd = len(r.Body) == 0
	s.received = int64(len(r.Body))
	c.maxClientID = 1
	c.streams[1] = s
	c.h.OnRequest(s)
	if len(r.Body) > 0 && !s.closed {
		c.endRemote(s, r.Body)
	}
	return nil
}

func (c *ServerConn) applyUpgradeSetting(s Setting) error {
	if err := s.Valid(); err != nil {
		return ErrBadHTTP2Settings
	}
	switch s.ID {
	case SettingHeaderTableSize:
		c.enc.SetMaxDynamicTableSizeLimit(s.Val)
	case SettingMaxFrameSize:
		c.peerMaxFrame = s.Val
	case SettingInitialWindowSize:
		c.peerInitialWindow = int64(s.Val)
	}
	return nil
}
