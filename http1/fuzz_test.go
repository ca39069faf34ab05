package http1

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

var parseSeeds = []string{
	simpleGet,
	browserGet,
	"\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n",
	"GET http://h:1/p?q HTTP/1.1\r\nHost: h\r\n\r\n",
	"GET http://h HTTP/1.1\r\nHost: h\r\n\r\n",
	"OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n",
	"CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\n\r\n",
	"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
	"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\nExpect: 100-continue\r\n\r\nhello",
	"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
	"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET / HTTP/1.0\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: a\r\nX: b\r\n c\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: a\r\nX: b\rc\r\n\r\n",
	"GET / HTTP/1.1\nHost: a\n\n",
	"GET / HTTP/2.0\r\n\r\n",
	"GET / HTTP/3\r\n\r\n",
	"GET /\r\n\r\n",
	"BREW / HTTP/1.1\r\nHost: a\r\n\r\n",
	"GET / HTTP/1.1\r\nHost : a\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
	"GET http://u@h/ HTTP/1.1\r\nHost: h\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: a\r\nUpgrade: h2c\r\nConnection: Upgrade, HTTP2-Settings\r\n\r\n",
	"GET /\x00 HTTP/1.1\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: a",
}

// FuzzParse checks that Parse never panics, returns n within buf, returns
// views into the head, is deterministic, that a complete head is complete
// exactly at n, and that a valid head parses without allocating.
func FuzzParse(f *testing.F) {
	for _, s := range parseSeeds {
		f.Add([]byte(s), uint16(0), uint16(0))
	}
	f.Add([]byte("GET /abcdefgh HTTP/1.1\r\nHost: a\r\n\r\n"), uint16(40), uint16(4))
	f.Fuzz(func(t *testing.T, data []byte, maxHead, maxURI uint16) {
		lim := &Limits{MaxHeaderBytes: int(maxHead), MaxURI: int(maxURI), MaxHeaders: 20}
		buf := bytes.Clone(data)
		var req Request
		n, err := Parse(buf, &req, lim)
		if !bytes.Equal(buf, data) {
			t.Fatal("Parse modified its input")
		}
		if err != nil {
			if n != 0 || statusOf(err) < 400 {
				t.Fatalf("Parse = %d, %v", n, err)
			}
		}
		if n < 0 || n > len(buf) {
			t.Fatalf("n = %d, len(buf) = %d", n, len(buf))
		}

		var again Request
		n2, err2 := Parse(bytes.Clone(data), &again, lim)
		if n2 != n || statusOf(err2) != statusOf(err) {
			t.Fatalf("re-parse: %d, %v; first %d, %v", n2, err2, n, err)
		}
		if n == 0 {
			return
		}
		if !sameRequest(&req, &again) {
			t.Fatalf("re-parse differs:\n%+v\n%+v", req, again)
		}
		if m, err := Parse(buf[:n], &again, lim); m != n || err != nil {
			t.Fatalf("Parse(buf[:n]) = %d, %v; want %d", m, err, n)
		}
		if m, err := Parse(buf[:n-1], &again, lim); m != 0 || err != nil {
			t.Fatalf("Parse(buf[:n-1]) = %d, %v; want 0, nil", m, err)
		}
		if req.Method == MethodUnknown || req.Version == 0 || req.ContentLength < -1 ||
			req.Chunked && req.ContentLength != -1 {
			t.Fatalf("inconsistent request %+v", req)
		}
		if allocs := testing.AllocsPerRun(1, func() { _, _ = Parse(buf, &req, lim) }); allocs != 0 && !raceEnabled {
			t.Fatalf("%v allocs for a valid request", allocs)
		}
		// Mark the head: every view must now read only the marker.
		for i := range buf[:n] {
			buf[i] = 0xfe
		}
		for i := range buf[n:] {
			buf[n+i] = 0xff
		}
		for _, v := range views(&req) {
			if len(v) > n || len(bytes.Trim(v, "\xfe")) != 0 {
				t.Fatalf("view %q is not inside the head", v)
			}
		}
	})
}

func views(r *Request) [][]byte {
	v := [][]byte{r.MethodName, r.Target, r.Path, r.Query, r.Host, r.Upgrade,
		r.IfNoneMatch, r.IfModifiedSince, r.IfRange, r.Range, r.IfMatch, r.IfUnmodifiedSince}
	for _, h := range r.Headers {
		v = append(v, h.Name, h.Value)
	}
	return v
}

