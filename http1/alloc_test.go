//go:build !race

package http1

import "testing"

func TestParseAllocs(t *testing.T) {
	buf := []byte(browserGet)
	var req Request
	if _, err := Parse(buf, &req, nil); err != nil { // warm-up: grows Headers
		t.Fatal(err)
	}
	lim := &Limits{}
	allocs := testing.AllocsPerRun(100, func() {
		if n, err := Parse(buf, &req, lim); err != nil || n != len(buf) {
			t.Fatal(n, err)
		}
	})
	if allocs != 0 {
		t.Errorf("Parse: %v allocs per run, want 0", allocs)
	}
	if len(req.Headers) < 12 {
		t.Errorf("browserGet has %d headers, want >= 12", len(req.Headers))
	}
}

func TestParseErrorAllocs(t *testing.T) {
	buf := []byte("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n")
	var req Request
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := Parse(buf, &req, nil); err == nil {
			t.Fatal("no error")
		}
	})
	if allocs != 0 {
		t.Errorf("Parse error path: %v allocs per run, want 0", allocs)
	}
}

func TestChunkedDecodeAllocs(t *testing.T) {
	src := []byte("5;ext=1\r\nhello\r\n1a\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\nTrailer: x\r\n\r\n")
	dst := make([]byte, 64)
	var d ChunkedDecoder
	allocs := testing.AllocsPerRun(100, func() {
		d.Reset()
		if _, n, err := d.Decode(dst, src); err != nil || n != 31 || !d.Done() {
			t.Fatal(n, err)
		}
	})
	if allocs != 0 {
		t.Errorf("Decode: %v allocs per run, want 0", allocs)
	}
}

func TestAppendAllocs(t *testing.T) {
	dst := make([]byte, 0, 512)
	etag := []byte(`"5f3a-1b2c"`)
	allocs := testing.AllocsPerRun(100, func() {
		dst = appendResponseHead(dst[:0], etag)
	})
	if allocs != 0 {
		t.Errorf("Append*: %v allocs per run, want 0", allocs)
	}
}
