package proxy

import (
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// pool is one [UPSTREAM] section: its servers, balancing state, timeouts
// and health checker.
type pool struct {
	// set by Decode, read-only afterwards
	name, file      string
	line            int
	balance         Balance
	param           string // url_param name
	servers         []*server
	check           *checkConfig // nil: no active checks
	fall            int          // consecutive failures that mark a server down
	connectTimeout  time.Duration
	responseTimeout time.Duration
	idleTimeout     time.Duration
	downTime        time.Duration
	retries         int
	redispatch      bool
	maxIdle         int
	schedule        [2][]*server // static-rr order: [0] active servers, [1] backups

	log *slog.Logger // set by Provision

	mu       sync.Mutex // guards the balancing state below and server.current
	next     uint64     // static-rr position, leastconn tie breaker
	stop     chan struct{}
	stopped  chan struct{}
	stopOnce sync.Once
}

// server is one Server line. Counters and state are atomics: handlers of
// many connections and the checker goroutine use them at once.
type server struct {
	// set by Decode / Provision, read-only afterwards
	name, addr string
	weight     int
	backup     bool
	check      bool
	h2c        bool
	transport  *http.Transport // h2c requests and health checks
	h1         *connPool       // proto=http requests; nil for h2c

	current int // smooth weighted round robin; guarded by pool.mu

	up        atomic.Bool
	downUntil atomic.Int64 // unix ns: a passively downed, unchecked server is retried from then
	fails     atomic.Int32 // consecutive passive failures
	okRun     atomic.Int32 // consecutive good checks (checker), reset when marked down
	failRun   atomic.Int32 // consecutive bad checks (checker)

	active   atomic.Int64
	requests atomic.Int64
	errors   atomic.Int64
	bytesIn  atomic.Int64 // request body bytes sent to the server
	bytesOut atomic.Int64 // response body bytes relayed to clients
	last     atomic.Pointer[checkResult]
}

// checkConfig is the Check line.
type checkConfig struct {
	path     string
	interval time.Duration
	rise     int
	status   []statusRange
}

type statusRange struct{ lo, hi int }

func (c *checkConfig) good(status int) bool {
	for _, r := range c.status {
		if r.lo <= status && status <= r.hi {
			return true
		}
	}
	return false
}

// available reports whether s may be chosen at now: it is up, or it was
// marked down by passive checks only (it has no active check) and its down
// time has passed (it is then tried again; one more failure downs it
// again).
func (s *server) available(now time.Time) bool {
	if s.weight == 0 {
		return false
	}
	if s.up.Load() {
		return true
	}
	return !s.check && now.UnixNano() >= s.downUntil.Load()
}

// State returns "UP" or "DOWN" for the stats page.
func (s *server) state(now time.Time) string {
	switch {
	case s.up.Load():
		return "UP"
	case !s.check && now.UnixNano() >= s.downUntil.Load():
		return "DOWN (retrying)"
	}
	return "DOWN"
}

// succeeded records a good exchange with s: the passive failure count is
// reset and a server that was down passively (without active check) is up
// again.
func (pl *pool) succeeded(s *server) {
	if s.fails.Load() != 0 {
		s.fails.Store(0)
	}
	if !s.check && !s.up.Load() && s.up.CompareAndSwap(false, true) {
		pl.log.Info("server up", "upstream", pl.name, "server", s.name, "reason", "request succeeded")
	}
}

// failed records a transport failure with s (connect refused or timed
// out, connection reset): fall consecutive failures mark it down. A server
// with active checks then waits for rise good checks; one without stays out
// for the pool's DownTime.
func (pl *pool) failed(s *server, now time.Time, err error) {
	s.errors.Add(1)
	n := int(s.fails.Add(1))
	if n < pl.fall {
		return
	}
	if !s.check {
		s.downUntil.Store(now.Add(pl.downTime).UnixNano())
	}
	s.okRun.Store(0)
	if s.up.CompareAndSwap(true, false) {
		pl.log.Warn("server down", "upstream", pl.name, "server", s.name,
			"reason", "passive", "failures", n, "error", err.Error())
	}
}