func sameRequest(a, b *Request) bool {
	va, vb := views(a), views(b)
	if len(va) != len(vb) {
		return false
	}
	for i := range va {
		if !bytes.Equal(va[i], vb[i]) || (va[i] == nil) != (vb[i] == nil) {
			return false
		}
	}
	return a.Method == b.Method && a.Version == b.Version && a.ContentLength == b.ContentLength &&
		a.Chunked == b.Chunked && a.KeepAlive == b.KeepAlive && a.Expect100 == b.Expect100
}

var chunkedSeeds = []string{
	"5\r\nhello\r\n0\r\n\r\n",
	"5;a=b\r\nhello\r\n6 ; c\r\n world\r\n0\r\nX: y\r\n\r\nnext",
	"A\r\n0123456789\r\n0\r\n\r\n",
	"ffffffffffffffff\r\n",
	"5\nhello\r\n",
	"0\r\nX: y\r\n z\r\n\r\n",
	"5\r\nhelloXX0\r\n\r\n",
	"0\r\n\r\n",
	"",
}

type decodeResult struct {
	out      []byte
	consumed int
	done     bool
	status   int
	trailer  string // the kept trailer fields, "name=value\n" each
}

// trailerString renders the trailer d kept.
func trailerString(d *ChunkedDecoder) string {
	var b strings.Builder
	for _, f := range d.Trailer() {
		fmt.Fprintf(&b, "%s=%s\n", f.Name, f.Value)
	}
	return b.String()
}

// decodeSplit feeds src to a ChunkedDecoder in pieces cut at rng's choice,
// into a dst of dstSize bytes (0 means large enough for everything).
func decodeSplit(src []byte, rng *rand.Rand, dstSize int) decodeResult {
	d := ChunkedDecoder{KeepTrailer: true}
	var r decodeResult
	if dstSize <= 0 {
		dstSize = len(src) + 1
	}
	dst := make([]byte, dstSize)
	pending := 0 // bytes of src offered but not yet consumed
	off := 0
	for {
		end := off + pending
		if end < len(src) {
			end += 1 + rng.IntN(len(src)-end)
		}
		nsrc, ndst, err := d.Decode(dst, src[off:end])
		r.out = append(r.out, dst[:ndst]...)
		off += nsrc
		pending = end - off
		if err != nil {
			r.status = statusOf(err)
			break
		}
		if d.Done() || nsrc == 0 && ndst == 0 && end == len(src) {
			break
		}
	}
	r.consumed = off
	r.done = d.Done()
	r.trailer = trailerString(&d)
	if r.status != 0 {
		r.consumed = -1 // the offset of an error is not part of the contract
	}
	return r
}

// FuzzChunked checks that decoding in random pieces and with a small dst
// gives the same body, end, error status and kept trailer as decoding in
// one go, and that each kept trailer field is a token name and a value
// without CR, LF or surrounding whitespace.
func FuzzChunked(f *testing.F) {
	for i, s := range chunkedSeeds {
		f.Add([]byte(s), uint64(i), uint8(0))
	}
	f.Add([]byte("a\r\n0123456789\r\n0\r\n\r\n"), uint64(7), uint8(3))
	f.Fuzz(func(t *testing.T, src []byte, seed uint64, dstSize uint8) {
		d := ChunkedDecoder{KeepTrailer: true}
		dst := make([]byte, len(src))
		nsrc, ndst, err := d.Decode(dst, src)
		if nsrc < 0 || nsrc > len(src) || ndst < 0 || ndst > nsrc {
			t.Fatalf("Decode = %d, %d", nsrc, ndst)
		}
		if err != nil && statusOf(err) < 400 {
			t.Fatalf("error %v is not a ParseError", err)
		}
		if err == nil && !d.Done() && nsrc != len(src) {
			t.Fatalf("stopped at %d of %d without reason", nsrc, len(src))
		}
		for _, f := range d.Trailer() {
			if len(f.Name) == 0 || bytes.ContainsAny(f.Name, " \t\r\n:") || bytes.ContainsAny(f.Value, "\r\n") ||
				!bytes.Equal(f.Value, bytes.Trim(f.Value, " \t")) {
				t.Fatalf("trailer field %q: %q", f.Name, f.Value)
			}
		}
		whole := decodeResult{out: dst[:ndst], consumed: nsrc, done: d.Done(), status: statusOf(err), trailer: trailerString(&d)}
		if whole.status != 0 {
			whole.consumed = -1
		}
		rng := rand.New(rand.NewPCG(seed, seed>>32))
		for _, size := range []int{0, int(dstSize)} {
			got := decodeSplit(src, rng, size)
			if !bytes.Equal(got.out, whole.out) || got.consumed != whole.consumed ||
				got.done != whole.done || got.status != whole.status || got.trailer != whole.trailer {
				t.Fatalf("dst %d: split %+v, whole %+v", size, got, whole)
			}
		}
	})
}
