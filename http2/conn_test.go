package http2

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"

	xhttp2 "golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// recorder is a Handler that records events.
type recorder struct {
	sc          *ServerConn
	reqs        map[uint32]*Stream
	body        map[uint32][]byte
	ended       map[uint32]bool
	closed      map[uint32]ErrCode
	writable    []uint32
	autoConsume bool
	onRequest   func(s *Stream)
}

func (r *recorder) OnRequest(s *Stream) {
	r.reqs[s.ID] = s
	if r.onRequest != nil {
		r.onRequest(s)
	}
}

func (r *recorder) OnData(s *Stream, p []byte, end bool) {
	r.body[s.ID] = append(r.body[s.ID], p...)
	if end {
		r.ended[s.ID] = true
	}
	if r.autoConsume {
		r.sc.Consume(s.ID, len(p))
	}
}
func (r *recorder) OnWritable(s *Stream)            { r.writable = append(r.writable, s.ID) }
func (r *recorder) OnClose(s *Stream, code ErrCode) { r.closed[s.ID] = code }

// frame is a summary of a frame the server wrote.
type frame struct {
	Type     FrameType
	StreamID uint32
	Flags    Flags
	Code     ErrCode // RST_STREAM, GOAWAY
	Last     uint32  // GOAWAY
	Data     []byte  // DATA, PING
	Header   []hpack.HeaderField
	Settings []Setting
	Incr     uint32 // WINDOW_UPDATE
}

// peer is a client built on x/net's Framer, talking to a ServerConn in
// memory.
type peer struct {
	t    *testing.T
	sc   *ServerConn
	rec  *recorder
	wbuf bytes.Buffer
	fr   *xhttp2.Framer
	enc  *hpack.Encoder
	ebuf bytes.Buffer
	dec  *hpack.Decoder
	now  time.Time
	err  error // last Feed error
}

func newPeer(t *testing.T, cfg *Config) *peer {
	t.Helper()
	p := &peer{t: t, now: time.Unix(1e9, 0)}
	p.rec = &recorder{reqs: map[uint32]*Stream{}, body: map[uint32][]byte{}, ended: map[uint32]bool{}, closed: map[uint32]ErrCode{}, autoConsume: true}
	var c Config
	if cfg != nil {
		c = *cfg
	}
	c.Now = func() time.Time { return p.now }
	p.sc = NewServerConn(p.rec, &c)
	p.rec.sc = p.sc
	p.fr = xhttp2.NewFramer(&p.wbuf, nil)
	p.fr.AllowIllegalWrites = true
	p.enc = hpack.NewEncoder(&p.ebuf)
	p.dec = hpack.NewDecoder(4096, nil)
	p.wbuf.WriteString(ClientPreface)
	p.fr.WriteSettings()
	p.flush()
	got := p.read()
	if len(got) < 2 || got[0].Type != FrameSettings || got[len(got)-1].Type != FrameSettings || got[len(got)-1].Flags != FlagAck {
		t.Fatalf("handshake: %+v", got)
	}
	return p
}

// flush feeds what the framer wrote to the ServerConn.
func (p *peer) flush() error {
	p.err = p.sc.Feed(p.wbuf.Bytes())
	p.wbuf.Reset()
	return p.err
}

// read parses and drains the server's output.
func (p *peer) read() []frame {
	p.t.Helper()
	out := append([]byte(nil), p.sc.Output()...)
	p.sc.Advance(len(out))
	fr := xhttp2.NewFramer(nil, bytes.NewReader(out))
	fr.SetMaxReadFrameSize(1 << 24)
	var fs []frame
	for {
		f, err := fr.ReadFrame()
		if err == io.EOF {
			return fs
		}
		if err != nil {
			p.t.Fatalf("server wrote a bad frame: %v", err)
		}
		h := f.Header()
		s := frame{Type: FrameType(h.Type), StreamID: h.StreamID, Flags: Flags(h.Flags)}
		switch f := f.(type) {
		case *xhttp2.DataFrame:
			s.Data = append([]byte(nil), f.Data()...)
		case *xhttp2.HeadersFrame:
			s.Header, _ = p.dec.DecodeFull(f.HeaderBlockFragment())
		case *xhttp2.ContinuationFrame:
			s.Header, _ = p.dec.DecodeFull(f.HeaderBlockFragment())
		case *xhttp2.RSTStreamFrame:
			s.Code = ErrCode(f.ErrCode)
		case *xhttp2.GoAwayFrame:
			s.Code, s.Last = ErrCode(f.ErrCode), f.LastStreamID
		case *xhttp2.PingFrame:
			s.Data = append([]byte(nil), f.Data[:]...)
		case *xhttp2.WindowUpdateFrame:
			s.Incr = f.Increment
		case *xhttp2.SettingsFrame:
			f.ForeachSetting(func(st xhttp2.Setting) error {
				s.Settings = append(s.Settings, Setting{SettingID(st.ID), st.Val})
				return nil
			})
		}
		fs = append(fs, s)
	}
}

