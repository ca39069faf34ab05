package server

import "gibbon/stage"

// hijackRegistry is the server's [stage.HijackRegistry]: the hijacked
// connections that Shutdown ends although no handler of the server runs
// for them. One pointer: as an interface value it needs no allocation.
type hijackRegistry struct{ s *Server }

// Track registers h; during Shutdown it sends h away at once.
func (r hijackRegistry) Track(h stage.Hijacked) {
	s := r.s
	s.mu.Lock()
	s.hijacked[h] = struct{}{}
	shutting := s.shutting.Load()
	s.mu.Unlock()
	if shutting {
		go h.GoAway()
	}
}

// Untrack forgets h; Shutdown stops waiting for it.
func (r hijackRegistry) Untrack(h stage.Hijacked) { forget(r.s, r.s.hijacked, h) }

// goAwayHijackedLocked starts ending every registered connection, for
// Shutdown (s.mu is held).
func (s *Server) goAwayHijackedLocked() {
	for h := range s.hijacked {
		go h.GoAway()
	}
}

// closeHijackedLocked closes every registered connection and forgets
// them, when Shutdown's grace period ends (s.mu is held): a closed socket
// may never tell its owner, so Shutdown does not wait for Untrack.
func (s *Server) closeHijackedLocked() {
	for h := range s.hijacked {
		h.NetConn().Close()
	}
	clear(s.hijacked)
}
