package http2_test

import (
	"fmt"

	"gibbon/http2"
)

// hello answers every request with "hello" once the request has ended.
type hello struct{ sc *http2.ServerConn }

func (h *hello) OnRequest(s *http2.Stream) {
	if s.RequestEnded() {
		h.answer(s)
	}
}

func (h *hello) OnData(s *http2.Stream, p []byte, end bool) {
	h.sc.Consume(s.ID, len(p)) // body consumed: return the flow-control credit
	if end {
		h.answer(s)
	}
}

func (h *hello) answer(s *http2.Stream) {
	h.sc.WriteHeaders(s.ID, 200, []http2.HeaderField{{Name: "content-type", Value: "text/plain"}}, false)
	h.sc.WriteData(s.ID, []byte("hello"), true) // all taken: the window is 65535
}

func (h *hello) OnWritable(s *http2.Stream)                  {}
func (h *hello) OnClose(s *http2.Stream, code http2.ErrCode) {}

// A ServerConn fed a client's preface, SETTINGS and a GET, in memory.
func ExampleServerConn() {
	h := &hello{}
	sc := http2.NewServerConn(h, nil)
	h.sc = sc
	in := append([]byte(http2.ClientPreface), http2.AppendSettings(nil)...)
	// HPACK static table: :method GET, :scheme http, :path /
	in = http2.AppendHeaderBlock(in, 1, true, []byte{0x82, 0x86, 0x84}, 16384)
	if err := sc.Feed(in); err != nil {
		fmt.Println(err)
	}
	out := sc.Output() // a driver writes this to the connection
	for len(out) >= http2.FrameHeaderLen {
		fh := http2.ParseFrameHeader(out)
		fmt.Println(fh.Type, fh.StreamID, fh.Length)
		out = out[http2.FrameHeaderLen+int(fh.Length):]
	}
	sc.Advance(len(sc.Output()))
	// Output:
	// SETTINGS 0 30
	// WINDOW_UPDATE 0 4
	// SETTINGS 0 0
	// HEADERS 1 10
	// DATA 1 5
}
