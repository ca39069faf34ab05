package server

import (
	"net/netip"
	"sort"
	"sync/atomic"
	"time"

	"gibbon/engine"
)

// Responses counts the responses of one epoll worker or of one driver.
type Responses struct {
	// Classes counts responses by status class: Classes[0] is 1xx
	// (101 Switching Protocols), Classes[4] is 5xx. A request closed
	// without an answer (a plugin's Close verdict, a reset stream) is not
	// counted.
	Classes [5]uint64
	// BodyBytes is the sum of the responses' body bytes, as stage 40
	// sees them (heads and chunk framing excluded).
	BodyBytes uint64
}

// Total is the number of responses of every class.
func (r *Responses) Total() uint64 {
	var n uint64
	for _, c := range r.Classes {
		n += c
	}
	return n
}

// ConnCounts counts the connections of one epoll worker or of the
// goroutine driver.
type ConnCounts struct {
	// Accepted: epoll, connections accepted by the worker; goroutine,
	// connections accepted on TLS, h2c and (with the goroutine driver)
	// plain listeners.
	Accepted uint64
	// HandedOff: epoll, connections the worker gave to a goroutine (a
	// handler's request); goroutine, connections taken from the loops.
	HandedOff uint64
	// Rejected counts connections closed at once by an epoll worker:
	// past WorkerCapacity, its inbox full or out of descriptors (the
	// goroutine driver has no capacity limit).
	Rejected uint64
	// Closed counts connections closed (a hand-off is not a close).
	Closed uint64
	// Timeouts counts connections an epoll worker closed on a timer.
	Timeouts uint64
	// Open is how many are open now, Idle how many of them wait between
	// requests (keep-alive).
	Open, Idle int64
}

// WorkerStats are the counters of one epoll worker loop.
type WorkerStats struct {
	Worker int
	ConnCounts
	Responses
}

// Stats is a snapshot of a Server's counters (see [Server.Stats]).
// Counters only grow while the Server lives; Open and Idle are gauges.
type Stats struct {
	Driver  Driver    // DriverEpoll or DriverGoroutine
	Serving time.Time // when Serve began; zero before
	// Workers are the epoll worker loops, in order; nil with the
	// goroutine driver.
	Workers []WorkerStats
	// Goroutine counts the connections served on goroutines (TLS, h2c,
	// hand-offs from the loops, the goroutine driver) and their HTTP/1.x
	// responses.
	Goroutine ConnCounts
	// GoroutineResponses are the HTTP/1.x responses written on
	// goroutines; HTTP2Responses those of HTTP/2 streams (on TLS h2 and
	// h2c connections, which Goroutine counts).
	GoroutineResponses, HTTP2Responses Responses
	// TLSHandshakes counts completed TLS handshakes, TLSHandshakeErrors
	// failed ones (timeouts included).
	TLSHandshakes, TLSHandshakeErrors uint64
}

// counters are the atomics behind a Responses. An epoll worker's are
// written by its loop only; the goroutine and HTTP/2 drivers' by every
// connection goroutine.
type counters struct {
	classes [5]atomic.Uint64
	bytes   atomic.Uint64
}

// count adds one response of status with a body of n bytes; a status
// outside 100–599 (none was sent) is not counted.
func (k *counters) count(status int, n int64) {
	if i := status/100 - 1; status >= 100 && i < len(k.classes) {
		k.classes[i].Add(1)
		if n > 0 {
			k.bytes.Add(uint64(n))
		}
	}
}

func (k *counters) snapshot() Responses {
	var r Responses
	for i := range k.classes {
		r.Classes[i] = k.classes[i].Load()
	}
	r.BodyBytes = k.bytes.Load()
	return r
}

// serverStats are the server's own counters, beside the engine's.
type serverStats struct {
	goroutine, h2                     counters
	accepted, handedOff, closed       atomic.Uint64 // goroutine-driver connections
	tlsHandshakes, tlsHandshakeErrors atomic.Uint64
}

