package http2

import (
	"bytes"
	"testing"

	xhttp2 "golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// answerer answers every complete request with 200 and a short body.
type answerer struct{ sc *ServerConn }

func (a *answerer) OnRequest(s *Stream) {
	if s.RequestEnded() {
		a.answer(s)
	}
}

func (a *answerer) OnData(s *Stream, p []byte, end bool) {
	a.sc.Consume(s.ID, len(p))
	if end {
		a.answer(s)
	}
}

func (a *answerer) answer(s *Stream) {
	if a.sc.WriteHeaders(s.ID, 200, []HeaderField{{"content-type", "text/plain"}}, false) == nil {
		a.sc.WriteData(s.ID, []byte(s.Path), true)
	}
}

func (a *answerer) OnWritable(s *Stream)            { a.sc.WriteData(s.ID, []byte("more"), true) }
func (a *answerer) OnClose(s *Stream, code ErrCode) {}

// fuzzSeeds are conversations after the preface and an empty SETTINGS.
func fuzzSeeds() [][]byte {
	var seeds [][]byte
	var b, eb bytes.Buffer
	fr := xhttp2.NewFramer(&b, nil)
	enc := hpack.NewEncoder(&eb)
	for _, f := range [][2]string{{":method", "POST"}, {":scheme", "http"}, {":path", "/x"}, {"content-length", "3"}} {
		enc.WriteField(hpack.HeaderField{Name: f[0], Value: f[1]})
	}
	fr.WriteHeaders(xhttp2.HeadersFrameParam{StreamID: 1, BlockFragment: eb.Bytes()[:4], Priority: xhttp2.PriorityParam{StreamDep: 0, Weight: 5}})
	fr.WriteContinuation(1, true, eb.Bytes()[4:])
	fr.WriteDataPadded(1, false, []byte("ab"), []byte{0, 0})
	fr.WriteWindowUpdate(0, 100)
	fr.WriteData(1, false, []byte("c"))
	fr.WriteHeaders(xhttp2.HeadersFrameParam{StreamID: 1, BlockFragment: []byte{0x40, 1, 'x', 1, 'y'}, EndStream: true, EndHeaders: true})
	seeds = append(seeds, append([]byte(nil), b.Bytes()...))
	b.Reset()
	fr.WritePing(false, [8]byte{1})
	fr.WriteSettings(xhttp2.Setting{ID: xhttp2.SettingInitialWindowSize, Val: 1})
	fr.WriteHeaders(xhttp2.HeadersFrameParam{StreamID: 3, BlockFragment: []byte{0x82, 0x86, 0x84}, EndStream: true, EndHeaders: true})
	fr.WriteRSTStream(3, xhttp2.ErrCodeCancel)
	fr.WritePriority(5, xhttp2.PriorityParam{StreamDep: 3})
	fr.WriteGoAway(0, xhttp2.ErrCodeNo, nil)
	seeds = append(seeds, append([]byte(nil), b.Bytes()...))
	return seeds
}

// FuzzServerConn feeds arbitrary frames, in arbitrary pieces, to a
// ServerConn whose handler answers requests: it must never panic, and what
// it holds must stay within its limits.
func FuzzServerConn(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add(s, uint8(7), false)
		f.Add(s, uint8(200), true)
	}
	cfg := &Config{MaxConcurrentStreams: 8, MaxHeaderListSize: 2048, MaxHeaderBlockSize: 8192, MaxControlFrames: 64, MaxOutputBuffer: 32 << 10}
	f.Fuzz(func(t *testing.T, data []byte, piece uint8, drain bool) {
		a := &answerer{}
		sc := NewServerConn(a, cfg)
		a.sc = sc
		in := append([]byte(ClientPreface), AppendSettings(nil)...)
		in = append(in, data...)
		step := int(piece)%64 + 1
		for len(in) > 0 {
			n := min(step, len(in))
			err := sc.Feed(in[:n])
			in = in[n:]
			if len(sc.in) > FrameHeaderLen+int(sc.cfg.MaxFrameSize) {
				t.Fatalf("input buffer %d", len(sc.in))
			}
			if len(sc.streams) > int(cfg.MaxConcurrentStreams) {
				t.Fatalf("%d streams", len(sc.streams))
			}
			if len(sc.Output()) > 1<<20 {
				t.Fatalf("output %d", len(sc.Output()))
			}
			if drain {
				sc.Advance(len(sc.Output()))
			}
			if err != nil {
				if sc.Feed([]byte{0}) != err || !sc.Done() || len(sc.streams) != 0 {
					t.Fatal("connection error not sticky")
				}
				return
			}
		}
		sc.Shutdown()
		sc.Close()
	})
}

// FuzzParseFrameHeader checks that appending a parsed header gives back
// the same octets, reserved bit aside.
func FuzzParseFrameHeader(f *testing.F) {
	f.Add([]byte{0, 0, 8, 6, 1, 0x80, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) < FrameHeaderLen {
			return
		}
		h := ParseFrameHeader(b)
		out := AppendFrameHeader(nil, h)
		want := append([]byte(nil), b[:FrameHeaderLen]...)
		want[5] &= 0x7f
		if !bytes.Equal(out, want) || h.Length > MaxMaxFrameSize {
			t.Fatalf("%x → %+v → %x", b[:9], h, out)
		}
	})
}
