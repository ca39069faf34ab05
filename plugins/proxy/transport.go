package proxy

import (
	"context"
	"errors"
	"net"
	"net/http"
	"time"
)

// newTransport returns the connection pool of one server: net/http's
// Transport restricted to that server's address, with the pool's connect
// and idle timeouts and at most MaxIdleConns idle keep-alive connections.
// The response-header timeout is the handler's (it also covers h2c).
// A proto=h2c server gets an HTTP/2 transport with prior knowledge over
// plain TCP (one multiplexed connection).
func (pl *pool) newTransport(s *server) *http.Transport {
	d := &net.Dialer{Timeout: pl.connectTimeout, KeepAlive: 30 * time.Second}
	t := &http.Transport{
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			c, err := d.DialContext(ctx, network, s.addr)
			if err != nil {
				return nil, &dialError{err}
			}
			return c, nil
		},
		Proxy:               nil,
		MaxIdleConns:        pl.maxIdle,
		MaxIdleConnsPerHost: pl.maxIdle,
		IdleConnTimeout:     pl.idleTimeout,
		DisableCompression:  true,
		ForceAttemptHTTP2:   false,
		WriteBufferSize:     32 << 10,
		ReadBufferSize:      32 << 10,
	}
	if pl.maxIdle == 0 {
		t.DisableKeepAlives = true
	}
	if s.h2c {
		t.Protocols = new(http.Protocols)
		t.Protocols.SetUnencryptedHTTP2(true)
	}
	return t
}

// dialError marks a failure to connect: nothing was sent, so the request
// may be retried on another server.
type dialError struct{ err error }

func (e *dialError) Error() string { return "connect: " + e.err.Error() }
func (e *dialError) Unwrap() error { return e.err }

func isDialError(err error) bool {
	var de *dialError
	return errors.As(err, &de)
}

// Errors of the handler, with the status it answers.
var (
	errWantUpstream = errors.New("want Match <regex> proxy <upstream-name>")
	// ErrNoServer: every server of the upstream is down (503).
	ErrNoServer = errors.New("proxy: no server available")
	// ErrResponseTimeout: the server sent no response head within
	// ResponseTimeout (504).
	ErrResponseTimeout = errors.New("proxy: response timeout")
	// ErrUpgrade: the server switched protocols but the client connection
	// cannot be handed over (502).
	ErrUpgrade = errors.New("proxy: upgrade not possible on this connection")
)

type unknownUpstreamError struct {
	name  string
	known []string
}

func (e *unknownUpstreamError) Error() string {
	return "no [UPSTREAM] named " + e.name + " in proxy.conf (known: " + joinNames(e.known) + ")"
}

func joinNames(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	s := names[0]
	for _, n := range names[1:] {
		s += ", " + n
	}
	return s
}
