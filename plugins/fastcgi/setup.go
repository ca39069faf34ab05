package fastcgi

import (
	"errors"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"gibbon/config"
	"gibbon/plugins/internal/cgistage"
	"gibbon/stage"
)

func init() { stage.Register("fastcgi", func() stage.Plugin { return new(FastCGI) }) }

// Defaults of the [FASTCGI_SERVER] keys.
const (
	DefaultMaxConnections = 16
	DefaultConnectTimeout = 5 * time.Second
	DefaultReadTimeout    = 60 * time.Second
	DefaultQueueTimeout   = 10 * time.Second
)

// Decode reads the [FASTCGI_SERVER] sections of
// plugins/fastcgi/fastcgi.conf (or plugins/fastcgi.conf):
//
//	ServerName     <name>         names the backend in Match rules (required, unique)
//	ServerAddr     <host:port>    a TCP backend, or
//	ServerPath     </unix.sock>   a unix socket backend (one of the two)
//	MaxConnections <n>            connections in use at once (default 16), fewer while the backend takes fewer (doc.go)
//	KeepAlive      on|off         FCGI_KEEP_CONN: reuse connections (default on)
//	MaxRequests    <n>            requests per connection, 0 = no limit (default 0)
//	ConnectTimeout <seconds>      dialing bound, then 504 (default 5)
//	ReadTimeout    <seconds>      longest silence of the backend, then 504 (default 60)
//	QueueTimeout   <seconds>      wait for a free connection slot, then 503 (default 10)
//	Extensions     <.ext ...>     what a script's name may end with (default .php)
//
// A time is whole seconds or a Go duration ("500ms").
func (f *FastCGI) Decode(pc *stage.PluginConfig) error {
	for _, sec := range pc.Sections {
		if sec.Name != "FASTCGI_SERVER" {
			return &config.Error{File: sec.File, Line: sec.Line, Key: "[" + sec.Name + "]", Msg: "unknown section (want [FASTCGI_SERVER])"}
		}
		b, err := decodeServer(sec)
		if err != nil {
			return err
		}
		for _, o := range f.backends {
			if strings.EqualFold(o.name, b.name) {
				return &config.Error{File: sec.File, Line: sec.Line, Key: "ServerName", Msg: "server " + b.name + " defined twice"}
			}
		}
		f.backends = append(f.backends, b)
	}
	return nil
}

func decodeServer(sec *config.Section) (*backend, error) {
	b := &backend{maxConns: DefaultMaxConnections, keepAlive: true, connectTimeout: DefaultConnectTimeout,
		readTimeout: DefaultReadTimeout, queueTimeout: DefaultQueueTimeout, exts: []string{".php"}}
	for _, e := range sec.Entries {
		var err error
		switch strings.ToLower(e.Key) {
		case "servername":
			if strings.ContainsAny(e.Value, " \t") {
				err = errors.New("a server name is one word")
			}
			b.name = e.Value
		case "serveraddr":
			if b.network != "" {
				err = errors.New("one of ServerAddr and ServerPath")
			} else if _, _, err = net.SplitHostPort(e.Value); err == nil {
				b.network, b.addr = "tcp", e.Value
			}
		case "serverpath":
			if b.network != "" {
				err = errors.New("one of ServerAddr and ServerPath")
			} else if !strings.HasPrefix(e.Value, "/") {
				err = errors.New("want an absolute socket path")
			}
			b.network, b.addr = "unix", e.Value
		case "maxconnections":
			b.maxConns, err = positive(e.Value)
		case "maxrequests":
			b.maxRequests, err = strconv.Atoi(e.Value)
			if err == nil && b.maxRequests < 0 {
				err = errors.New("must not be negative")
			}
		case "keepalive":
			switch strings.ToLower(e.Value) {
			case "on", "true":
				b.keepAlive = true
			case "off", "false":
				b.keepAlive = false
			default:
				err = errors.New("want on or off")
			}
		case "connecttimeout":
			b.connectTimeout, err = cgistage.Duration(e.Value)
		case "readtimeout":
			b.readTimeout, err = cgistage.Duration(e.Value)
		case "queuetimeout":
			b.queueTimeout, err = cgistage.Duration(e.Value)
		case "extensions":
			b.exts = strings.Fields(e.Value)
			for _, x := range b.exts {
				if !strings.HasPrefix(x, ".") || len(x) < 2 || strings.Contains(x, "/") {
					err = errors.New("want extensions such as .php")
				}
			}
		default:
			return nil, stage.UnknownKey(e, "FASTCGI_SERVER")
		}
		if err != nil {
			return nil, e.Errorf("%v", err)
		}
	}
	switch {
	case b.name == "":
		return nil, &config.Error{File: sec.File, Line: sec.Line, Key: "[FASTCGI_SERVER]", Msg: "ServerName is required"}
	case b.network == "":
		return nil, &config.Error{File: sec.File, Line: sec.Line, Key: "[FASTCGI_SERVER]", Msg: "ServerAddr or ServerPath is required"}
	}
	return b, nil
}

func positive(v string) (int, error) {
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, errors.New("want a number of at least 1")
	}
	return n, nil
}

// Provision takes the logger and makes the connection slots.
func (f *FastCGI) Provision(ctx *stage.Context) error {
	f.log = ctx.Logger()
	for _, b := range f.backends {
		b.slots = make(chan struct{}, b.maxConns)
		b.limit, b.riseWait = b.maxConns, firstRiseWait
		b.log = f.log
		b.dialer.Timeout = b.connectTimeout
	}
	return nil
}

// Cleanup closes the kept-alive connections.
func (f *FastCGI) Cleanup() error {
	for _, b := range f.backends {
		b.closeIdle()
	}
	return nil
}

// MakeHandler builds the handler of one [HANDLERS] rule:
//
//	Match <regex> fastcgi [server...]
//
// The named servers (all of them when none is named) share the requests
// round-robin, with failover to the next when one refuses connections.
func (f *FastCGI) MakeHandler(params []string) (stage.Handler, error) {
	if len(f.backends) == 0 {
		return nil, errors.New("no [FASTCGI_SERVER] in plugins/fastcgi/fastcgi.conf")
	}
	h := &handler{f: f}
	if len(params) == 0 {
		h.backends = f.backends
	}
	for _, name := range params {
		found := false
		for _, b := range f.backends {
			if strings.EqualFold(b.name, name) {
				h.backends, found = append(h.backends, b), true
			}
		}
		if !found {
			return nil, errors.New("unknown server " + strconv.Quote(name))
		}
	}
	for _, b := range h.backends {
		for _, x := range b.exts {
			if !slices.Contains(h.exts, x) {
				h.exts = append(h.exts, x)
			}
		}
	}
	return h, nil
}
