package server

import (
	"bufio"
	"bytes"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"gibbon/config"
	"gibbon/http1"
	"gibbon/internal/clock"
	"gibbon/static"
	"gibbon/vhost"
)

// newResponder returns a responder over cfg, with its clock and a file
// cache of its own.
func newResponder(tb testing.TB, cfg *config.Config) *responder {
	tb.Helper()
	vt, err := vhost.New(cfg.Hosts)
	if err != nil {
		tb.Fatal(err)
	}
	set := newSettings(cfg, vt, "0.1")
	clk := clock.New()
	tb.Cleanup(clk.Stop)
	cache := static.NewCache(static.CacheConfig{})
	tb.Cleanup(cache.Close)
	return &responder{respondConfig: respondConfig{set: &set, clock: clk, draining: func() bool { return false }}, cache: cache}
}

func parse(tb testing.TB, raw string, req *http1.Request) {
	tb.Helper()
	n, err := http1.Parse([]byte(raw), req, nil)
	if err != nil || n != len(raw) {
		tb.Fatalf("Parse(%q) = %d, %v", raw, n, err)
	}
}

// TestRespondPlan checks the plan invariants every driver relies on: the
// head is the appended part of dst and parses, Content-Length matches the
// body the plan carries, and HEAD plans carry no body.
func TestRespondPlan(t *testing.T) {
	t.Parallel()
	rs := newResponder(t, testConfig(t))
	tests := []struct {
		name, req string
		status    int
		file      bool // the body comes from a file: open or in memory
	}{
		{"file", "GET /hello.txt HTTP/1.1\r\nHost: a\r\n\r\n", 200, true},
		{"head", "HEAD /hello.txt HTTP/1.1\r\nHost: a\r\n\r\n", 200, false},
		{"multi range", "GET /big.bin HTTP/1.1\r\nHost: a\r\nRange: bytes=0-9,20-29\r\n\r\n", 206, true},
		{"custom 404", "GET /nope HTTP/1.1\r\nHost: a\r\n\r\n", 404, true},
		{"built-in 405", "PUT /hello.txt HTTP/1.1\r\nHost: a\r\n\r\n", 405, false},
		{"redirect host", "GET /x?y HTTP/1.1\r\nHost: OLD.test.\r\n\r\n", 301, false},
		{"directory", "GET /dir HTTP/1.1\r\nHost: a\r\n\r\n", 301, false},
		{"options star", "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n", 200, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var req http1.Request
			var rsp response
			parse(t, tc.req, &req)
			prefix := []byte("pending")
			dst := rs.respond(prefix, &req, &rsp)
			defer rsp.release()
			if !bytes.HasPrefix(dst, prefix) || !bytes.Equal(dst[len(prefix):], rsp.head) {
				t.Fatal("head is not the appended part of dst")
			}
			if file := rsp.file != nil || rsp.data != nil; rsp.status != tc.status || file != tc.file {
				t.Fatalf("status %d file %v, want %d %v", rsp.status, file, tc.status, tc.file)
			}
			resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(rsp.head)), &http.Request{Method: "HEAD"})
			if err != nil {
				t.Fatalf("head %q: %v", rsp.head, err)
			}
			cl, _ := strconv.ParseInt(resp.Header.Get("Content-Length"), 10, 64)
			if req.Method == http1.MethodHead {
				if rsp.bodyLen() != 0 {
					t.Fatalf("HEAD plan carries %d body bytes", rsp.bodyLen())
				}
			} else if cl != rsp.bodyLen() {
				t.Fatalf("Content-Length %d, plan body %d bytes", cl, rsp.bodyLen())
			}
		})
	}
}

func TestRespondKeepAlive(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.Server.MaxKeepAliveRequest = 3
	rs := newResponder(t, cfg)
	draining := false
	rs.draining = func() bool { return draining }
	var req http1.Request
	var rsp response
	steps := []struct {
		req      string
		draining bool
		close    bool
		conn     string
	}{
		{"GET /hello.txt HTTP/1.0\r\n\r\n", false, true, "close"},
		{"GET /hello.txt HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", false, false, "keep-alive"},
		{"GET /hello.txt HTTP/1.1\r\nHost: a\r\n\r\n", false, true, "close"}, // third request: over MaxKeepAliveRequest
	}
	for i, st := range steps {
		draining = st.draining
		parse(t, st.req, &req)
		rs.respond(nil, &req, &rsp)
		rsp.release()
		if rsp.close != st.close || !strings.Contains(string(rsp.head), "Connection: "+st.conn+"\r\n") {
			t.Fatalf("step %d: close=%v head %q", i, rsp.close, rsp.head)
		}
	}
	rs.served = 0
	draining = true
	parse(t, "GET /hello.txt HTTP/1.1\r\nHost: a\r\n\r\n", &req)
	rs.respond(nil, &req, &rsp)
	rsp.release()
	if !rsp.close {
		t.Fatal("keep-alive while draining")
	}
}

