package proxy_test

import (
	"fmt"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"
)

func threeBackends(t *testing.T) (a, b, c *backend) {
	return newBackend(t, "a", nil), newBackend(t, "b", nil), newBackend(t, "c", nil)
}

func TestRoundRobinWeights(t *testing.T) {
	t.Parallel()
	for _, algo := range []string{"roundrobin", "static-rr"} {
		t.Run(algo, func(t *testing.T) {
			t.Parallel()
			a, b, c := threeBackends(t)
			p, _ := load(t, upstream("Balance "+algo, "a "+a.addr+" weight=2", "b "+b.addr, "c "+c.addr))
			var seq []string
			for range 400 {
				seq = append(seq, get(t, p, "", "/x"))
			}
			if got := counts(a, b, c); !slices.Equal(got, []int64{200, 100, 100}) {
				t.Errorf("counts %v, want 200:100:100", got)
			}
			// Smooth: a never gets more than two in a row, b and c never repeat.
			for i := 2; i < len(seq); i++ {
				if seq[i] == "a" && seq[i-1] == "a" && seq[i-2] == "a" {
					t.Fatalf("three a in a row at %d: %v", i, seq[:i+1])
				}
			}
		})
	}
}

func TestLeastConn(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	slow := func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			<-release
		}
		w.Write([]byte("ok"))
	}
	a := newBackend(t, "a", slow)
	b := newBackend(t, "b", slow)
	c := newBackend(t, "c", slow)
	p, px := load(t, upstream("Balance leastconn", "a "+a.addr, "b "+b.addr, "c "+c.addr))
	// One slow request: it lands on some server, which then has 1 active.
	var wg sync.WaitGroup
	wg.Go(func() { get(t, p, "", "/slow") })
	var busy string
	waitFor(t, "a slow request in progress", 5*time.Second, func() bool {
		for _, n := range []string{"a", "b", "c"} {
			if serverStats(t, px, n).Active == 1 {
				busy = n
				return true
			}
		}
		return false
	})
	// 20 quick requests, one at a time: never on the busy server, and
	// alternating between the two idle ones.
	before := counts(a, b, c)
	for range 20 {
		get(t, p, "", "/fast")
	}
	close(release)
	wg.Wait()
	after := counts(a, b, c)
	for i, n := range []string{"a", "b", "c"} {
		d := after[i] - before[i]
		switch {
		case n == busy && d > 1: // the slow request may arrive after the first count
			t.Errorf("busy server %s got %d quick requests", n, d-1)
		case n != busy && d != 10:
			t.Errorf("idle server %s got %d of 20 quick requests, want 10", n, d)
		}
	}
}

func TestSourceHash(t *testing.T) {
	t.Parallel()
	a, b, c := threeBackends(t)
	p, _ := load(t, upstream("Balance source", "a "+a.addr, "b "+b.addr, "c "+c.addr))
	used := map[string]bool{}
	for i := range 30 {
		ip := fmt.Sprintf("10.0.%d.%d:4000", i/7, i*37%250+1)
		first := get(t, p, ip, "/")
		used[first] = true
		for j := range 4 {
			ipOtherPort := ip[:len(ip)-4] + fmt.Sprint(5000+j)
			if got := get(t, p, ipOtherPort, fmt.Sprintf("/p%d", j)); got != first {
				t.Fatalf("client %s went to %s then %s", ip, first, got)
			}
		}
	}
	if len(used) != 3 {
		t.Errorf("30 clients used servers %v, want all three", used)
	}
}

func TestURIHash(t *testing.T) {
	t.Parallel()
	a, b, c := threeBackends(t)
	p, _ := load(t, upstream("Balance uri", "a "+a.addr, "b "+b.addr, "c "+c.addr))
	used := map[string]bool{}
	for i := range 30 {
		target := fmt.Sprintf("/item/%d", i)
		first := get(t, p, "", target)
		used[first] = true
		for j := range 3 {
			remote := fmt.Sprintf("10.9.9.%d:1000", j+1)
			if got := get(t, p, remote, fmt.Sprintf("%s?v=%d", target, j)); got != first {
				t.Fatalf("%s went to %s then %s", target, first, got)
			}
		}
	}
	if len(used) != 3 {
		t.Errorf("30 paths used servers %v, want all three", used)
	}
}

func TestURLParam(t *testing.T) {
	t.Parallel()
	a, b, c := threeBackends(t)
	p, _ := load(t, upstream("Balance url_param user", "a "+a.addr, "b "+b.addr, "c "+c.addr))
	used := map[string]bool{}
	for i := range 30 {
		first := get(t, p, "", fmt.Sprintf("/x?user=u%d", i))
		used[first] = true
		for j := range 3 {
			if got := get(t, p, "", fmt.Sprintf("/y%d?a=%d&user=u%d&b=2", j, j, i)); got != first {
				t.Fatalf("user u%d went to %s then %s", i, first, got)
			}
		}
	}
	if len(used) != 3 {
		t.Errorf("30 users used servers %v, want all three", used)
	}
	// Without the parameter (or with an empty one): round robin.
	before := counts(a, b, c)
	for i := range 30 {
		target := "/none"
		if i%2 == 1 {
			target = "/none?user="
		}
		get(t, p, "", target)
	}
	after := counts(a, b, c)
	for i := range after {
		if d := after[i] - before[i]; d != 10 {
			t.Errorf("without the parameter: server %d got %d of 30, want 10", i, d)
		}
	}
}

func TestRandom(t *testing.T) {
	t.Parallel()
	a, b, c := threeBackends(t)
	p, _ := load(t, upstream("Balance random", "a "+a.addr, "b "+b.addr, "c "+c.addr))
	for range 600 {
		get(t, p, "", "/")
	}
	for i, n := range counts(a, b, c) {
		if n < 120 || n > 280 {
			t.Errorf("server %d got %d of 600, want about 200", i, n)
		}
	}
}

func TestBackupOnlyWhenOthersDown(t *testing.T) {
	t.Parallel()
	a, b, c := threeBackends(t)
	p, px := load(t, upstream("Balance roundrobin\nRetries 3\nCheck /health interval=1h fall=1",
		"a "+a.addr+" check", "b "+b.addr+" check", "c "+c.addr+" backup"))
	for range 20 {
		get(t, p, "", "/")
	}
	if got := counts(a, b, c); !slices.Equal(got, []int64{10, 10, 0}) {
		t.Fatalf("with a and b up: counts %v, want 10:10:0", got)
	}
	a.stop()
	b.stop()
	// Every request is answered: a connect failure is retried on the other
	// server, then on the backup.
	for range 10 {
		if got := get(t, p, "", "/"); got != "c" {
			t.Fatalf("answered by %s, want the backup c", got)
		}
	}
	for _, n := range []string{"a", "b"} {
		if s := serverStats(t, px, n); s.State != "DOWN" || s.Errors == 0 {
			t.Errorf("server %s: state %s errors %d, want DOWN with errors", n, s.State, s.Errors)
		}
	}
	if s := serverStats(t, px, "c"); !s.Backup || s.Requests != 10 {
		t.Errorf("backup c: %+v, want 10 requests", s)
	}
}
