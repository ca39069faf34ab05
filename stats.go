package gibbon

import (
	"sync"
	"time"

	"gibbon/server"
)

// Stats is a snapshot of a Server's counters and state, for monitoring:
// what the admin endpoint's /status, /workers and /metrics show. Counters
// only grow while the Server lives; the Open and Idle counts are gauges.
type Stats struct {
	// Version is Config.Version.
	Version string
	// Serving is when Serve began; zero before.
	Serving time.Time
	// ConfigDir is the Model's config directory; "" for a configuration
	// not loaded from files.
	ConfigDir string
	// Generation counts the configurations loaded: 1, plus one per
	// successful reload.
	Generation uint64
	// LastReload is the outcome of the last reload; its Time is zero
	// when there was none.
	LastReload ReloadResult
	// Driver is DriverEpoll or DriverGoroutine once Check ran.
	Driver Driver
	// Workers are the epoll worker loops, in order; nil with the
	// goroutine driver (or before Check).
	Workers []WorkerStats
	// Goroutine counts the connections served on goroutines: TLS, h2c,
	// those handed off by the loops to a handler, and every one with the
	// goroutine driver.
	Goroutine ConnCounts
	// GoroutineResponses are the HTTP/1.x responses written on
	// goroutines, HTTP2Responses those of HTTP/2 streams.
	GoroutineResponses, HTTP2Responses Responses
	// TLSHandshakes counts completed TLS handshakes, TLSHandshakeErrors
	// failed ones (timeouts included).
	TLSHandshakes, TLSHandshakeErrors uint64
}

// ReloadResult is the outcome of a reload (see Server.ReloadFrom).
type ReloadResult struct {
	Time time.Time
	// Err is the reason a reload failed, "" when it succeeded.
	Err string
}

// WorkerStats are the counters of one epoll worker loop.
type WorkerStats = server.WorkerStats

// ConnCounts count the connections of an epoll worker or of the goroutine
// driver: accepted, handed off, rejected (past WorkerCapacity), closed,
// closed on a timer, open and idle.
type ConnCounts = server.ConnCounts

// Responses count responses by status class (Classes[0] is 1xx) and
// their body bytes.
type Responses = server.Responses

// ConnStatus describes an open client connection (see Server.Conns).
type ConnStatus = server.ConnStatus

// Stats returns a snapshot of the server's counters. It walks the open
// connections to count the idle ones (on each event loop, between two
// requests): call it for monitoring, not per request. It is safe for
// concurrent use, at any step; before Check only Version, ConfigDir and
// the reload fields are set.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	srv, dir := s.srv, s.model.Dir
	s.mu.Unlock()
	st := Stats{Version: s.cfg.Version, ConfigDir: dir}
	st.Generation, st.LastReload = s.reloads.get()
	if srv == nil {
		return st
	}
	ss := srv.Stats()
	st.Serving, st.Driver, st.Workers = ss.Serving, ss.Driver, ss.Workers
	st.Goroutine, st.GoroutineResponses, st.HTTP2Responses = ss.Goroutine, ss.GoroutineResponses, ss.HTTP2Responses
	st.TLSHandshakes, st.TLSHandshakeErrors = ss.TLSHandshakes, ss.TLSHandshakeErrors
	return st
}

// Conns describes the open client connections, the oldest first, at most
// limit of them (limit < 0: all), and returns how many are open in all.
// Like Stats it is for monitoring and safe for concurrent use; it
// returns nil, 0 before Check.
func (s *Server) Conns(limit int) (conns []ConnStatus, total int) {
	s.mu.Lock()
	srv := s.srv
	s.mu.Unlock()
	if srv == nil {
		return nil, 0
	}
	return srv.Conns(limit)
}

// ReloadFrom reloads the configuration load returns (see Reload), as the
// gibbon command does on SIGHUP and the admin endpoint on POST /reload:
// load reads the configuration files again. An error of load or Reload
// changes nothing and is returned. Either way the outcome is what Stats
// reports as LastReload, and a success counts in Generation.
func (s *Server) ReloadFrom(load func() (Config, error)) error {
	cfg, err := load()
	if err != nil {
		s.reloads.note(err)
		return err
	}
	return s.Reload(cfg)
}

// reloadLog is the outcome of the reloads; safe for concurrent use.
type reloadLog struct {
	mu    sync.Mutex
	count uint64 // successful reloads
	last  ReloadResult
}

func (l *reloadLog) note(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.last = ReloadResult{Time: time.Now()}
	if err != nil {
		l.last.Err = err.Error()
	} else {
		l.count++
	}
}

func (l *reloadLog) get() (generation uint64, last ReloadResult) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.count + 1, l.last
}