// block encodes a header list.
func (p *peer) block(fields ...string) []byte {
	p.ebuf.Reset()
	for i := 0; i+1 < len(fields); i += 2 {
		p.enc.WriteField(hpack.HeaderField{Name: fields[i], Value: fields[i+1]})
	}
	return append([]byte(nil), p.ebuf.Bytes()...)
}

func (p *peer) get(id uint32, path string, end bool, extra ...string) {
	f := append([]string{":method", "GET", ":scheme", "https", ":authority", "example.org", ":path", path}, extra...)
	p.fr.WriteHeaders(xhttp2.HeadersFrameParam{StreamID: id, BlockFragment: p.block(f...), EndStream: end, EndHeaders: true})
	p.flush()
}

func (p *peer) post(id uint32, path string, extra ...string) {
	f := append([]string{":method", "POST", ":scheme", "https", ":authority", "example.org", ":path", path}, extra...)
	p.fr.WriteHeaders(xhttp2.HeadersFrameParam{StreamID: id, BlockFragment: p.block(f...), EndHeaders: true})
	p.flush()
}

func find(fs []frame, t FrameType) *frame {
	for i := range fs {
		if fs[i].Type == t {
			return &fs[i]
		}
	}
	return nil
}

func (p *peer) wantGoAway(code ErrCode) {
	p.t.Helper()
	var ce *ConnError
	if !errors.As(p.err, &ce) || ce.Code != code {
		p.t.Fatalf("Feed error %v, want connection error %v", p.err, code)
	}
	g := find(p.read(), FrameGoAway)
	if g == nil || g.Code != code {
		p.t.Fatalf("GOAWAY %+v, want %v", g, code)
	}
	if !p.sc.Done() {
		p.t.Fatal("not Done after a connection error")
	}
}

func (p *peer) wantRST(id uint32, code ErrCode) {
	p.t.Helper()
	if p.err != nil {
		p.t.Fatalf("connection error %v, want RST_STREAM %v", p.err, code)
	}
	for _, f := range p.read() {
		if f.Type == FrameRSTStream && f.StreamID == id {
			if f.Code != code {
				p.t.Fatalf("RST_STREAM %v, want %v", f.Code, code)
			}
			return
		}
	}
	p.t.Fatalf("no RST_STREAM on stream %d", id)
}

func TestSimpleExchange(t *testing.T) {
	p := newPeer(t, nil)
	p.get(1, "/a?b", true, "accept", "*/*", "cookie", "x=1")
	s := p.rec.reqs[1]
	if s == nil || s.Method != "GET" || s.Path != "/a?b" || s.Authority != "example.org" || s.Scheme != "https" ||
		!s.RequestEnded() || s.HeaderValue("accept") != "*/*" || len(s.Header) != 2 || s.State() != StateHalfClosedRemote {
		t.Fatalf("request %+v", s)
	}
	if err := p.sc.WriteHeaders(1, 200, []HeaderField{{"Content-Type", "text/plain"}, {"Connection", "close"}}, false); err != nil {
		t.Fatal(err)
	}
	if n, err := p.sc.WriteData(1, []byte("hello"), false); n != 5 || err != nil {
		t.Fatal(n, err)
	}
	if err := p.sc.WriteTrailers(1, []HeaderField{{"x-sum", "1"}}); err != nil {
		t.Fatal(err)
	}
	fs := p.read()
	if len(fs) != 3 || fs[0].Type != FrameHeaders || fs[1].Type != FrameData || fs[2].Type != FrameHeaders || fs[2].Flags&FlagEndStream == 0 {
		t.Fatalf("frames %+v", fs)
	}
	want := []hpack.HeaderField{{Name: ":status", Value: "200"}, {Name: "content-type", Value: "text/plain"}}
	if len(fs[0].Header) != 2 || fs[0].Header[0] != want[0] || fs[0].Header[1] != want[1] {
		t.Fatalf("headers %v (connection must be dropped, names lower-cased)", fs[0].Header)
	}
	if code, ok := p.rec.closed[1]; !ok || code != NoError || p.sc.ActiveStreams() != 0 {
		t.Fatalf("stream not closed normally: %v %v", code, ok)
	}
	if _, err := p.sc.WriteData(1, []byte("x"), true); err != ErrStreamClosed {
		t.Fatalf("write after close: %v", err)
	}
}