func TestPlanBody(t *testing.T) {
	t.Parallel()
	set := settings{maxRequestSize: 100}
	tests := []struct {
		name, req string
		want      bodyPlan
	}{
		{"none", "GET / HTTP/1.1\r\nHost: a\r\n\r\n", bodyPlan{action: bodyNone}},
		{"small", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n", bodyPlan{action: bodyDiscard, budget: -2}},
		{"exact", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 52\r\n\r\n", bodyPlan{action: bodyDiscard, budget: -2}},
		{"over", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 53\r\n\r\n", bodyPlan{action: bodyReject, status: 413}},
		{"chunked", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n", bodyPlan{action: bodyDiscard, budget: -2}},
		{"continue", "POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n", bodyPlan{action: bodyDiscard, sendContinue: true, budget: -2}},
		{"continue over", "POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 99\r\n\r\n", bodyPlan{action: bodyReject, status: 413}},
		{"expectation", "POST / HTTP/1.1\r\nHost: a\r\nExpect: x\r\nContent-Length: 1\r\n\r\n", bodyPlan{action: bodyReject, status: 417}},
		{"http/1.0 expectation ignored", "GET / HTTP/1.0\r\nExpect: x\r\n\r\n", bodyPlan{action: bodyNone}},
		{"http/1.0 continue ignored", "POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n", bodyPlan{action: bodyDiscard, budget: -2}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var req http1.Request
			parse(t, tc.req, &req)
			want := tc.want
			if want.budget == -2 { // whatever the head leaves of 100 bytes
				want.budget = 100 - int64(len(tc.req))
			}
			if got := set.planBody(&req, len(tc.req)); got != want {
				t.Fatalf("planBody = %+v, want %+v", got, want)
			}
		})
	}
}

func TestDiscarder(t *testing.T) {
	t.Parallel()
	const next = "GET / HTTP/1.1\r\n"
	tests := []struct {
		name    string
		head    string
		body    string
		budget  int64
		wantErr int // status, 0 = none
	}{
		{"length", "Content-Length: 5\r\n", "abcde", -1, 0},
		{"chunked", "Transfer-Encoding: chunked\r\n", "5\r\nabcde\r\n3;e=1\r\nfgh\r\n0\r\nX: y\r\n\r\n", -1, 0},
		{"chunked in budget", "Transfer-Encoding: chunked\r\n", "5\r\nabcde\r\n0\r\n\r\n", 15, 0},
		{"chunked over budget", "Transfer-Encoding: chunked\r\n", "5\r\nabcde\r\n0\r\n\r\n", 14, 413},
		{"malformed", "Transfer-Encoding: chunked\r\n", "q\r\n", -1, 400},
	}
	for _, tc := range tests {
		for _, step := range []int{1, 3, 1000} {
			t.Run(tc.name+"/"+strconv.Itoa(step), func(t *testing.T) {
				var req http1.Request
				parse(t, "POST / HTTP/1.1\r\nHost: a\r\n"+tc.head+"\r\n", &req)
				var d discarder
				d.start(&req, bodyPlan{action: bodyDiscard, budget: tc.budget})
				in := []byte(tc.body + next)
				used, done := 0, false
				var err error
				for !done && err == nil && used < len(in) {
					end := min(used+step, len(in))
					var n int
					n, done, err = d.feed(in[used:end])
					used += n
				}
				if tc.wantErr != 0 {
					if bodyStatus(err) != tc.wantErr {
						t.Fatalf("err %v, want status %d", err, tc.wantErr)
					}
					return
				}
				if err != nil || !done || string(in[used:]) != next {
					t.Fatalf("done=%v err=%v rest %q", done, err, in[used:])
				}
			})
		}
	}
}

// BenchmarkRespond measures the driver-agnostic path of a keep-alive GET of
// an existing file: vhost lookup, static.Serve, head serialisation and
// release. Only static.Serve allocates.
func BenchmarkRespond(b *testing.B) {
	rs := newResponder(b, testConfig(b))
	var req http1.Request
	parse(b, "GET /hello.txt HTTP/1.1\r\nHost: localhost\r\nUser-Agent: bench\r\nAccept: */*\r\n\r\n", &req)
	var rsp response
	dst := make([]byte, 0, 1024)
	b.ReportAllocs()
	for b.Loop() {
		dst = rs.respond(dst[:0], &req, &rsp)
		rsp.release()
	}
}

// BenchmarkRespondHead measures the same path without the static handler:
// the serialisation of a response head.
func BenchmarkRespondHead(b *testing.B) {
	rs := newResponder(b, testConfig(b))
	var req http1.Request
	parse(b, "OPTIONS * HTTP/1.1\r\nHost: localhost\r\n\r\n", &req)
	var rsp response
	dst := make([]byte, 0, 1024)
	b.ReportAllocs()
	for b.Loop() {
		dst = rs.respond(dst[:0], &req, &rsp)
		rsp.release()
	}
}

// BenchmarkConnGet measures the whole goroutine driver over a real
// keep-alive TCP connection: one GET of a small file per round trip.
func BenchmarkConnGet(b *testing.B) {
	cfg := testConfig(b)
	cfg.Server.MaxKeepAliveRequest = 0 // unlimited
	s, err := New(cfg, Options{Logger: discardLogger()})
	if err != nil {
		b.Fatal(err)
	}
	if err := s.Listen(); err != nil {
		b.Fatal(err)
	}
	go s.Serve()
	defer s.Shutdown(b.Context())
	rc := dial(b, s.Addrs()[0].String())
	req := []byte("GET /hello.txt HTTP/1.1\r\nHost: localhost\r\n\r\n")
	buf := make([]byte, 4096)
	want := 0
	b.ReportAllocs()
	for b.Loop() {
		rc.nc.Write(req)
		got := 0
		for want == 0 || got < want {
			n, err := rc.nc.Read(buf[got:])
			if err != nil {
				b.Fatal(err)
			}
			got += n
			if want == 0 && bytes.Contains(buf[:got], []byte("\r\n\r\n")) {
				want = bytes.Index(buf[:got], []byte("\r\n\r\n")) + 4 + len(testFiles["hello.txt"])
			}
		}
	}
}
