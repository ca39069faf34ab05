package http1

import (
	"bufio"
	"bytes"
	"net/http"
	"strings"
	"testing"
)

func TestParseResponse(t *testing.T) {
	tests := []struct {
		in        string
		n         int // -1: len(in)
		status    int
		reason    string
		cl        int64
		chunked   bool
		keepAlive bool
		err       bool
	}{
		{in: "HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\n", n: -1, status: 200, reason: "OK", cl: 13, keepAlive: true},
		{in: "HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\nHello, World!", n: 39, status: 200, reason: "OK", cl: 13, keepAlive: true},
		{in: "HTTP/1.1 204\r\n\r\n", n: -1, status: 204, cl: -1, keepAlive: true},
		{in: "HTTP/1.1 404 \r\n\r\n", n: -1, status: 404, cl: -1, keepAlive: true},
		{in: "HTTP/1.1 200 Very  Fine\tIndeed\r\nX: y\r\n\r\n", n: -1, status: 200, reason: "Very  Fine\tIndeed", cl: -1, keepAlive: true},
		{in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", n: -1, status: 200, reason: "OK", cl: -1, chunked: true, keepAlive: true},
		{in: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", n: -1, status: 200, reason: "OK", cl: -1, chunked: true, keepAlive: true},
		{in: "HTTP/1.1 200 OK\r\nConnection: Keep-Alive, close\r\n\r\n", n: -1, status: 200, reason: "OK", cl: -1},
		{in: "HTTP/1.0 200 OK\r\n\r\n", n: -1, status: 200, reason: "OK", cl: -1},
		{in: "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 5, 5\r\n\r\n", n: -1, status: 200, reason: "OK", cl: 5, keepAlive: true},
		{in: "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n\x81\x00", n: 77, status: 101, reason: "Switching Protocols", cl: -1, keepAlive: true},
		// incomplete
		{in: "HTTP/1.1 200 OK\r\nContent-Len", n: 0, status: 200, reason: "OK", cl: -1},
		{in: "HTTP/1.1 2", n: 0, cl: -1},
		{in: "", n: 0, cl: -1},
		// refused
		{in: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", err: true},
		{in: "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", err: true},
		{in: "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n", err: true},
		{in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", err: true},
		{in: "HTTP/1.0 200\r\nTrAnsfer-EnCoding:ChUnked\r\n\r\n", err: true}, // RFC 9112 §6.1: faulty framing
		{in: "HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n", err: true},
		{in: "HTTP/1.1 200 OK\r\nX : a\r\n\r\n", err: true},
		{in: "HTTP/1.1 200 OK\r\nX: a\x00b\r\n\r\n", err: true},
		{in: "HTTP/1.1 200 OK\r\nX: a\rb\r\n\r\n", err: true},
		{in: "HTTP/1.1 200 OK\nX: a\r\n\r\n", err: true},
		{in: "HTTP/1.1 200 OK\r\nX: a\n\r\n\r\n", err: true},
		{in: "HTTP/2.0 200 OK\r\n\r\n", err: true},
		{in: "HTTP/1.2 200 OK\r\n\r\n", err: true},
		{in: "HTTP/1.1 20 OK\r\n\r\n", err: true},
		{in: "HTTP/1.1 099 OK\r\n\r\n", err: true},
		{in: "HTTP/1.1 2000 OK\r\n\r\n", err: true},
		{in: "ICY 200 OK\r\n\r\n", err: true},
		{in: "HTTP/1.1 200 OK\r\n", n: 0, status: 200, reason: "OK", cl: -1},
		{in: "HTTP/1.1 200 O\x01K\r\n", err: true},
	}
	var resp Response
	for _, tt := range tests {
		n, err := ParseResponse([]byte(tt.in), &resp, nil)
		if tt.err {
			if err == nil {
				t.Errorf("%q: want an error, got n=%d", tt.in, n)
			} else if pe, ok := err.(*ParseError); !ok || pe.Status != 502 {
				t.Errorf("%q: error %v, want a 502 ParseError", tt.in, err)
			}
			continue
		}
		want := tt.n
		if want < 0 {
			want = len(tt.in)
		}
		if err != nil || n != want {
			t.Errorf("%q: got %d %v, want %d", tt.in, n, err, want)
			continue
		}
		if n == 0 {
			continue
		}
		if resp.Status != tt.status || string(resp.Reason) != tt.reason || resp.ContentLength != tt.cl ||
			resp.Chunked != tt.chunked || resp.KeepAlive != tt.keepAlive {
			t.Errorf("%q: got %+v", tt.in, resp)
		}
	}
}

func TestParseResponseLimits(t *testing.T) {
	var resp Response
	head := "HTTP/1.1 200 OK\r\n" + strings.Repeat("X-A: b\r\n", 10) + "\r\n"
	if _, err := ParseResponse([]byte(head), &resp, &Limits{MaxHeaders: 9}); err == nil {
		t.Error("10 fields with MaxHeaders 9: no error")
	}
	if n, err := ParseResponse([]byte(head), &resp, &Limits{MaxHeaders: 10}); err != nil || n != len(head) {
		t.Errorf("10 fields with MaxHeaders 10: %d %v", n, err)
	}
	if _, err := ParseResponse([]byte(head), &resp, &Limits{MaxHeaderBytes: len(head) - 1}); err == nil {
		t.Error("head over MaxHeaderBytes: no error")
	}
	if n, err := ParseResponse([]byte(head[:len(head)-3]), &resp, &Limits{MaxHeaderBytes: len(head)}); err != nil || n != 0 {
		t.Errorf("partial head within the limit: %d %v", n, err)
	}
	if got := string(resp.Header("x-a")); got != "b" && len(resp.Headers) != 0 {
		t.Errorf("Header(x-a) = %q", got)
	}
}

func TestParseResponseAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocations differ under the race detector")
	}
	buf := []byte("HTTP/1.1 200 OK\r\nServer: nginx\r\nDate: Thu, 26 Nov 2026 14:00:00 GMT\r\nContent-Type: text/plain\r\nContent-Length: 13\r\nConnection: keep-alive\r\n\r\n")
	var resp Response
	ParseResponse(buf, &resp, nil)
	allocs := testing.AllocsPerRun(100, func() {
		if n, err := ParseResponse(buf, &resp, nil); err != nil || n != len(buf) {
			t.Fatal(n, err)
		}
	})
	if allocs != 0 {
		t.Errorf("ParseResponse: %v allocs per run, want 0", allocs)
	}
}

var respSeeds = []string{
	"HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\nHello, World!",
	"HTTP/1.1 204\r\n\r\n",
	"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
	"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 5, 5\r\n\r\n",
	"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
	"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
	"HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n",
	"HTTP/1.1 200 OK\nX: a\n\n",
	"HTTP/2.0 200 OK\r\n\r\n",
}

// FuzzParseResponse checks that ParseResponse never panics, returns n
// within buf and views into the head, finds a complete head exactly at n
// (every shorter prefix is incomplete or refused), and agrees with
// net/http's ReadResponse on the status and the framing of heads both
// accept.
func FuzzParseResponse(f *testing.F) {
	for _, s := range respSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, buf []byte) {
		var resp Response
		n, err := ParseResponse(buf, &resp, nil)
		if n < 0 || n > len(buf) || err != nil && n != 0 {
			t.Fatalf("n=%d err=%v len=%d", n, err, len(buf))
		}
		if n == 0 {
			return
		}
		for _, h := range resp.Headers {
			if !within(buf[:n], h.Name) || !within(buf[:n], h.Value) {
				t.Fatalf("header %q: %q is not a view into the head", h.Name, h.Value)
			}
		}
		var p Response
		for i := 0; i < n; i++ {
			if m, _ := ParseResponse(buf[:i], &p, nil); m != 0 {
				t.Fatalf("prefix of %d bytes complete at %d, full head at %d", i, m, n)
			}
		}
		hr, herr := http.ReadResponse(bufio.NewReader(bytes.NewReader(buf[:n])), nil)
		if herr != nil {
			return // net/http is stricter on some heads (e.g. a reason with obs-text)
		}
		if hr.StatusCode != resp.Status {
			t.Fatalf("status %d, net/http %d", resp.Status, hr.StatusCode)
		}
		// A 1xx, 204 or 304 response has no body whatever its framing
		// fields say: net/http drops them, ParseResponse reports them and
		// leaves the decision to the caller (see its doc).
		if resp.Status < 200 || resp.Status == 204 || resp.Status == 304 {
			return
		}
		if resp.Chunked != (len(hr.TransferEncoding) > 0) {
			t.Fatalf("chunked %v, net/http %v", resp.Chunked, hr.TransferEncoding)
		}
		if !resp.Chunked && resp.ContentLength >= 0 && hr.ContentLength != resp.ContentLength {
			t.Fatalf("Content-Length %d, net/http %d", resp.ContentLength, hr.ContentLength)
		}
	})
}

// within reports whether the non-empty sub-slice b lies inside buf.
func within(buf, b []byte) bool {
	if len(b) == 0 {
		return true
	}
	for i := range buf {
		if &buf[i] == &b[0] {
			return i+len(b) <= len(buf)
		}
	}
	return false
}