func TestHeadAndErrors(t *testing.T) {
	p := newPeer(t, nil)
	p.get(1, "/", true)
	if _, err := p.sc.WriteData(1, nil, true); err != ErrNoHeaders {
		t.Fatalf("data before headers: %v", err)
	}
	if err := p.sc.WriteHeaders(1, 101, nil, false); err != ErrBadStatus {
		t.Fatalf("101: %v", err)
	}
	if err := p.sc.WriteHeaders(1, 103, []HeaderField{{"link", "</s.css>"}}, false); err != nil {
		t.Fatalf("103: %v", err)
	}
	if err := p.sc.WriteHeaders(1, 200, nil, true); err != nil {
		t.Fatal(err)
	}
	fs := p.read()
	if len(fs) != 2 || fs[1].Flags&FlagEndStream == 0 || fs[0].Header[0].Value != "103" {
		t.Fatalf("frames %+v", fs)
	}
}

func TestRequestBodyAndTrailers(t *testing.T) {
	p := newPeer(t, nil)
	p.post(1, "/up", "content-length", "6")
	p.fr.WriteData(1, false, []byte("abc"))
	p.fr.WriteDataPadded(1, false, []byte("def"), make([]byte, 10))
	p.fr.WriteHeaders(xhttp2.HeadersFrameParam{StreamID: 1, BlockFragment: p.block("x-checksum", "42"), EndStream: true, EndHeaders: true})
	p.flush()
	s := p.rec.reqs[1]
	if string(p.rec.body[1]) != "abcdef" || !p.rec.ended[1] || len(s.Trailer) != 1 || s.Trailer[0].Value != "42" {
		t.Fatalf("body %q ended %v trailer %v", p.rec.body[1], p.rec.ended[1], s.Trailer)
	}
	if s.ContentLength != 6 || s.Received() != 6 {
		t.Fatal(s.ContentLength, s.Received())
	}
}

