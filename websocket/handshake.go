package websocket

import (
	"bytes"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
)

// Options tune a connection. The zero value (or nil) is valid.
type Options struct {
	// MaxMessageSize bounds a received message, after decompression; a
	// larger one closes the connection with 1009. 0 means 1 MiB.
	MaxMessageSize int64
	// Compression accepts permessage-deflate when the client offers it.
	Compression bool
	// Subprotocols are the subprotocols the server speaks, in preference
	// order; the first the client also offers is chosen.
	Subprotocols []string
	// MessageTimeout bounds, on a parked connection (see [Conn.Park]),
	// the wait for the rest of a message once its first byte arrived; a
	// peer that stalls longer gets a close frame 1008 and the connection
	// is closed. 0 means DefaultMessageTimeout, a negative value no
	// limit. (ReadMessage applies no timeout of its own: set deadlines on
	// NetConn.)
	MessageTimeout time.Duration
}

// DefaultMaxMessageSize is the message size limit when
// Options.MaxMessageSize is 0.
const DefaultMaxMessageSize = 1 << 20

// DefaultMessageTimeout is the time a parked connection's message may
// take to arrive whole when Options.MessageTimeout is 0.
const DefaultMessageTimeout = 30 * time.Second

// registry is the set of hijacked connections of the server a connection
// was accepted from, with which Park registers it so that the server's
// Shutdown calls its GoAway and waits for Untrack. hijacked and registry
// are the types of gibbon's stage.Hijacked and stage.HijackRegistry
// (aliases of the same interface literals).
type (
	hijacked = interface {
		NetConn() net.Conn
		GoAway()
	}
	registry = interface {
		Track(h hijacked)
		Untrack(h hijacked)
	}
)

// tracker is implemented by a Handshake or an http.ResponseWriter of a
// server that can end parked connections at shutdown: *gibbon.Ctx and
// the ResponseWriter of gibbon's HandleHTTP. HijackRegistry may return
// nil.
type tracker interface {
	HijackRegistry() registry
}

// registryOf returns the registry of w or of a ResponseWriter it wraps
// (found through Unwrap, as http.ResponseController does), or nil.
func registryOf(w http.ResponseWriter) registry {
	for {
		switch t := w.(type) {
		case tracker:
			return t.HijackRegistry()
		case interface{ Unwrap() http.ResponseWriter }:
			w = t.Unwrap()
		default:
			return nil
		}
	}
}

// Handshake is the native request an upgrade starts from; *gibbon.Ctx
// implements it.
type Handshake interface {
	Method() string
	Header(name string) []byte
	String(code int, s string) error
	SetHeader(name, value string)
	Hijack() (conn net.Conn, buffered []byte, err error)
}

// ErrHandshake is the error Accept and Upgrade return for a request that
// is not a valid WebSocket upgrade; the client was answered 400 (or 426
// for an unsupported version).
var ErrHandshake = errors.New("websocket: bad handshake")

// Accept upgrades the request of a native handler to a WebSocket
// connection; on error the client was answered and the handler should
// return.
func Accept(h Handshake, opts *Options) (*Conn, error) {
	get := func(name string) string { return string(h.Header(name)) }
	acc, status, msg := check(h.Method(), get, opts)
	if status != 0 {
		if status == 426 {
			h.SetHeader("Sec-WebSocket-Version", "13")
		}
		h.String(status, msg)
		return nil, ErrHandshake
	}
	var reg registry
	if t, ok := h.(tracker); ok {
		reg = t.HijackRegistry()
	}
	conn, buffered, err := h.Hijack()
	if err != nil {
		return nil, err
	}
	return acc.finish(conn, bytes.Clone(buffered), opts, reg)
}

