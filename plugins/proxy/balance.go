package proxy

import (
	"hash/fnv"
	"math/rand/v2"
	"net/url"
	"strconv"
	"strings"
	"time"

	"gibbon/stage"
)

// Balance is a load-balancing algorithm, named as in HAProxy's balance
// keyword. The zero value is RoundRobin.
type Balance uint8

// The algorithms.
const (
	RoundRobin Balance = iota // smooth weighted round robin, weights may change with server state
	StaticRR                  // weighted round robin on a fixed schedule
	LeastConn                 // fewest active requests per weight, round robin among equals
	Source                    // hash of the client address
	URI                       // hash of the request path (without the query)
	URLParam                  // hash of one query parameter; round robin without it
	Random                    // power of two random choices, by weight
)

var balanceNames = [...]string{"roundrobin", "static-rr", "leastconn", "source", "uri", "url_param", "random"}

// String returns HAProxy's name of the algorithm.
func (b Balance) String() string {
	if int(b) < len(balanceNames) {
		return balanceNames[b]
	}
	return "Balance(" + strconv.Itoa(int(b)) + ")"
}

func balanceOf(s string) (Balance, bool) {
	for i, n := range balanceNames {
		if strings.EqualFold(s, n) {
			return Balance(i), true
		}
	}
	return 0, false
}

// maxCandidates is the number of servers held on the stack while picking;
// bigger pools allocate.
const maxCandidates = 16

// pick chooses a server for r, leaving out those tried already, and
// counts one more active request on it (the caller takes it off when the
// exchange ends). Active (non-backup) servers are used while any is
// available; backups only when none is. It returns nil when no server is
// available.
func (pl *pool) pick(r *stage.Request, tried []*server, now time.Time) *server {
	var buf [maxCandidates]*server
	cs := pl.candidates(buf[:0], false, tried, now)
	backup := false
	if len(cs) == 0 {
		cs, backup = pl.candidates(buf[:0], true, tried, now), true
	}
	if len(cs) == 0 {
		return nil
	}
	pl.mu.Lock()
	defer pl.mu.Unlock()
	s := pl.choose(r, cs, backup)
	s.active.Add(1)
	return s
}

// choose applies the algorithm to the candidates; pl.mu is held.
func (pl *pool) choose(r *stage.Request, cs []*server, backup bool) *server {
	switch pl.balance {
	case StaticRR:
		return pl.staticRR(cs, backup)
	case LeastConn:
		return pl.leastConn(cs)
	case Source:
		return byHash(cs, hashBytes(clientIP(r)))
	case URI:
		return byHash(cs, hashString(requestPath(r)))
	case URLParam:
		if v, ok := queryParam(r.Query, pl.param); ok {
			return byHash(cs, hashString(v))
		}
	case Random:
		return powerOfTwo(cs)
	}
	return smoothRR(cs)
}

func (pl *pool) candidates(dst []*server, backup bool, tried []*server, now time.Time) []*server {
	for _, s := range pl.servers {
		if s.backup == backup && s.available(now) && !contains(tried, s) {
			dst = append(dst, s)
		}
	}
	return dst
}

func contains(list []*server, s *server) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// smoothRR is nginx's smooth weighted round robin: every candidate gains
// its weight, the richest is chosen and pays the total. Weights 5:1:1 give
// a a b a c a a rather than a a a a a b c.
func smoothRR(cs []*server) *server {
	var best *server
	total := 0
	for _, s := range cs {
		s.current += s.weight
		total += s.weight
		if best == nil || s.current > best.current {
			best = s
		}
	}
	best.current -= total
	return best
}

// buildSchedules computes the static-rr order of the active and of the
// backup servers: one smooth round-robin cycle over the configured weights.
func (pl *pool) buildSchedules() {
	for i, backup := range []bool{false, true} {
		var cs []*server
		total := 0
		for _, s := range pl.servers {
			if s.backup == backup && s.weight > 0 {
				cs = append(cs, s)
				total += s.weight
			}
		}
		for range total {
			pl.schedule[i] = append(pl.schedule[i], smoothRR(cs))
		}
		for _, s := range cs {
			s.current = 0
		}
	}
}

