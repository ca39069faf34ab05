package http1

import (
	"strings"
	"testing"
)

// decodeAll decodes src in one call with a large dst.
func decodeAll(src string) (out string, consumed int, done bool, err error) {
	var d ChunkedDecoder
	dst := make([]byte, len(src))
	nsrc, ndst, err := d.Decode(dst, []byte(src))
	return string(dst[:ndst]), nsrc, d.Done(), err
}

func TestChunkedDecode(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		in       string
		out      string
		consumed int // -1: all of in
		done     bool
	}{
		{"single chunk", "5\r\nhello\r\n0\r\n\r\n", "hello", -1, true},
		{"two chunks", "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", "hello world", -1, true},
		{"hex upper and lower", "A\r\n0123456789\r\na\r\nabcdefghij\r\n0\r\n\r\n", "0123456789abcdefghij", -1, true},
		{"leading zeros", "0005\r\nhello\r\n000\r\n\r\n", "hello", -1, true},
		{"extension", "5;name=value\r\nhello\r\n0;last\r\n\r\n", "hello", -1, true},
		{"extension quoted with BWS", "5 ; a=\"b;c\" ;d\r\nhello\r\n0\r\n\r\n", "hello", -1, true},
		{"trailers", "5\r\nhello\r\n0\r\nExpires: never\r\nX-Sum: 1\r\n\r\n", "hello", -1, true},
		{"empty body", "0\r\n\r\n", "", -1, true},
		{"stops after body", "0\r\n\r\nGET / HTTP/1.1\r\n", "", 5, true},
		{"incomplete size", "5", "", -1, false},
		{"incomplete data", "5\r\nhel", "hel", -1, false},
		{"incomplete trailer", "0\r\nX: y\r\n", "", -1, false},
		{"incomplete end", "0\r\n\r", "", -1, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			out, n, done, err := decodeAll(tc.in)
			want := tc.consumed
			if want < 0 {
				want = len(tc.in)
			}
			if err != nil || out != tc.out || n != want || done != tc.done {
				t.Fatalf("Decode(%q) = %q, %d, done=%v, %v; want %q, %d, done=%v",
					tc.in, out, n, done, err, tc.out, want, tc.done)
			}
		})
	}
}

func TestChunkedErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		in     string
		status int
	}{
		{"no size", "\r\nhello\r\n0\r\n\r\n", 400},
		{"non-hex size", "g\r\n", 400},
		{"negative size", "-5\r\nhello\r\n", 400},
		{"0x prefix", "0x5\r\nhello\r\n", 400},
		{"size overflow", "8000000000000000\r\n", 400},
		{"size overflow long", "fffffffffffffffffffff\r\n", 400},
		{"space without ext", "5 \r\nhello\r\n", 400},
		{"bare LF after size", "5\nhello\r\n0\r\n\r\n", 400},
		{"CR not followed by LF", "5\rhello\r\n", 400},
		{"data too long", "5\r\nhello!\r\n0\r\n\r\n", 400},
		{"data without CRLF", "5\r\nhelloX\r\n", 400},
		{"data with bare LF", "5\r\nhello\n0\r\n\r\n", 400},
		{"NUL in extension", "5;a\x00\r\nhello\r\n", 400},
		{"LF in extension", "5;a\nhello\r\n", 400},
		{"chunk line too long", "5;" + strings.Repeat("a", maxChunkLine) + "\r\n", 400},
		{"leading zeros too long", strings.Repeat("0", maxChunkLine+1) + "5\r\n", 400},
		{"trailer obs-fold", "0\r\nX: y\r\n z\r\n\r\n", 400},
		{"trailer without colon", "0\r\nXy\r\n\r\n", 400},
		{"trailer space before colon", "0\r\nX : y\r\n\r\n", 400},
		{"trailer NUL", "0\r\nX: a\x00b\r\n\r\n", 400},
		{"trailer bare LF", "0\r\nX: y\n\r\n", 400},
		{"final bare LF", "0\r\n\n", 400},
		{"final CR junk", "0\r\n\rx", 400},
		{"trailer too large", "0\r\nX: " + strings.Repeat("a", DefaultMaxTrailerBytes) + "\r\n\r\n", 431},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, _, _, err := decodeAll(tc.in)
			if got := statusOf(err); got != tc.status {
				t.Fatalf("Decode(%q) err = %v (status %d), want %d", tc.in, err, got, tc.status)
			}
		})
	}
}

