//go:build !race

package server

import (
	"testing"

	"gibbon/http1"
	"gibbon/static"
)

// TestRespondAllocs checks that the respond path adds no allocation to
// what static.Serve makes for a keep-alive GET of a file, and none at all
// for a response without the static handler.
func TestRespondAllocs(t *testing.T) {
	rs := newResponder(t, testConfig(t))
	var req http1.Request
	var rsp response
	dst := make([]byte, 0, 1024)
	run := func(raw string) float64 {
		parse(t, raw, &req)
		return testing.AllocsPerRun(200, func() {
			dst = rs.respond(dst[:0], &req, &rsp)
			rsp.release()
		})
	}
	if n := run("OPTIONS * HTTP/1.1\r\nHost: localhost\r\n\r\n"); n != 0 {
		t.Errorf("OPTIONS *: %v allocs, want 0", n)
	}
	if n := run("GET /hello.txt HTTP/1.1\r\nHost: old.test\r\n\r\n"); n != 0 {
		t.Errorf("redirect: %v allocs, want 0", n)
	}
	// static.Serve alone, for comparison.
	parse(t, "GET /hello.txt HTTP/1.1\r\nHost: localhost\r\n\r\n", &req)
	rs.sreq.Method, rs.sreq.Path = req.Method, req.Path
	serveOnly := testing.AllocsPerRun(200, func() {
		res := static.Serve(rs.set.vhosts.Default().DocumentRoot, &rs.sreq, &rs.set.static)
		res.Close()
	})
	full := run("GET /hello.txt HTTP/1.1\r\nHost: localhost\r\n\r\n")
	if full > serveOnly {
		t.Errorf("GET: %v allocs, static.Serve alone %v", full, serveOnly)
	}
	t.Logf("GET: %v allocs (static.Serve: %v)", full, serveOnly)
}
