package proxy

import (
	"net"
	"strconv"
	"strings"
	"time"

	"gibbon/config"
	"gibbon/stage"
)

func init() { stage.Register("proxy", func() stage.Plugin { return new(Proxy) }) }

// Defaults of an [UPSTREAM] section.
const (
	DefaultConnectTimeout  = 5 * time.Second
	DefaultResponseTimeout = 60 * time.Second
	DefaultIdleTimeout     = 90 * time.Second
	DefaultRetries         = 3
	DefaultMaxIdleConns    = 16
	DefaultDownTime        = 10 * time.Second
	DefaultCheckInterval   = 2 * time.Second
	DefaultRise            = 2
	DefaultFall            = 3
	maxWeight              = 256
)

// Decode reads the [UPSTREAM] sections of plugins/proxy/proxy.conf and the
// [PROXY] section of each site file:
//
//	[UPSTREAM]
//	    Name    app
//	    Balance roundrobin
//	    Server  web1 127.0.0.1:8081 weight=2 check
//	    Check   /health interval=2s rise=2 fall=3 status=2xx
//
//	[PROXY]
//	    StatsURI /proxy-stats
func (p *Proxy) Decode(c *stage.PluginConfig) error {
	p.byName = make(map[string]*pool)
	for _, sec := range c.Sections {
		if sec.Name != "UPSTREAM" {
			return &config.Error{File: sec.File, Line: sec.Line, Key: "[" + sec.Name + "]",
				Msg: "unknown section (want [UPSTREAM])"}
		}
		pl, err := decodeUpstream(sec)
		if err != nil {
			return err
		}
		if prev, dup := p.byName[pl.name]; dup {
			return &config.Error{File: sec.File, Line: sec.Line, Key: "Name",
				Msg: "upstream " + pl.name + " already defined at " + prev.file + ":" + strconv.Itoa(prev.line)}
		}
		p.byName[pl.name] = pl
		p.pools = append(p.pools, pl)
	}
	p.statsURI = make([]string, len(c.Hosts))
	for i, h := range c.Hosts {
		for _, sec := range h.Find("PROXY") {
			for _, e := range sec.Entries {
				if !strings.EqualFold(e.Key, "StatsURI") {
					return stage.UnknownKey(e, "PROXY")
				}
				if !strings.HasPrefix(e.Value, "/") || strings.ContainsAny(e.Value, " \t?#") {
					return e.Errorf("want a path beginning with /")
				}
				p.statsURI[i] = e.Value
			}
		}
	}
	return nil
}

// decodeUpstream reads one [UPSTREAM] section.
func decodeUpstream(sec *config.Section) (*pool, error) {
	pl := &pool{
		file: sec.File, line: sec.Line,
		connectTimeout: DefaultConnectTimeout, responseTimeout: DefaultResponseTimeout,
		idleTimeout: DefaultIdleTimeout, retries: DefaultRetries, redispatch: true,
		maxIdle: DefaultMaxIdleConns, downTime: DefaultDownTime,
		fall: DefaultFall,
	}
	seen := make(map[string]bool)
	for _, e := range sec.Entries {
		key := strings.ToLower(e.Key)
		if key != "server" {
			if seen[key] {
				return nil, e.Errorf("set twice in this [UPSTREAM] section")
			}
			seen[key] = true
		}
		if err := pl.decodeEntry(e, key); err != nil {
			return nil, err
		}
	}
	missing := func(what string) *config.Error {
		return &config.Error{File: sec.File, Line: sec.Line, Key: "[UPSTREAM]", Msg: "missing " + what}
	}
	if pl.name == "" {
		return nil, missing("Name")
	}
	if len(pl.servers) == 0 {
		return nil, missing("Server")
	}
	for _, s := range pl.servers {
		if s.check && pl.check == nil {
			return nil, missing("Check (a Server has the check flag)")
		}
	}
	pl.buildSchedules()
	return pl, nil
}

func (pl *pool) decodeEntry(e config.Entry, key string) error {
	var err error
	switch key {
	case "name":
		if !validName(e.Value) {
			return e.Errorf("want a name of letters, digits, '-', '_' and '.'")
		}
		pl.name = e.Value
	case "balance":
		f := strings.Fields(e.Value)
		b, ok := balanceOf(f[0])
		switch {
		case !ok:
			return e.Errorf("unknown algorithm %q (want roundrobin, static-rr, leastconn, source, uri, url_param <name> or random)", f[0])
		case b == URLParam && len(f) != 2:
			return e.Errorf("want url_param <name>")
		case b != URLParam && len(f) != 1:
			return e.Errorf("%s takes no parameter", f[0])
		}
		pl.balance = b
		if b == URLParam {
			pl.param = f[1]
		}
	case "server":
		s, err := decodeServer(e)
		if err != nil {
			return err
		}
		for _, o := range pl.servers {
			if o.name == s.name {
				return e.Errorf("server %s defined twice", s.name)
			}
		}
		pl.servers = append(pl.servers, s)
	case "check":
		pl.check, pl.fall, err = decodeCheck(e)
	case "connecttimeout":
		pl.connectTimeout, err = parseDuration(e, false)
	case "responsetimeout":
		pl.responseTimeout, err = parseDuration(e, true)
	case "idletimeout":
		pl.idleTimeout, err = parseDuration(e, true)
	case "downtime":
		pl.downTime, err = parseDuration(e, false)
	case "retries":
		pl.retries, err = parseInt(e, e.Value, 0, 100)
	case "maxidleconns":
		pl.maxIdle, err = parseInt(e, e.Value, 0, 1<<16)
	case "redispatch":
		switch strings.ToLower(e.Value) {
		case "on":
			pl.redispatch = true
		case "off":
			pl.redispatch = false
		default:
			return e.Errorf("want on or off")
		}
	default:
		return stage.UnknownKey(e, "UPSTREAM")
	}
	return err
}