// TestForbiddenTrailers: a trailer field a trailer must not carry resets
// a stream that announced trailers, as x/net/http2's server does, and is
// dropped from one that did not.
func TestForbiddenTrailers(t *testing.T) {
	for _, tc := range []struct {
		name     string
		announce []string
		trailer  []string
		reset    bool
		kept     []HeaderField
	}{
		{"announced host", []string{"trailer", "x-sum"}, []string{"x-sum", "1", "host", "evil"}, true, nil},
		{"announced if-match", []string{"trailer", "X-Sum, If-Match"}, []string{"if-match", "*"}, true, nil},
		{"announced empty", []string{"trailer", ""}, []string{"content-type", "a/b"}, true, nil},
		{"unannounced", nil, []string{"x-sum", "1", "authorization", "x", "if-none-match", "*"}, false, []HeaderField{{"x-sum", "1"}}},
		{"only bogus keys announced", []string{"trailer", "content-length"}, []string{"host", "h", "x-a", "b"}, false, []HeaderField{{"x-a", "b"}}},
		{"allowed", []string{"trailer", "x-sum"}, []string{"x-sum", "1", "x-sum", "2"}, false, []HeaderField{{"x-sum", "1"}, {"x-sum", "2"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newPeer(t, nil)
			p.post(1, "/up", tc.announce...)
			p.fr.WriteData(1, false, []byte("abc"))
			p.fr.WriteHeaders(xhttp2.HeadersFrameParam{StreamID: 1, BlockFragment: p.block(tc.trailer...), EndStream: true, EndHeaders: true})
			p.flush()
			if tc.reset {
				p.wantRST(1, ProtocolError)
				return
			}
			if s := p.rec.reqs[1]; !p.rec.ended[1] || !reflect.DeepEqual(s.Trailer, tc.kept) {
				t.Fatalf("ended %v, trailer %v; want %v", p.rec.ended[1], s.Trailer, tc.kept)
			}
		})
	}
}

func TestContentLengthMismatch(t *testing.T) {
	p := newPeer(t, nil)
	p.post(1, "/", "content-length", "2")
	p.fr.WriteData(1, true, []byte("abc"))
	p.flush()
	p.wantRST(1, ProtocolError)
	if p.rec.closed[1] != ProtocolError {
		t.Fatal("OnClose not called with PROTOCOL_ERROR")
	}
	p.post(3, "/", "content-length", "5")
	p.fr.WriteData(3, true, []byte("abc"))
	p.flush()
	p.wantRST(3, ProtocolError)
}

func TestMalformedRequests(t *testing.T) {
	for name, fields := range map[string][]string{
		"uppercase":      {":method", "GET", ":scheme", "http", ":path", "/", "Accept", "x"},
		"connection":     {":method", "GET", ":scheme", "http", ":path", "/", "connection", "close"},
		"te":             {":method", "GET", ":scheme", "http", ":path", "/", "te", "gzip"},
		"no path":        {":method", "GET", ":scheme", "http"},
		"empty path":     {":method", "GET", ":scheme", "http", ":path", ""},
		"relative path":  {":method", "GET", ":scheme", "http", ":path", "a"},
		"dup method":     {":method", "GET", ":method", "GET", ":scheme", "http", ":path", "/"},
		"status":         {":method", "GET", ":scheme", "http", ":path", "/", ":status", "200"},
		"late pseudo":    {":method", "GET", ":scheme", "http", "a", "b", ":path", "/"},
		"bad value":      {":method", "GET", ":scheme", "http", ":path", "/", "a", "b\nc"},
		"space value":    {":method", "GET", ":scheme", "http", ":path", "/", "a", " b"},
		"connect path":   {":method", "CONNECT", ":authority", "a:1", ":path", "/"},
		"bad length":     {":method", "GET", ":scheme", "http", ":path", "/", "content-length", "1x"},
		"two lengths":    {":method", "GET", ":scheme", "http", ":path", "/", "content-length", "1", "content-length", "2"},
		"protocol":       {":method", "CONNECT", ":protocol", "websocket", ":scheme", "http", ":path", "/"},
		"length no body": {":method", "GET", ":scheme", "http", ":path", "/", "content-length", "3"},
	} {
		t.Run(name, func(t *testing.T) {
			p := newPeer(t, nil)
			p.fr.WriteHeaders(xhttp2.HeadersFrameParam{StreamID: 1, BlockFragment: p.block(fields...), EndStream: true, EndHeaders: true})
			p.flush()
			p.wantRST(1, ProtocolError)
			if len(p.rec.reqs) != 0 {
				t.Fatal("OnRequest called for a malformed request")
			}
			// The connection goes on.
			p.get(3, "/ok", true)
			if p.rec.reqs[3] == nil {
				t.Fatal("next request lost")
			}
		})
	}
	p := newPeer(t, nil)
	p.fr.WriteHeaders(xhttp2.HeadersFrameParam{StreamID: 1, BlockFragment: p.block(":method", "CONNECT", ":authority", "a:443"), EndHeaders: true})
	p.flush()
	if s := p.rec.reqs[1]; s == nil || s.Authority != "a:443" {
		t.Fatal("CONNECT refused")
	}
}

func TestStreamStateErrors(t *testing.T) {
	t.Run("data on idle", func(t *testing.T) {
		p := newPeer(t, nil)
		p.fr.WriteData(5, true, []byte("x"))
		p.flush()
		p.wantGoAway(ProtocolError)
	})
	t.Run("data after end", func(t *testing.T) {
		p := newPeer(t, nil)
		p.get(1, "/", true)
		p.fr.WriteData(1, true, []byte("x"))
		p.flush()
		p.wantRST(1, StreamClosed)
	})
	t.Run("headers on closed", func(t *testing.T) {
		p := newPeer(t, nil)
		p.get(1, "/", true)
		p.sc.WriteHeaders(1, 204, nil, true)
		p.read()
		p.get(1, "/", true)
		p.wantGoAway(StreamClosed)
	})
	t.Run("decreasing id", func(t *testing.T) {
		p := newPeer(t, nil)
		p.get(5, "/", true)
		p.get(3, "/", true)
		p.wantGoAway(ProtocolError)
	})
	t.Run("even id", func(t *testing.T) {
		p := newPeer(t, nil)
		p.get(2, "/", true)
		p.wantGoAway(ProtocolError)
	})
	t.Run("data after our reset is ignored", func(t *testing.T) {
		p := newPeer(t, nil)
		p.post(1, "/")
		p.sc.Reset(1, Cancel)
		p.read()
		p.fr.WriteData(1, true, []byte("late"))
		p.flush()
		if p.err != nil || len(p.read()) != 0 {
			t.Fatal("late DATA after RST_STREAM not ignored")
		}
	})
	t.Run("self dependency", func(t *testing.T) {
		p := newPeer(t, nil)
		p.fr.WritePriority(3, xhttp2.PriorityParam{StreamDep: 3, Weight: 1})
		p.flush()
		p.wantRST(3, ProtocolError)
	})
	t.Run("continuation interrupted", func(t *testing.T) {
		p := newPeer(t, nil)
		p.fr.WriteHeaders(xhttp2.HeadersFrameParam{StreamID: 1, BlockFragment: p.block(":method", "GET"), EndHeaders: false})
		p.fr.WritePing(false, [8]byte{})
		p.flush()
		p.wantGoAway(ProtocolError)
	})
	t.Run("push promise", func(t *testing.T) {
		p := newPeer(t, nil)
		p.fr.WritePushPromise(xhttp2.PushPromiseParam{StreamID: 1, PromiseID: 2, BlockFragment: p.block("a", "b"), EndHeaders: true})
		p.flush()
		p.wantGoAway(ProtocolError)
	})
	t.Run("bad preface", func(t *testing.T) {
		sc := NewServerConn(&recorder{}, nil)
		var ce *ConnError
		if err := sc.Feed([]byte("GET / HTTP/1.1\r\n")); !errors.As(err, &ce) || ce.Code != ProtocolError {
			t.Fatal(err)
		}
	})
	t.Run("first frame not settings", func(t *testing.T) {
		sc := NewServerConn(&recorder{}, nil)
		b := append([]byte(ClientPreface), AppendPing(nil, false, [8]byte{})...)
		if err := sc.Feed(b); err == nil {
			t.Fatal("PING before SETTINGS accepted")
		}
	})
	t.Run("frame too large", func(t *testing.T) {
		p := newPeer(t, nil)
		p.get(1, "/", false)
		p.fr.WriteData(1, false, make([]byte, MinMaxFrameSize+1))
		p.flush()
		p.wantGoAway(FrameSizeError)
	})
}

func TestSettingsValidation(t *testing.T) {
	for name, tc := range map[string]struct {
		s    Setting
		code ErrCode
	}{
		"push 2":        {Setting{SettingEnablePush, 2}, ProtocolError},
		"window 2^31":   {Setting{SettingInitialWindowSize, 1 << 31}, FlowControlError},
		"frame small":   {Setting{SettingMaxFrameSize, 16383}, ProtocolError},
		"frame large":   {Setting{SettingMaxFrameSize, 1 << 24}, ProtocolError},
		"connect proto": {Setting{SettingEnableConnectProtocol, 3}, ProtocolError},
	} {
		t.Run(name, func(t *testing.T) {
			p := newPeer(t, nil)
			p.fr.WriteSettings(xhttp2.Setting{ID: xhttp2.SettingID(tc.s.ID), Val: tc.s.Val})
			p.flush()
			p.wantGoAway(tc.code)
		})
	}
	p := newPeer(t, nil)
	p.fr.WriteSettings(xhttp2.Setting{ID: 0xff, Val: 7}, xhttp2.Setting{ID: xhttp2.SettingMaxFrameSize, Val: 1 << 20})
	p.flush()
	if f := p.read(); len(f) != 1 || f[0].Flags != FlagAck {
		t.Fatalf("unknown setting not acknowledged: %+v", f)
	}
}

func TestPing(t *testing.T) {
	p := newPeer(t, nil)
	p.fr.WritePing(false, [8]byte{1, 2, 3, 4, 5, 6, 7, 8})
	p.fr.WritePing(true, [8]byte{9})
	p.flush()
	fs := p.read()
	if len(fs) != 1 || fs[0].Flags != FlagAck || fs[0].Data[7] != 8 {
		t.Fatalf("%+v", fs)
	}
}

func TestSendFlowControl(t *testing.T) {
	p := newPeer(t, nil)
	p.fr.WriteSettings(xhttp2.Setting{ID: xhttp2.SettingInitialWindowSize, Val: 10})
	p.flush()
	p.read()
	p.get(1, "/", true)
	p.sc.WriteHeaders(1, 200, nil, false)
	body := []byte("0123456789abcdefghij")
	n, err := p.sc.WriteData(1, body, true)
	if n != 10 || err != nil {
		t.Fatal(n, err)
	}
	if p.sc.BlockedSince() != p.now {
		t.Fatal("BlockedSince not set on a zero window")
	}
	p.read()
	// Shrinking the initial window makes the stream window negative.
	p.fr.WriteSettings(xhttp2.Setting{ID: xhttp2.SettingInitialWindowSize, Val: 5})
	p.fr.WriteWindowUpdate(1, 3)
	p.flush()
	if len(p.rec.writable) != 0 {
		t.Fatal("OnWritable with a negative window")
	}
	p.fr.WriteWindowUpdate(1, 4) // -5+3+4 = 2
	p.flush()
	if len(p.rec.writable) != 1 || !p.sc.BlockedSince().IsZero() {
		t.Fatalf("OnWritable %v, blocked %v", p.rec.writable, p.sc.BlockedSince())
	}
	n, _ = p.sc.WriteData(1, body[10:], true)
	if n != 2 {
		t.Fatalf("wrote %d with a window of 2", n)
	}
	// Growing the initial window unblocks it.
	p.fr.WriteSettings(xhttp2.Setting{ID: xhttp2.SettingInitialWindowSize, Val: 100})
	p.flush()
	n, _ = p.sc.WriteData(1, body[12:], true)
	if n != 8 || p.rec.closed[1] != NoError {
		t.Fatalf("wrote %d", n)
	}
	var got []byte
	for _, f := range p.read() {
		got = append(got, f.Data...)
	}
	if !strings.HasSuffix(string(body), string(got)) {
		t.Fatalf("data %q", got)
	}
}

func TestConnWindowOverflow(t *testing.T) {
	p := newPeer(t, nil)
	p.fr.WriteWindowUpdate(0, MaxWindowSize)
	p.flush()
	p.wantGoAway(FlowControlError)

	p = newPeer(t, nil)
	p.get(1, "/", false)
	p.fr.WriteWindowUpdate(1, MaxWindowSize)
	p.flush()
	p.wantRST(1, FlowControlError)

	p = newPeer(t, nil)
	p.get(1, "/", false)
	p.fr.WriteSettings(xhttp2.Setting{ID: xhttp2.SettingInitialWindowSize, Val: MaxWindowSize})
	p.fr.WriteWindowUpdate(1, 1000)
	p.flush()
	p.wantRST(1, FlowControlError)
}

func TestReceiveFlowControl(t *testing.T) {
	cfg := &Config{InitialWindowSize: 65535, ConnWindowSize: 65535 * 4}
	p := newPeer(t, cfg)
	p.rec.autoConsume = false
	p.post(1, "/")
	chunk := make([]byte, 16384)
	for range 3 {
		p.fr.WriteData(1, false, chunk)
	}
	p.flush()
	if f := p.read(); len(f) != 0 {
		t.Fatalf("window update before consumption: %+v", f)
	}
	p.sc.Consume(1, 3*16384)
	fs := p.read()
	var conn, stream uint32
	for _, f := range fs {
		if f.Type == FrameWindowUpdate && f.StreamID == 0 {
			conn += f.Incr
		} else if f.Type == FrameWindowUpdate && f.StreamID == 1 {
			stream += f.Incr
		}
	}
	if stream != 3*16384 || conn != 0 {
		t.Fatalf("window updates: stream %d conn %d", stream, conn)
	}
	// Beyond the stream window: FLOW_CONTROL_ERROR on the stream.
	for range 5 {
		p.fr.WriteData(1, false, chunk)
	}
	p.flush()
	p.wantRST(1, FlowControlError)
	if p.rec.closed[1] != FlowControlError {
		t.Fatal("OnClose missing")
	}
}

func TestConnRecvWindowExceeded(t *testing.T) {
	p := newPeer(t, &Config{InitialWindowSize: 1 << 20, ConnWindowSize: 65535})
	p.rec.autoConsume = false
	p.post(1, "/")
	for range 4 {
		p.fr.WriteData(1, false, make([]byte, 16384))
	}
	p.flush()
	p.wantGoAway(FlowControlError)
}

func TestUnconsumedReturnedOnClose(t *testing.T) {
	p := newPeer(t, &Config{ConnWindowSize: 65535})
	p.rec.autoConsume = false
	p.post(1, "/")
	for _, n := range []int{16384, 16384, 7232} {
		p.fr.WriteData(1, false, make([]byte, n))
	}
	p.flush()
	p.sc.Reset(1, Cancel)
	fs := p.read()
	if w := find(fs, FrameWindowUpdate); w == nil || w.StreamID != 0 || w.Incr != 40000 {
		t.Fatalf("connection credit not returned on close: %+v", fs)
	}
}

func TestMaxConcurrentStreams(t *testing.T) {
	p := newPeer(t, &Config{MaxConcurrentStreams: 2})
	p.get(1, "/", false)
	p.get(3, "/", false)
	p.get(5, "/", false)
	p.wantRST(5, RefusedStream)
	p.sc.Reset(1, Cancel)
	p.get(7, "/", false)
	if p.rec.reqs[7] == nil {
		t.Fatal("stream refused after one closed")
	}
}

func TestHeaderListTooLarge(t *testing.T) {
	p := newPeer(t, &Config{MaxHeaderListSize: 1000})
	p.get(1, "/", true, "big", strings.Repeat("x", 600), "big2", strings.Repeat("y", 600))
	fs := p.read()
	h := find(fs, FrameHeaders)
	if h == nil || h.Header[0].Value != "431" || h.Flags&FlagEndStream == 0 || p.err != nil {
		t.Fatalf("%+v %v", fs, p.err)
	}
	// HPACK state stays in sync: the next request decodes.
	p.get(3, "/next", true)
	if p.rec.reqs[3] == nil || p.rec.reqs[3].Path != "/next" {
		t.Fatal("next request lost")
	}
}

// TestHPACKBomb: one large field in the dynamic table, referenced many
// times in one block, is cut at MaxHeaderListSize (431), not decoded whole.
func TestHPACKBomb(t *testing.T) {
	p := newPeer(t, nil)
	p.get(1, "/", true, "bomb", strings.Repeat("b", 3000))
	p.read()
	// The field is now entry 62; each reference is one octet.
	p.ebuf.Reset()
	p.enc.WriteField(hpack.HeaderField{Name: ":method", Value: "GET"})
	p.enc.WriteField(hpack.HeaderField{Name: ":scheme", Value: "https"})
	p.enc.WriteField(hpack.HeaderField{Name: ":path", Value: "/"})
	blk := append([]byte(nil), p.ebuf.Bytes()...)
	blk = append(blk, bytes.Repeat([]byte{0x80 | 62}, 10000)...) // 30 MB decoded
	p.fr.WriteHeaders(xhttp2.HeadersFrameParam{StreamID: 3, BlockFragment: blk[:8000], EndStream: true})
	p.fr.WriteContinuation(3, true, blk[8000:])
	p.flush()
	h := find(p.read(), FrameHeaders)
	if h == nil || h.Header[0].Value != "431" || p.err != nil || p.rec.reqs[3] != nil {
		t.Fatalf("%+v %v", h, p.err)
	}
}

func TestContinuationFlood(t *testing.T) {
	p := newPeer(t, nil)
	p.fr.WriteHeaders(xhttp2.HeadersFrameParam{StreamID: 1, BlockFragment: p.block(":method", "GET")})
	for range 10000 {
		p.fr.WriteContinuation(1, false, nil) // empty frames cost their headers
	}
	p.flush()
	p.wantGoAway(EnhanceYourCalm)
}

func TestRapidReset(t *testing.T) {
	p := newPeer(t, &Config{MaxResets: 50, ResetWindow: time.Second})
	id := uint32(1)
	for range 50 {
		p.get(id, "/", false)
		p.fr.WriteRSTStream(id, xhttp2.ErrCodeCancel)
		p.flush()
		id += 2
	}
	if p.err != nil || p.rec.closed[1] != Cancel {
		t.Fatalf("limit hit early: %v", p.err)
	}
	p.now = p.now.Add(2 * time.Second) // a new window
	for range 50 {
		p.get(id, "/", false)
		p.fr.WriteRSTStream(id, xhttp2.ErrCodeCancel)
		id += 2
	}
	p.flush()
	if p.err != nil {
		t.Fatalf("limit hit in a fresh window: %v", p.err)
	}
	p.get(id, "/", false)
	p.fr.WriteRSTStream(id, xhttp2.ErrCodeCancel)
	p.flush()
	p.wantGoAway(EnhanceYourCalm)
}

func TestControlFrameFlood(t *testing.T) {
	p := newPeer(t, &Config{MaxControlFrames: 100})
	for range 100 {
		p.fr.WritePing(false, [8]byte{})
	}
	p.flush()
	if p.err != nil {
		t.Fatal(p.err)
	}
	p.read() // the driver writes: the count starts again
	for range 100 {
		p.fr.WriteSettings()
	}
	p.flush()
	if p.err != nil {
		t.Fatal(p.err)
	}
	p.fr.WritePing(false, [8]byte{}) // the peer never reads
	p.flush()
	p.wantGoAway(EnhanceYourCalm)
}

func TestOutputBudget(t *testing.T) {
	p := newPeer(t, &Config{MaxOutputBuffer: 40000})
	p.fr.WriteSettings(xhttp2.Setting{ID: xhttp2.SettingInitialWindowSize, Val: 1 << 20})
	p.fr.WriteWindowUpdate(0, 1<<20)
	p.flush()
	p.read()
	p.get(1, "/", true)
	p.sc.WriteHeaders(1, 200, nil, false)
	body := make([]byte, 100000)
	n, _ := p.sc.WriteData(1, body, true)
	if n >= 40000 || n == 0 || !p.sc.BlockedSince().IsZero() {
		t.Fatalf("took %d octets past the output budget", n)
	}
	p.read() // Advance frees the output: OnWritable
	if len(p.rec.writable) != 1 {
		t.Fatal("no OnWritable after the output drained")
	}
}

func TestGracefulShutdown(t *testing.T) {
	p := newPeer(t, nil)
	p.get(1, "/", true)
	p.get(3, "/", false)
	p.sc.Shutdown()
	g := find(p.read(), FrameGoAway)
	if g == nil || g.Last != 3 || g.Code != NoError || p.sc.Done() {
		t.Fatalf("GOAWAY %+v", g)
	}
	p.get(5, "/late", false) // after GOAWAY: ignored, and so are its frames
	p.fr.WriteData(5, false, []byte("x"))
	p.fr.WriteHeaders(xhttp2.HeadersFrameParam{StreamID: 5, BlockFragment: p.block("x-t", "1"), EndStream: true, EndHeaders: true})
	p.flush()
	if p.rec.reqs[5] != nil || p.err != nil || len(p.read()) != 0 {
		t.Fatalf("stream after GOAWAY served (%v)", p.err)
	}
	p.sc.WriteHeaders(1, 204, nil, true)
	p.fr.WriteData(3, true, []byte("end"))
	p.flush()
	if p.sc.Done() {
		t.Fatal("Done with stream 3 open")
	}
	p.sc.WriteHeaders(3, 204, nil, true)
	if !p.sc.Done() {
		t.Fatal("not Done after the last stream")
	}
}

func TestCloseReportsStreams(t *testing.T) {
	p := newPeer(t, nil)
	p.get(1, "/", false)
	p.sc.Close()
	if p.rec.closed[1] != Cancel {
		t.Fatal("OnClose not called by Close")
	}
	if _, err := p.sc.WriteData(1, nil, true); err != ErrConnClosed {
		t.Fatal(err)
	}
}

// TestSplitFeed feeds a conversation one octet at a time.
func TestSplitFeed(t *testing.T) {
	var b bytes.Buffer
	fr := xhttp2.NewFramer(&b, nil)
	b.WriteString(ClientPreface)
	fr.WriteSettings()
	var eb bytes.Buffer
	enc := hpack.NewEncoder(&eb)
	enc.WriteField(hpack.HeaderField{Name: ":method", Value: "POST"})
	enc.WriteField(hpack.HeaderField{Name: ":scheme", Value: "http"})
	enc.WriteField(hpack.HeaderField{Name: ":path", Value: "/split"})
	fr.WriteHeaders(xhttp2.HeadersFrameParam{StreamID: 1, BlockFragment: eb.Bytes()[:3]})
	fr.WriteContinuation(1, true, eb.Bytes()[3:])
	fr.WriteData(1, true, []byte("payload"))
	rec := &recorder{reqs: map[uint32]*Stream{}, body: map[uint32][]byte{}, ended: map[uint32]bool{}, closed: map[uint32]ErrCode{}}
	sc := NewServerConn(rec, nil)
	for _, c := range b.Bytes() {
		if err := sc.Feed([]byte{c}); err != nil {
			t.Fatal(err)
		}
	}
	if s := rec.reqs[1]; s == nil || s.Path != "/split" || string(rec.body[1]) != "payload" || !rec.ended[1] {
		t.Fatalf("%+v %q", s, rec.body[1])
	}
}

func TestUpgrade(t *testing.T) {
	settings := AppendSettings(nil, Setting{SettingInitialWindowSize, 100}, Setting{SettingMaxFrameSize, 1 << 15})[FrameHeaderLen:]
	enc := []byte(base64URL(settings))
	set, err := DecodeHTTP2Settings(nil, enc)
	if err != nil || len(set) != 2 || set[0].Val != 100 {
		t.Fatal(set, err)
	}
	if _, err := DecodeHTTP2Settings(nil, []byte("!!")); err == nil {
		t.Fatal("bad base64 accepted")
	}
	if _, err := DecodeHTTP2Settings(nil, []byte(base64URL(AppendSettings(nil, Setting{SettingEnablePush, 5})[FrameHeaderLen:]))); err == nil {
		t.Fatal("invalid setting accepted")
	}
	rec := &recorder{reqs: map[uint32]*Stream{}, body: map[uint32][]byte{}, ended: map[uint32]bool{}, closed: map[uint32]ErrCode{}}
	sc := NewServerConn(rec, nil)
	rec.sc = sc
	err = sc.Upgrade(&UpgradeRequest{Method: "POST", Scheme: "http", Path: "/up", Settings: set, Body: []byte("hi"),
		Header: []HeaderField{{"Host", "h.test"}, {"HTTP2-Settings", "x"}, {"Connection", "Upgrade"}}})
	if err != nil {
		t.Fatal(err)
	}
	s := rec.reqs[1]
	if s == nil || s.Authority != "h.test" || string(rec.body[1]) != "hi" || !rec.ended[1] || len(s.Header) != 1 {
		t.Fatalf("%+v", s)
	}
	sc.WriteHeaders(1, 200, nil, false)
	if n, _ := sc.WriteData(1, make([]byte, 200), true); n != 100 {
		t.Fatalf("upgrade settings not applied: wrote %d", n)
	}
	if err := sc.Upgrade(&UpgradeRequest{}); err != ErrUpgradeTooLate {
		t.Fatal(err)
	}
	if err := sc.Feed([]byte(ClientPreface + string(AppendSettings(nil)))); err != nil {
		t.Fatal(err)
	}
}

func TestMatchPreface(t *testing.T) {
	for in, want := range map[string]PrefaceMatch{
		"":                    PrefacePartial,
		"PRI * HTTP/2":        PrefacePartial,
		ClientPreface:         PrefaceYes,
		ClientPreface + "xyz": PrefaceYes,
		"GET / HTTP/1.1\r\n":  PrefaceNo,
		"PRI * HTTP/1.1":      PrefaceNo,
	} {
		if got := MatchPreface([]byte(in)); got != want {
			t.Errorf("%q: %v, want %v", in, got, want)
		}
	}
}

func TestStrings(t *testing.T) {
	if ProtocolError.String() != "PROTOCOL_ERROR" || ErrCode(0xff).String() != "ERR_CODE_0xff" ||
		FrameContinuation.String() != "CONTINUATION" || FrameType(0x20).String() != "UNKNOWN_FRAME_0x20" ||
		SettingMaxFrameSize.String() != "MAX_FRAME_SIZE" || StateHalfClosedLocal.String() != "half-closed (local)" ||
		PrefaceYes.String() != "yes" {
		t.Fatal("String methods")
	}
	e := &ConnError{Code: EnhanceYourCalm, Reason: "x"}
	se := &StreamError{StreamID: 3, Code: Cancel}
	if !strings.Contains(e.Error(), "ENHANCE_YOUR_CALM") || !strings.Contains(se.Error(), "stream 3") {
		t.Fatal(e, se)
	}
}