func TestChunkedStickyError(t *testing.T) {
	t.Parallel()
	var d ChunkedDecoder
	dst := make([]byte, 16)
	if _, _, err := d.Decode(dst, []byte("z")); statusOf(err) != 400 {
		t.Fatalf("err = %v", err)
	}
	if n, m, err := d.Decode(dst, []byte("5\r\nhello\r\n")); statusOf(err) != 400 || n != 0 || m != 0 {
		t.Fatalf("after error: %d, %d, %v", n, m, err)
	}
	d.Reset()
	if _, m, err := d.Decode(dst, []byte("5\r\nhello\r\n")); err != nil || m != 5 {
		t.Fatalf("after Reset: %d, %v", m, err)
	}
}

func TestChunkedSmallDst(t *testing.T) {
	t.Parallel()
	src := []byte("a\r\n0123456789\r\n3\r\nabc\r\n0\r\nT: 1\r\n\r\nrest")
	var d ChunkedDecoder
	dst := make([]byte, 3)
	var out []byte
	for !d.Done() {
		nsrc, ndst, err := d.Decode(dst, src)
		if err != nil {
			t.Fatal(err)
		}
		if nsrc == 0 && ndst == 0 {
			t.Fatalf("no progress with %q left", src)
		}
		out = append(out, dst[:ndst]...)
		src = src[nsrc:]
	}
	if string(out) != "0123456789abc" || string(src) != "rest" {
		t.Fatalf("out %q, left %q", out, src)
	}
}

func TestChunkedMaxTrailerBytes(t *testing.T) {
	t.Parallel()
	in := []byte("0\r\nX: 12345\r\n\r\n") // 12 trailer bytes after "0\r\n"
	d := ChunkedDecoder{MaxTrailerBytes: 12}
	if _, _, err := d.Decode(nil, in); err != nil || !d.Done() {
		t.Fatalf("at limit: %v done=%v", err, d.Done())
	}
	d.MaxTrailerBytes = 11
	d.Reset()
	if d.MaxTrailerBytes != 11 {
		t.Fatal("Reset dropped MaxTrailerBytes")
	}
	if _, _, err := d.Decode(nil, in); statusOf(err) != 431 {
		t.Fatalf("over limit: %v", err)
	}
}

// TestChunkedRoundTrip encodes with AppendChunkHeader/LastChunk and decodes.
func TestChunkedRoundTrip(t *testing.T) {
	t.Parallel()
	var enc []byte
	var want []byte
	for i := 1; i < 300; i += 37 {
		data := []byte(strings.Repeat(string(rune('a'+i%26)), i))
		enc = AppendChunkHeader(enc, len(data))
		enc = append(enc, data...)
		enc = append(enc, '\r', '\n')
		want = append(want, data...)
	}
	enc = append(enc, LastChunk...)
	out, n, done, err := decodeAll(string(enc))
	if err != nil || !done || n != len(enc) || out != string(want) {
		t.Fatalf("round trip: n=%d done=%v err=%v equal=%v", n, done, err, out == string(want))
	}
}

// TestChunkedTrailer checks the trailer fields kept with KeepTrailer,
// whether the body arrives in one piece or byte by byte, and that Reset
// forgets them.
func TestChunkedTrailer(t *testing.T) {
	t.Parallel()
	in := "5\r\nhello\r\n0\r\nX-Sum: 42 \r\nx-list:a, b\r\nEmpty:\r\n\r\nnext"
	want := []string{"X-Sum=42", "x-list=a, b", "Empty="}
	for _, step := range []int{len(in), 1} {
		d := ChunkedDecoder{KeepTrailer: true}
		dst := make([]byte, 16)
		src := []byte(in)
		for !d.Done() {
			n, _, err := d.Decode(dst, src[:min(step, len(src))])
			if err != nil {
				t.Fatal(err)
			}
			src = src[n:]
		}
		var got []string
		for _, f := range d.Trailer() {
			got = append(got, string(f.Name)+"="+string(f.Value))
		}
		if strings.Join(got, "|") != strings.Join(want, "|") || string(src) != "next" {
			t.Errorf("step %d: trailer %q, left %q", step, got, src)
		}
		d.Reset()
		if d.Trailer() != nil || !d.KeepTrailer {
			t.Errorf("Reset: trailer %q, KeepTrailer %v", d.Trailer(), d.KeepTrailer)
		}
	}
	var d ChunkedDecoder
	d.Decode(make([]byte, 16), []byte(in))
	if d.Trailer() != nil {
		t.Errorf("without KeepTrailer: %q", d.Trailer())
	}
}
