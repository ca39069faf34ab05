package engine

import (
	"testing"
	"time"
)

// Conns lists the open connections with their remote address and wait,
// at most limit per worker, and counts the idle ones.
func TestConns(t *testing.T) {
	t.Parallel()
	e, addr := start(t, testConfig(1, Reuseport), newLineProto(), nil)
	idle := dial(t, addr)
	idle.roundTrip("hello\n") // answered: waits idle
	busy := dial(t, addr)
	busy.send("half a line") // incomplete: waits under Read
	var conns [][]ConnStatus
	var idles []int
	eventually(t, 2*time.Second, "two connections, one idle", func() bool {
		conns, idles = e.Conns(-1)
		return len(conns[0]) == 2 && idles[0] == 1
	})
	waits := map[string]TimeoutKind{}
	for _, c := range conns[0] {
		waits[c.Remote.String()] = c.Wait
		if c.Worker != 0 || c.ID == 0 || time.Since(c.Opened) > time.Minute || time.Since(c.Opened) < -time.Second {
			t.Errorf("conn %+v", c)
		}
	}
	if waits[idle.LocalAddr().String()] != TimeoutIdle || waits[busy.LocalAddr().String()] != TimeoutRead {
		t.Errorf("waits %v, want %s idle and %s read", waits, idle.LocalAddr(), busy.LocalAddr())
	}
	if conns, idles = e.Conns(1); len(conns[0]) != 1 || idles[0] != 1 {
		t.Errorf("Conns(1) = %v, %v; want one connection listed, one idle counted", conns, idles)
	}
}
