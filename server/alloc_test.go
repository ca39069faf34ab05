//go:build !race

package server

import (
	"testing"

	"gibbon/http1"
)

// TestRespondAllocs checks that the respond path allocates nothing for a
// keep-alive GET of a cached file, from memory or from an open file, nor
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
	for _, tc := range []struct{ name, req string }{
		{"OPTIONS *", "OPTIONS * HTTP/1.1\r\nHost: localhost\r\n\r\n"},
		{"redirect", "GET /hello.txt HTTP/1.1\r\nHost: old.test\r\n\r\n"},
		{"GET in memory", "GET /hello.txt HTTP/1.1\r\nHost: localhost\r\n\r\n"},
		{"GET open file", "GET /big.bin HTTP/1.1\r\nHost: localhost\r\n\r\n"},
	} {
		if n := run(tc.req); n != 0 {
			t.Errorf("%s: %v allocs, want 0", tc.name, n)
		}
	}
}
