package server

import (
	"testing"
	"time"
)

// totals adds the workers' and the goroutine driver's counts.
func totals(st Stats) (conns ConnCounts, rs Responses) {
	add := func(c ConnCounts, r Responses) {
		conns.Accepted += c.Accepted
		conns.Closed += c.Closed
		conns.Open += c.Open
		conns.Idle += c.Idle
		for i := range r.Classes {
			rs.Classes[i] += r.Classes[i]
		}
		rs.BodyBytes += r.BodyBytes
	}
	for _, w := range st.Workers {
		add(w.ConnCounts, w.Responses)
	}
	add(st.Goroutine, st.GoroutineResponses)
	return conns, rs
}

// Stats counts responses by class with their body bytes, and connections
// open and idle; Conns lists them with their request counts.
func TestStats(t *testing.T) {
	t.Parallel()
	forDrivers(t, func(t *testing.T, d testDriver) {
		ts := start(t, d, nil)
		if st := ts.Stats(); st.Driver != d.opts.Driver || (len(st.Workers) > 0) != (d.opts.Driver == DriverEpoll) {
			t.Fatalf("Stats = %+v", st)
		}
		rc := dial(t, ts.addr)
		for range 3 {
			rc.send("GET /hello.txt HTTP/1.1\r\nHost: localhost\r\n\r\n")
			rc.response("GET")
		}
		rc.send("GET /nothing HTTP/1.1\r\nHost: localhost\r\n\r\n")
		rc.response("GET")
		busy := dial(t, ts.addr)
		busy.send("GET /hello.txt HTTP/1.1\r\n") // incomplete head: active
		var conns []ConnStatus
		var total int
		deadline := time.Now().Add(5 * time.Second)
		for {
			conns, total = ts.Conns(-1)
			c, _ := totals(ts.Stats())
			if len(conns) == 2 && total == 2 && c.Idle == 1 && c.Open == 2 || time.Now().After(deadline) {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		st := ts.Stats()
		if st.Serving.IsZero() {
			t.Error("Serving not set")
		}
		c, rs := totals(st)
		if rs.Classes[1] != 3 || rs.Classes[3] != 1 || rs.Total() != 4 {
			t.Errorf("responses %+v, want three 2xx and one 4xx", rs)
		}
		if want := uint64(3 * len(testFiles["hello.txt"])); rs.BodyBytes < want {
			t.Errorf("body bytes %d, want at least %d", rs.BodyBytes, want)
		}
		if c.Accepted != 2 || c.Open != 2 || c.Idle != 1 || total != 2 || len(conns) != 2 {
			t.Fatalf("connections %+v, Conns total %d, %+v; want two open, one idle", c, total, conns)
		}
		for _, cs := range conns {
			switch cs.Remote.String() {
			case rc.nc.LocalAddr().String():
				if cs.State != "idle" || cs.Requests != 4 {
					t.Errorf("first connection %+v, want idle after 4 requests", cs)
				}
			case busy.nc.LocalAddr().String():
				if cs.State == "idle" || cs.Requests != 0 {
					t.Errorf("second connection %+v, want busy with no request answered", cs)
				}
			default:
				t.Errorf("connection %+v: unknown remote", cs)
			}
		}
		if got, _ := ts.Conns(1); len(got) != 1 {
			t.Errorf("Conns(1) listed %d", len(got))
		}
		rc.nc.Close()
		deadline = time.Now().Add(5 * time.Second)
		for c.Closed != 1 && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
			c, _ = totals(ts.Stats())
		}
		if c.Closed != 1 {
			t.Errorf("closed %d, want 1", c.Closed)
		}
	})
}
