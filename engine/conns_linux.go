package engine

import "time"

// Conns describes the connections open on the loops, at most limit per
// worker (limit < 0: all), indexed by worker, and counts per worker those
// waiting idle between requests (all of them, whatever limit says). It
// walks each worker's connections on its loop, between two Protocol calls
// (as Each does), so it costs the loops nothing outside the call: use it
// for status pages and metrics, not per request. It is safe for concurrent
// use.
func (e *Engine) Conns(limit int) (conns [][]ConnStatus, idle []int) {
	conns, idle = make([][]ConnStatus, len(e.workers)), make([]int, len(e.workers))
	e.onLoops(func(w *worker) {
		w.eachOpen(func(c *Conn) {
			st := c.status()
			if st.Wait == TimeoutIdle {
				idle[w.id]++
			}
			if limit < 0 || len(conns[w.id]) < limit {
				conns[w.id] = append(conns[w.id], st)
			}
		})
	})
	return conns, idle
}

// eachOpen calls fn for every connection the worker holds.
func (w *worker) eachOpen(fn func(c *Conn)) {
	for _, c := range w.conns.conns {
		if c.state != stateFree {
			fn(c)
		}
	}
}

// status describes c (on its loop).
func (c *Conn) status() ConnStatus {
	st := ConnStatus{ID: c.id, Worker: c.w.id, Remote: c.raddr, Tag: c.tag,
		Opened: c.w.e.epoch.Add(time.Duration(c.opened) * tick)}
	if c.state == stateOpen {
		st.Wait = c.nextTimeout()
	}
	return st
}
