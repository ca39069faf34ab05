//go:build !race

package http2

import (
	"testing"
)

// sink is a Handler that consumes body octets and allocates nothing.
type sink struct{ sc *ServerConn }

func (k *sink) OnRequest(s *Stream)                  {}
func (k *sink) OnData(s *Stream, p []byte, end bool) { k.sc.Consume(s.ID, len(p)) }
func (k *sink) OnWritable(s *Stream)                 {}
func (k *sink) OnClose(s *Stream, code ErrCode)      {}

// openUpload returns a ServerConn with stream 1 open for a request body.
func openUpload(tb testing.TB) *ServerConn {
	k := &sink{}
	sc := NewServerConn(k, nil)
	k.sc = sc
	in := append([]byte(ClientPreface), AppendSettings(nil)...)
	// :method POST, :scheme http, :path / (static table indices)
	in = AppendHeaderBlock(in, 1, false, []byte{0x83, 0x86, 0x84}, maxWriteFrame)
	if err := sc.Feed(in); err != nil || sc.Stream(1) == nil {
		tb.Fatal(err)
	}
	sc.Advance(len(sc.Output()))
	return sc
}

func TestFeedDataAllocs(t *testing.T) {
	sc := openUpload(t)
	frame := AppendData(nil, 1, false, make([]byte, 4096))
	ping := AppendPing(nil, false, [8]byte{1})
	wu := AppendWindowUpdate(nil, 1, 10)
	n := testing.AllocsPerRun(1000, func() {
		sc.Feed(frame)
		sc.Feed(ping)
		sc.Feed(wu[:5]) // split frames too
		sc.Feed(wu[5:])
		sc.Advance(len(sc.Output()))
	})
	if n != 0 {
		t.Fatalf("%v allocations per DATA+PING+WINDOW_UPDATE", n)
	}
}

func BenchmarkFeedData(b *testing.B) {
	sc := openUpload(b)
	frame := AppendData(nil, 1, false, make([]byte, 16384))
	b.ReportAllocs()
	b.SetBytes(int64(len(frame)))
	for b.Loop() {
		sc.Feed(frame)
		sc.Advance(len(sc.Output()))
	}
}

func BenchmarkWriteData(b *testing.B) {
	sc := openUpload(b)
	sc.Feed(AppendWindowUpdate(nil, 0, MaxWindowSize-initialWindow))
	sc.WriteHeaders(1, 200, nil, false)
	body := make([]byte, 16384)
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		sc.streams[1].sendWindow = MaxWindowSize
		sc.sendWindow = MaxWindowSize
		sc.WriteData(1, body, false)
		sc.Advance(len(sc.Output()))
	}
}