// decodeServer reads "Server <name> <host:port> [weight=N] [backup] [check] [proto=h2c]".
func decodeServer(e config.Entry) (*server, error) {
	f := strings.Fields(e.Value)
	if len(f) < 2 {
		return nil, e.Errorf("want Server <name> <host:port> [weight=N] [backup] [check] [proto=http|h2c]")
	}
	s := &server{name: f[0], addr: f[1], weight: 1}
	if !validName(s.name) {
		return nil, e.Errorf("bad server name %q", s.name)
	}
	host, port, err := net.SplitHostPort(s.addr)
	if err != nil || host == "" {
		return nil, e.Errorf("bad address %q: want host:port", s.addr)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return nil, e.Errorf("bad port in %q", s.addr)
	}
	for _, opt := range f[2:] {
		k, v, hasValue := strings.Cut(opt, "=")
		switch {
		case k == "weight" && hasValue:
			if s.weight, err = parseInt(e, v, 0, maxWeight); err != nil {
				return nil, err
			}
		case k == "backup" && !hasValue:
			s.backup = true
		case k == "check" && !hasValue:
			s.check = true
		case k == "proto" && (v == "http" || v == "h1"):
		case k == "proto" && v == "h2c":
			s.h2c = true
		default:
			return nil, e.Errorf("unknown server option %q (want weight=N, backup, check or proto=http|h2c)", opt)
		}
	}
	s.up.Store(true)
	return s, nil
}

// decodeCheck reads "Check <path> [interval=D] [rise=N] [fall=N] [status=LIST]".
func decodeCheck(e config.Entry) (*checkConfig, int, error) {
	f := strings.Fields(e.Value)
	c := &checkConfig{path: f[0], interval: DefaultCheckInterval, rise: DefaultRise,
		status: []statusRange{{200, 399}}}
	fall := DefaultFall
	if !strings.HasPrefix(c.path, "/") || strings.ContainsAny(c.path, "\x00\r\n") {
		return nil, 0, e.Errorf("want Check <path> [interval=D] [rise=N] [fall=N] [status=LIST]")
	}
	var err error
	for _, opt := range f[1:] {
		k, v, _ := strings.Cut(opt, "=")
		switch k {
		case "interval":
			c.interval, err = parseDurationValue(e, v, true)
		case "rise":
			c.rise, err = parseInt(e, v, 1, 1000)
		case "fall":
			fall, err = parseInt(e, v, 1, 1000)
		case "status":
			c.status, err = parseStatusList(e, v)
		default:
			return nil, 0, e.Errorf("unknown check option %q (want interval=, rise=, fall= or status=)", opt)
		}
		if err != nil {
			return nil, 0, err
		}
	}
	return c, fall, nil
}

// parseStatusList reads "200", "2xx", "200-299" and comma lists of them.
func parseStatusList(e config.Entry, v string) ([]statusRange, error) {
	var out []statusRange
	for _, item := range strings.Split(v, ",") {
		var r statusRange
		lo, hi, isRange := strings.Cut(item, "-")
		switch {
		case len(item) == 3 && strings.HasSuffix(item, "xx") && item[0] >= '1' && item[0] <= '5':
			base := int(item[0]-'0') * 100
			r = statusRange{base, base + 99}
		case isRange:
			a, err1 := strconv.Atoi(lo)
			b, err2 := strconv.Atoi(hi)
			if err1 != nil || err2 != nil || a > b {
				return nil, e.Errorf("bad status range %q", item)
			}
			r = statusRange{a, b}
		default:
			a, err := strconv.Atoi(item)
			if err != nil {
				return nil, e.Errorf("bad status %q (want 200, 2xx or 200-399)", item)
			}
			r = statusRange{a, a}
		}
		if r.lo < 100 || r.hi > 599 {
			return nil, e.Errorf("status %q out of 100-599", item)
		}
		out = append(out, r)
	}
	return out, nil
}

// parseDuration reads the value of e: a Go duration ("250ms", "5s", "1m")
// or a bare number of seconds (Monkey's unit). 0 is allowed when positive
// is false and means "no limit".
func parseDuration(e config.Entry, positive bool) (time.Duration, error) {
	return parseDurationValue(e, e.Value, positive)
}

func parseDurationValue(e config.Entry, v string, positive bool) (time.Duration, error) {
	var d time.Duration
	if n, err := strconv.ParseInt(v, 10, 32); err == nil {
		d = time.Duration(n) * time.Second
	} else if d, err = time.ParseDuration(v); err != nil {
		return 0, e.Errorf("bad duration %q (want 5s, 250ms or a number of seconds)", v)
	}
	if d < 0 || positive && d == 0 {
		return 0, e.Errorf("duration %q must be positive", v)
	}
	return d, nil
}

func parseInt(e config.Entry, v string, lo, hi int) (int, error) {
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, e.Errorf("want a number from %d to %d, not %q", lo, hi, v)
	}
	return n, nil
}

func validName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// MakeHandler returns the handler of a "Match <regex> proxy <upstream>"
// rule.
func (p *Proxy) MakeHandler(params []string) (stage.Handler, error) {
	if len(params) != 1 {
		return nil, errWantUpstream
	}
	pl, ok := p.byName[params[0]]
	if !ok {
		names := make([]string, len(p.pools))
		for i, o := range p.pools {
			names[i] = o.name
		}
		return nil, &unknownUpstreamError{name: params[0], known: names}
	}
	return &handler{p: p, pool: pl}, nil
}