// staticRR walks the fixed schedule from the pool's position, skipping
// servers that are not candidates.
func (pl *pool) staticRR(cs []*server, backup bool) *server {
	sched := pl.schedule[0]
	if backup {
		sched = pl.schedule[1]
	}
	for range sched {
		s := sched[pl.next%uint64(len(sched))]
		pl.next++
		if contains(cs, s) {
			return s
		}
	}
	return cs[0]
}

// leastConn picks the candidate with the fewest active requests per unit
// of weight; among equals, it takes turns.
func (pl *pool) leastConn(cs []*server) *server {
	var ties [maxCandidates]*server
	best := ties[:0]
	for _, s := range cs {
		if len(best) == 0 {
			best = append(best, s)
			continue
		}
		a, b := s.active.Load()*int64(best[0].weight), best[0].active.Load()*int64(s.weight)
		switch {
		case a < b:
			best = append(best[:0], s)
		case a == b:
			best = append(best, s)
		}
	}
	s := best[pl.next%uint64(len(best))]
	pl.next++
	return s
}

// byHash is HAProxy's map-based hashing: the hash modulo the total weight
// of the candidates picks a server, so a key keeps its server while the set
// of available servers does not change.
func byHash(cs []*server, h uint64) *server {
	total := 0
	for _, s := range cs {
		total += s.weight
	}
	n := int(h % uint64(total))
	for _, s := range cs {
		if n < s.weight {
			return s
		}
		n -= s.weight
	}
	return cs[len(cs)-1]
}

// powerOfTwo draws two candidates at random by weight and keeps the one
// with fewer active requests per weight (HAProxy's random(2)).
func powerOfTwo(cs []*server) *server {
	a, b := weightedRandom(cs), weightedRandom(cs)
	if b.active.Load()*int64(a.weight) < a.active.Load()*int64(b.weight) {
		return b
	}
	return a
}

func weightedRandom(cs []*server) *server {
	total := 0
	for _, s := range cs {
		total += s.weight
	}
	n := rand.IntN(total)
	for _, s := range cs {
		if n < s.weight {
			return s
		}
		n -= s.weight
	}
	return cs[len(cs)-1]
}

func hashBytes(b []byte) uint64 {
	h := fnv.New64a()
	h.Write(b)
	return mix(h.Sum64())
}

func hashString(s string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return mix(h.Sum64())
}

// mix is a 64-bit finalizer (splitmix64), so that keys differing in a
// few bits spread over all servers.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// clientIP returns the client address bytes (an IPv4-mapped address as
// IPv4).
func clientIP(r *stage.Request) []byte {
	a := r.Conn.Remote.Addr().Unmap()
	b, _ := a.MarshalBinary()
	return b
}

// requestPath is the path as sent (still percent-encoded), without the
// query, as HAProxy's balance uri hashes it; after a rewrite, the new path.
func requestPath(r *stage.Request) string {
	if r.Rewritten() || len(r.Target) == 0 || r.Target[0] != '/' {
		return r.Path
	}
	t := string(r.Target)
	if i := strings.IndexByte(t, '?'); i >= 0 {
		t = t[:i]
	}
	return t
}

// queryParam returns the first value of name in query (decoded), and
// whether it is present with a non-empty value.
func queryParam(query, name string) (string, bool) {
	for query != "" {
		var kv string
		kv, query, _ = strings.Cut(query, "&")
		k, v, _ := strings.Cut(kv, "=")
		if k != name {
			if dk, err := url.QueryUnescape(k); err != nil || dk != name {
				continue
			}
		}
		if dv, err := url.QueryUnescape(v); err == nil {
			v = dv
		}
		return v, v != ""
	}
	return "", false
}