// Upgrade upgrades the request of a net/http handler (over HTTP/1.x, the
// ResponseWriter must implement http.Hijacker); on error the client was
// answered and the handler should return.
func Upgrade(w http.ResponseWriter, r *http.Request, opts *Options) (*Conn, error) {
	acc, status, msg := check(r.Method, r.Header.Get, opts)
	if status != 0 {
		if status == 426 {
			w.Header().Set("Sec-WebSocket-Version", "13")
		}
		http.Error(w, msg, status)
		return nil, ErrHandshake
	}
	conn, rw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return nil, err
	}
	buffered, _ := rw.Reader.Peek(rw.Reader.Buffered())
	return acc.finish(conn, bytes.Clone(buffered), opts, registryOf(w))
}

// acceptance is what the handshake agreed.
type acceptance struct {
	key, protocol string
	deflate       bool
}

// check validates the upgrade request; status is 0 when it is valid.
func check(method string, get func(string) string, opts *Options) (a acceptance, status int, msg string) {
	switch {
	case method != "GET":
		return a, 400, "websocket: the upgrade must be a GET"
	case !hasToken(get("Connection"), "upgrade") || !hasToken(get("Upgrade"), "websocket"):
		return a, 400, "websocket: missing Upgrade: websocket"
	case get("Sec-WebSocket-Version") != "13":
		return a, 426, "websocket: unsupported version"
	}
	a.key = get("Sec-WebSocket-Key")
	if k, err := base64.StdEncoding.DecodeString(a.key); err != nil || len(k) != 16 {
		return a, 400, "websocket: bad Sec-WebSocket-Key"
	}
	if opts != nil {
		for _, p := range opts.Subprotocols {
			if hasToken(get("Sec-WebSocket-Protocol"), strings.ToLower(p)) {
				a.protocol = p
				break
			}
		}
		a.deflate = opts.Compression && acceptDeflate(get("Sec-WebSocket-Extensions"))
	}
	return a, 0, ""
}

// acceptDeflate reports whether one of the offers in the extensions header
// is a permessage-deflate the server can run: any offer whose
// server_max_window_bits, if present, is 15.
func acceptDeflate(ext string) bool {
	for _, offer := range strings.Split(ext, ",") {
		params := strings.Split(offer, ";")
		if strings.TrimSpace(params[0]) != "permessage-deflate" {
			continue
		}
		ok := true
		for _, p := range params[1:] {
			k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
			switch strings.TrimSpace(k) {
			case "server_no_context_takeover", "client_no_context_takeover", "client_max_window_bits":
			case "server_max_window_bits":
				ok = ok && strings.Trim(strings.TrimSpace(v), `"`) == "15"
			default:
				ok = false
			}
		}
		if ok {
			return true
		}
	}
	return false
}

// hasToken reports whether the comma-separated header value v holds token
// (ASCII case-insensitive).
func hasToken(v, token string) bool {
	for _, t := range strings.Split(v, ",") {
		if strings.EqualFold(strings.TrimSpace(t), token) {
			return true
		}
	}
	return false
}

const acceptGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// finish writes the 101 answer on the hijacked connection; buffered holds
// the bytes the client sent after the request, read before the socket,
// and reg is the server's registry for Park, or nil.
func (a acceptance) finish(nc net.Conn, buffered []byte, opts *Options, reg registry) (*Conn, error) {
	sum := sha1.Sum([]byte(a.key + acceptGUID))
	var b strings.Builder
	b.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ")
	b.WriteString(base64.StdEncoding.EncodeToString(sum[:]))
	if a.protocol != "" {
		b.WriteString("\r\nSec-WebSocket-Protocol: " + a.protocol)
	}
	if a.deflate {
		b.WriteString("\r\nSec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; client_no_context_takeover")
	}
	b.WriteString("\r\n\r\n")
	if _, err := io.WriteString(nc, b.String()); err != nil {
		nc.Close()
		return nil, err
	}
	c := &Conn{nc: nc, in: input{nc: nc, pre: buffered}, deflate: a.deflate, protocol: a.protocol,
		max: DefaultMaxMessageSize, wait: DefaultMessageTimeout, reg: reg}
	if opts != nil {
		if opts.MaxMessageSize > 0 {
			c.max = opts.MaxMessageSize
		}
		if opts.MessageTimeout != 0 {
			c.wait = opts.MessageTimeout
		}
	}
	return c, nil
}
