package fastcgi

import (
	"fmt"
	"net"
	"path/filepath"
	"testing"
	"time"

	"gibbon/stage"
)

// childBackend is a backend that works as php-fpm does: a unix socket
// accepted by a number of children, each of which takes a connection only
// when free and stays with it until it closes. A child answers
// GET_VALUES at once and each request once its STDIN ended ("ok"; after
// 300 ms for /slow.php). addChildren starts more children.
func childBackend(t *testing.T, children int) (line string, addChildren func(n int)) {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "children.sock")
	ln, err := net.Listen("unix", sock)
	must(t, err)
	t.Cleanup(func() { ln.Close() })
	child := func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			serveChild(c)
			c.Close()
		}
	}
	addChildren = func(n int) {
		for range n {
			go child()
		}
	}
	addChildren(children)
	return "ServerPath " + sock, addChildren
}

// serveChild answers the records of one connection until it closes.
func serveChild(c net.Conn) {
	rr, rw := newRecordReader(c), newRecordWriter(c)
	var params []byte
	for {
		h, content, err := rr.next()
		if err != nil {
			return
		}
		switch {
		case h.Type == typeGetValues:
			rw.write(typeGetValuesResult, 0, appendPair(nil, "FCGI_MPXS_CONNS", "0"))
			rw.flush()
		case h.Type == typeParams:
			params = append(params, content...)
		case h.Type == typeStdin && len(content) == 0:
			pairs, _ := decodePairs(params)
			params = params[:0]
			for _, p := range pairs {
				if p == [2]string{"SCRIPT_NAME", "/slow.php"} {
					time.Sleep(300 * time.Millisecond)
				}
			}
			answer(c, "Content-Type: text/plain\r\n\r\nok", 0)
		}
	}
}

// load sends n concurrent requests for target and checks every answer.
func load(t *testing.T, p *stage.Pipeline, target string, n int) {
	t.Helper()
	concurrently(t, n, func(int) error {
		w, err := get(t, p, "GET", target, "")
		if err == nil && w.String() != "ok" {
			err = fmt.Errorf("%d %q", w.Code, w.String())
		}
		return err
	})
}

// limits returns the backend's learnt limit and its open connections.
func limits(p *stage.Pipeline) (limit, open int) {
	b := p.Plugin("fastcgi").(*FastCGI).backends[0]
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.limit, b.open
}

var childFiles = map[string]string{"ok.php": "", "slow.php": ""}

// TestLearnsCapacity: with more connections allowed than the backend has
// children, the connections no child takes are noticed (no answer to
// GET_VALUES) and the pool keeps to what the backend takes.
func TestLearnsCapacity(t *testing.T) {
	t.Parallel()
	line, _ := childBackend(t, 2)
	p, _ := site(t, serverConf("children", line, "MaxConnections 8", "QueueTimeout 60", "ReadTimeout 30"), "    Match /.*\\.php fastcgi\n", childFiles)
	for range 3 {
		load(t, p, "/ok.php", 200)
	}
	if limit, open := limits(p); limit < 1 || limit > 2 || open > limit {
		t.Errorf("limit %d with %d open, want at most the 2 children", limit, open)
	}
}

// TestSlowFirstRequest: a new connection's first request that takes long
// is not taken for one no child accepted: the backend answered its
// GET_VALUES at once.
func TestSlowFirstRequest(t *testing.T) {
	t.Parallel()
	line, _ := childBackend(t, 4)
	p, _ := site(t, serverConf("children", line, "MaxConnections 4"), "    Match /.*\\.php fastcgi\n", childFiles)
	load(t, p, "/slow.php", 4)
	if limit, _ := limits(p); limit != 4 {
		t.Errorf("limit %d after slow first requests, want 4", limit)
	}
}

// TestLimitRises: a learnt limit rises again, one connection at a time,
// while requests wait for a slot and the backend takes the new
// connections (php-fpm's pm = dynamic starting more children).
func TestLimitRises(t *testing.T) {
	t.Parallel()
	line, addChildren := childBackend(t, 1)
	p, _ := site(t, serverConf("children", line, "MaxConnections 4", "QueueTimeout 60", "ReadTimeout 30"), "    Match /.*\\.php fastcgi\n", childFiles)
	load(t, p, "/ok.php", 50)
	if limit, _ := limits(p); limit != 1 {
		t.Fatalf("limit %d with one child, want 1", limit)
	}
	addChildren(2)
	deadline := time.Now().Add(30 * time.Second)
	for {
		load(t, p, "/ok.php", 50)
		if limit, _ := limits(p); limit >= 3 {
			break
		}
		if time.Now().After(deadline) {
			limit, _ := limits(p)
			t.Fatalf("limit %d after 30 s with 3 children, want 3", limit)
		}
	}
}
