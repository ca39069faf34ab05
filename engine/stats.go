package engine

import "sync/atomic"

// workerStats are a worker's counters. The loop writes them; Stats and the
// fair-mode acceptor read them from other goroutines.
type workerStats struct {
	active    atomic.Int64
	accepted  atomic.Uint64
	rejected  atomic.Uint64
	closed    atomic.Uint64
	handedOff atomic.Uint64
	timeouts  atomic.Uint64
	stalls    atomic.Uint64
}

func (s *workerStats) snapshot(worker int) WorkerStats {
	return WorkerStats{
		Worker:    worker,
		Active:    s.active.Load(),
		Accepted:  s.accepted.Load(),
		Rejected:  s.rejected.Load(),
		Closed:    s.closed.Load(),
		HandedOff: s.handedOff.Load(),
		Timeouts:  s.timeouts.Load(),
		Stalls:    s.stalls.Load(),
	}
}