// Stats returns a snapshot of the server's counters. It walks the open
// connections to count the idle ones (on each loop between two
// requests, see engine.Engine.Conns): call it for monitoring, not per
// request. It is safe for concurrent use.
func (s *Server) Stats() Stats {
	st := Stats{
		Driver: s.driver,
		Goroutine: ConnCounts{
			Accepted:  s.stats.accepted.Load(),
			HandedOff: s.stats.handedOff.Load(),
			Closed:    s.stats.closed.Load(),
		},
		GoroutineResponses: s.stats.goroutine.snapshot(),
		HTTP2Responses:     s.stats.h2.snapshot(),
		TLSHandshakes:      s.stats.tlsHandshakes.Load(),
		TLSHandshakeErrors: s.stats.tlsHandshakeErrors.Load(),
	}
	s.mu.Lock()
	st.Serving = s.servingSince
	e, l := s.eng, s.loop
	for c := range s.conns {
		st.Goroutine.Open++
		if ConnState(c.state.Load()) == StateIdle {
			st.Goroutine.Idle++
		}
	}
	s.mu.Unlock()
	if e == nil {
		return st
	}
	_, idle := e.Conns(0)
	for i, ws := range e.Stats() {
		w := WorkerStats{Worker: ws.Worker, ConnCounts: ConnCounts{
			Accepted: ws.Accepted, HandedOff: ws.HandedOff, Rejected: ws.Rejected,
			Closed: ws.Closed, Timeouts: ws.Timeouts, Open: ws.Active,
		}}
		if i < len(idle) {
			w.Idle = int64(idle[i])
		}
		if i < len(l.workers) {
			w.Responses = l.workers[i].responses.snapshot()
		}
		st.Workers = append(st.Workers, w)
	}
	return st
}

// ConnStatus describes one open client connection (see [Server.Conns]).
type ConnStatus struct {
	ID     uint64
	Remote netip.AddrPort
	// Worker is the epoll worker serving it; -1 on a goroutine.
	Worker int
	// Driver is "epoll", "goroutine" (HTTP/1.x) or "h2".
	Driver string
	// State is "new", "active", "idle", "closing" (epoll: "read" and
	// "write" say what an active connection waits for).
	State  string
	Opened time.Time
	// Requests counts the requests answered on it.
	Requests int
}

// Conns describes the open connections, the oldest first, at most limit
// of them (limit < 0: all), and returns how many are open in all. Like
// Stats it is for monitoring. It is safe for concurrent use.
func (s *Server) Conns(limit int) (conns []ConnStatus, total int) {
	s.mu.Lock()
	e := s.eng
	for c := range s.conns {
		total++
		if limit < 0 || len(conns) < limit {
			conns = append(conns, c.status())
		}
	}
	s.mu.Unlock()
	if e != nil {
		lists, _ := e.Conns(limit)
		for _, l := range lists {
			for _, ec := range l {
				conns = append(conns, loopConnStatus(ec))
			}
		}
		for _, ws := range e.Stats() {
			total += int(ws.Active)
		}
	}
	sort.Slice(conns, func(i, j int) bool {
		a, b := &conns[i], &conns[j]
		return a.Opened.Before(b.Opened) || a.Opened.Equal(b.Opened) && a.ID < b.ID
	})
	if limit >= 0 && len(conns) > limit {
		conns = conns[:limit]
	}
	return conns, total
}

// loopConnStatus describes a connection of an epoll worker.
func loopConnStatus(ec engine.ConnStatus) ConnStatus {
	cs := ConnStatus{ID: ec.ID, Remote: ec.Remote, Worker: ec.Worker, Driver: "epoll",
		Opened: ec.Opened, Requests: loopTag(ec.Tag).served()}
	switch ec.Wait {
	case engine.TimeoutIdle:
		cs.State = StateIdle.String()
	case engine.TimeoutNone:
		cs.State = "closing"
	default:
		cs.State = ec.Wait.String()
	}
	return cs
}

// count counts a response written on c (HTTP/1.x on a goroutine).
func (c *conn) count(status int, n int64) {
	c.srv.stats.goroutine.count(status, n)
	c.answered.Add(1)
}

// status describes c for Conns (s.mu is held: c is tracked).
func (c *conn) status() ConnStatus {
	cs := ConnStatus{ID: c.id, Remote: addrPort(c.nc.RemoteAddr()), Worker: -1, Driver: "goroutine",
		State: ConnState(c.state.Load()).String(), Opened: c.opened, Requests: int(c.answered.Load())}
	if c.h2.Load() {
		cs.Driver = "h2"
	}
	return cs
}
