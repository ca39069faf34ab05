package gibbon_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"gibbon"
)

// compatHandlers are net/http handlers whose answers must be the same
// from gibbon and from net/http's own server.
func compatMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("/text", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, "hello\n")
	})
	mux.HandleFunc("/sniff", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "<html><body>sniffed</body></html>")
	})
	mux.HandleFunc("/created", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Before", "1")
		w.WriteHeader(201)
		w.Header().Set("X-After", "ignored")
		fmt.Fprintf(w, "made %s\n", r.URL.Query().Get("name"))
	})
	mux.HandleFunc("/empty", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) })
	mux.HandleFunc("/error", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "nope", http.StatusTeapot) })
	mux.HandleFunc("/redirect", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/text", http.StatusFound) })
	mux.HandleFunc("/content", func(w http.ResponseWriter, r *http.Request) {
		http.ServeContent(w, r, "digits.txt", time.Unix(1700000000, 0), strings.NewReader("0123456789"))
	})
	mux.HandleFunc("POST /echo", func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		fmt.Fprintf(w, "%s %d %q", r.Header.Get("Content-Type"), r.ContentLength, b)
	})
	mux.HandleFunc("GET /items/{id}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "item %s pattern %q host %q", r.PathValue("id"), r.Pattern, r.Host)
	})
	mux.HandleFunc("/trailers", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Trailer", "X-Sum")
		io.WriteString(w, "body")
		w.Header().Set("X-Sum", "42")
	})
	mux.HandleFunc("/trailers-only", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Trailer", "X-Sum, X-Count")
		w.WriteHeader(200)
		w.Header().Set("X-Sum", "0")
		w.Header().Add("X-Count", "1")
		w.Header().Add("X-Count", "2")
	})
	mux.HandleFunc("POST /request-trailers", func(w http.ResponseWriter, r *http.Request) {
		before := fmt.Sprint(r.Trailer)
		b, err := io.ReadAll(r.Body)
		fmt.Fprintf(w, "%q %v before=%s after=%v header=%q", b, err, before, r.Trailer, r.Header["Trailer"])
	})
	mux.HandleFunc("/prefixed", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "streamed")
		w.(http.Flusher).Flush()
		w.Header().Set(http.TrailerPrefix+"X-Late", "yes")
	})
	mux.HandleFunc("/flushed", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		for i := range 3 {
			fmt.Fprintf(w, "part %d\n", i)
			w.(http.Flusher).Flush()
		}
	})
	return mux
}

type exchange struct {
	Status   int
	Header   http.Header
	Length   int64
	Body     string
	Trailer  http.Header
	Chunked  bool
	Location string
}

func do(t *testing.T, c *http.Client, method, url, body string, hdr ...string) exchange {
	t.Helper()
	return doTrailer(t, c, method, url, body, nil, hdr...)
}

// doTrailer is do for a request that sends trailer after its body (and so
// announces it in a "Trailer" field and has no Content-Length).
func doTrailer(t *testing.T, c *http.Client, method, url, body string, trailer http.Header, hdr ...string) exchange {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	if trailer != nil {
		rd = io.MultiReader(strings.NewReader(body)) // no Content-Length: chunked, or DATA then HEADERS
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if trailer != nil {
		req.Trailer = trailer.Clone()
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	h := resp.Header.Clone()
	h.Del("Date")
	h.Del("Server")
	return exchange{resp.StatusCode, h, resp.ContentLength, string(b), resp.Trailer,
		len(resp.TransferEncoding) > 0, resp.Header.Get("Location")}
}

// TestNetHTTPCompat runs the same handlers under gibbon and net/http and
// compares the answers, over HTTP/1.1 and over HTTP/2 (h2c with prior
// knowledge on both servers).
func TestNetHTTPCompat(t *testing.T) {
	t.Parallel()
	t.Run("h1", func(t *testing.T) { testCompat(t, false) })
	t.Run("h2c", func(t *testing.T) { testCompat(t, true) })
}

func testCompat(t *testing.T, h2 bool) {
	ref := httptest.NewUnstartedServer(compatMux())
	cfg := gibbon.Config{}
	tr := &http.Transport{}
	if h2 {
		ref.Config.Protocols = new(http.Protocols)
		ref.Config.Protocols.SetUnencryptedHTTP2(true)
		cfg.Listen = []string{"127.0.0.1:0 h2c"}
		tr.Protocols = new(http.Protocols)
		tr.Protocols.SetUnencryptedHTTP2(true)
	}
	ref.Start()
	t.Cleanup(ref.Close)
	srv := newServer(t, cfg)
	srv.HandleHTTP("/", compatMux())
	url := start(t, srv)
	t.Cleanup(tr.CloseIdleConnections)
	noRedirect := &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	cases := []struct {
		method, path, body string
		hdr                []string
		trailer            http.Header // the request's trailers
		h1                 bool        // over HTTP/1.1 only
	}{
		{"GET", "/text", "", nil, nil, false},
		{"HEAD", "/text", "", nil, nil, false},
		{"GET", "/sniff", "", nil, nil, false},
		{"GET", "/created?name=x", "", nil, nil, false},
		{"GET", "/empty", "", nil, nil, false},
		{"GET", "/error", "", nil, nil, false},
		{"GET", "/redirect", "", nil, nil, false},
		{"GET", "/content", "", nil, nil, false},
		{"GET", "/content", "", []string{"Range", "bytes=2-4"}, nil, false},
		{"GET", "/content", "", []string{"If-Modified-Since", time.Unix(1700000000, 0).UTC().Format(http.TimeFormat)}, nil, false},
		{"POST", "/echo", "a body", []string{"Content-Type", "text/x-test"}, nil, false},
		{"GET", "/items/9", "", nil, nil, false},
		{"GET", "/trailers", "", nil, nil, false},
		{"HEAD", "/trailers", "", nil, nil, false},
		{"GET", "/trailers-only", "", nil, nil, false},
		{"GET", "/prefixed", "", nil, nil, false},
		{"GET", "/flushed", "", nil, nil, false},
		{"POST", "/request-trailers", "some body", nil, http.Header{"X-Digest": {"abc"}, "X-Unannounced": {"1", "2"}}, false},
		{"POST", "/request-trailers", "", nil, http.Header{"X-Digest": {"abc"}}, false},
		// Names a trailer must not carry pass over HTTP/1.1 (HTTP/2:
		// TestNetHTTPH2Trailers).
		{"POST", "/request-trailers", "x", nil, http.Header{"X-Digest": {"abc"}, "Host": {"evil"}, "If-Match": {"*"}}, true},
		{"POST", "/request-trailers", "x", nil, http.Header{"Content-Type": {"a/b"}, "Authorization": {"x"}}, true},
	}
	for _, tc := range cases {
		if h2 && tc.h1 {
			continue
		}
		t.Run(tc.method+tc.path, func(t *testing.T) {
			want := doTrailer(t, noRedirect, tc.method, ref.URL+tc.path, tc.body, tc.trailer, tc.hdr...)
			got := doTrailer(t, noRedirect, tc.method, url+tc.path, tc.body, tc.trailer, tc.hdr...)
			// The host differs.
			want.Body = strings.ReplaceAll(want.Body, strings.TrimPrefix(ref.URL, "http://"), "HOST")
			got.Body = strings.ReplaceAll(got.Body, strings.TrimPrefix(url, "http://"), "HOST")
			if h2 && (got.Status == 204 || got.Status == 304) && got.Length == -1 {
				// gibbon's HTTP/2 driver ends a bodiless stream with an
				// empty DATA frame, not on HEADERS: the client cannot
				// tell the length.
				got.Length = 0
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("gibbon:\n%+v\nnet/http:\n%+v", got, want)
			}
		})
	}
}

// TestNetHTTPStreaming checks that flushed chunks reach the client before
// the handler returns.
func TestNetHTTPStreaming(t *testing.T) {
	t.Parallel()
	got := make(chan struct{})
	srv := newServer(t, gibbon.Config{})
	srv.HandleHTTP("/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "first\n")
		w.(http.Flusher).Flush()
		select {
		case <-got:
		case <-time.After(5 * time.Second):
		}
		io.WriteString(w, "second\n")
	}))
	url := start(t, srv)
	resp, err := http.Get(url + "/")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	line, err := br.ReadString('\n')
	if err != nil || line != "first\n" {
		t.Fatalf("first chunk %q %v", line, err)
	}
	close(got)
	rest, _ := io.ReadAll(br)
	if string(rest) != "second\n" {
		t.Errorf("rest %q", rest)
	}
}

// TestNetHTTPRawTrailers sends chunked requests whose trailers the Go
// client cannot produce (not announced, or announcing names a trailer
// must not carry) to gibbon and to net/http's server, and compares the
// status and what the handler saw.
func TestNetHTTPRawTrailers(t *testing.T) {
	t.Parallel()
	ref := httptest.NewServer(compatMux())
	t.Cleanup(ref.Close)
	srv := newServer(t, gibbon.Config{})
	srv.HandleHTTP("/", compatMux())
	url := start(t, srv)
	ask := func(url, head, trailer string) (int, string) {
		t.Helper()
		conn, err := net.Dial("tcp", strings.TrimPrefix(url, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		fmt.Fprintf(conn, "POST /request-trailers HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n%s\r\n3\r\nabc\r\n0\r\n%s\r\n", head, trailer)
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			b = nil // the two servers word their error pages differently
		}
		return resp.StatusCode, string(b)
	}
	for _, tc := range []struct{ name, head, trailer string }{
		{"unannounced", "", "X-Digest: abc\r\nX-Other: 1\r\n"},
		{"partly announced", "Trailer: X-Digest\r\n", "X-Digest: abc\r\nX-Other: 1\r\n"},
		{"announced, not sent", "Trailer: X-Digest, X-Gone\r\n", "X-Digest: abc\r\n"},
		{"announces Content-Length", "Trailer: X-Digest, Content-Length\r\n", "X-Digest: abc\r\n"},
		{"announces Trailer", "Trailer: Trailer\r\n", ""},
		{"announces Transfer-Encoding", "Trailer: transfer-encoding\r\n", ""},
	} {
		wantCode, want := ask(ref.URL, tc.head, tc.trailer)
		gotCode, got := ask(url, tc.head, tc.trailer)
		if gotCode != wantCode || got != want {
			t.Errorf("%s: gibbon %d %q, net/http %d %q", tc.name, gotCode, got, wantCode, want)
		}
	}
}

// TestNetHTTPCancel checks that r.Context() is done when the client goes
// away.
func TestNetHTTPCancel(t *testing.T) {
	t.Parallel()
	done := make(chan error, 1)
	srv := newServer(t, gibbon.Config{})
	srv.HandleHTTP("/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
			done <- r.Context().Err()
		case <-time.After(10 * time.Second):
			done <- errors.New("not cancelled")
		}
	}))
	url := start(t, srv)
	conn, err := net.Dial("tcp", strings.TrimPrefix(url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(conn, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	time.Sleep(50 * time.Millisecond) // let the handler start
	conn.Close()
	if err := <-done; err == nil || err.Error() == "not cancelled" {
		t.Errorf("context: %v", err)
	}
}

// TestNetHTTPHijackAndDeadlines covers http.Hijacker and
// http.ResponseController.
func TestNetHTTPHijackAndDeadlines(t *testing.T) {
	t.Parallel()
	srv := newServer(t, gibbon.Config{})
	srv.HandleHTTP("/hijack", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, rw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		defer conn.Close()
		early, _ := rw.Reader.ReadString('\n')
		fmt.Fprintf(rw, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", len(early), early)
		rw.Flush()
	}))
	srv.HandleHTTP("/deadline", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		if err := rc.SetWriteDeadline(time.Now().Add(time.Minute)); err != nil {
			http.Error(w, "write deadline: "+err.Error(), 500)
			return
		}
		if err := rc.SetReadDeadline(time.Now().Add(50 * time.Millisecond)); err != nil {
			http.Error(w, "read deadline: "+err.Error(), 500)
			return
		}
		_, err := io.ReadAll(r.Body)
		fmt.Fprintf(w, "timeout=%v", errors.Is(err, os.ErrDeadlineExceeded))
	}))
	url := start(t, srv)
	conn, err := net.Dial("tcp", strings.TrimPrefix(url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	io.WriteString(conn, "GET /hijack HTTP/1.1\r\nHost: x\r\n\r\nearly bytes\n")
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	if string(b) != "early bytes\n" {
		t.Errorf("hijack echo %q", b)
	}

	pr, pw := io.Pipe()
	defer pw.Close()
	go pw.Write([]byte("partial"))
	req, _ := http.NewRequest("POST", url+"/deadline", pr)
	req.ContentLength = 100
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "timeout=true" {
		t.Errorf("deadline: %d %q", resp.StatusCode, b)
	}
}

// TestNetHTTPH2StreamAndCancel checks over h2c that flushed data reaches
// the client before the handler returns and that r.Context() is done when
// the client resets the stream.
func TestNetHTTPH2StreamAndCancel(t *testing.T) {
	t.Parallel()
	got := make(chan struct{})
	cancelled := make(chan error, 1)
	srv := newServer(t, gibbon.Config{Listen: []string{"127.0.0.1:0 h2c"}})
	srv.HandleHTTP("/stream", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "first\n")
		w.(http.Flusher).Flush()
		select {
		case <-got:
		case <-time.After(5 * time.Second):
		}
		io.WriteString(w, "second\n")
	}))
	srv.HandleFunc("/native/{name}", func(c *gibbon.Ctx) { c.String(200, "native "+c.Param("name")) })
	srv.HandleHTTP("/wait", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(200)
		w.(http.Flusher).Flush()
		select {
		case <-r.Context().Done():
			cancelled <- nil
		case <-time.After(10 * time.Second):
			cancelled <- errors.New("not cancelled")
		}
	}))
	url := start(t, srv)
	tr := &http.Transport{Protocols: new(http.Protocols)}
	tr.Protocols.SetUnencryptedHTTP2(true)
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr}
	resp, err := c.Get(url + "/stream")
	if err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(resp.Body)
	if line, err := br.ReadString('\n'); err != nil || line != "first\n" || resp.ProtoMajor != 2 {
		t.Fatalf("first chunk %q %v (HTTP/%d)", line, err, resp.ProtoMajor)
	}
	close(got)
	if rest, _ := io.ReadAll(br); string(rest) != "second\n" {
		t.Errorf("rest %q", rest)
	}
	resp.Body.Close()

	resp, err = c.Get(url + "/native/h2")
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := io.ReadAll(resp.Body); string(b) != "native h2" || resp.ProtoMajor != 2 {
		t.Errorf("native over h2: %q (HTTP/%d)", b, resp.ProtoMajor)
	}
	resp.Body.Close()

	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", url+"/wait", nil)
	resp, err = c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	resp.Body.Close()
	if err := <-cancelled; err != nil {
		t.Error(err)
	}
}

// TestNetHTTPReuse checks what the adapter reuses and what it does not,
// over one keep-alive connection: a handler may keep the *http.Request
// (its URL, header, strings and context stay its own, the context stays
// cancelled), while the ResponseWriter and its header map start empty for
// every request.
func TestNetHTTPReuse(t *testing.T) {
	t.Parallel()
	kept := make(chan *http.Request, 1)
	srv := newServer(t, gibbon.Config{})
	srv.HandleHTTP("/keep/{id}", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Context().Err() // asks without Done: the context must still not be reused
		select {
		case kept <- r:
		default:
		}
		w.Header().Set("X-Leak", "yes")
		w.Header().Set("Trailer", "X-Sum")
		w.WriteHeader(201)
		io.WriteString(w, "<html>kept</html>")
		w.Header().Set("X-Sum", "1")
	}))
	srv.HandleHTTP("/fresh", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "header fields %d", len(w.Header()))
	}))
	url := start(t, srv)
	c := &http.Client{Transport: &http.Transport{MaxConnsPerHost: 1}}
	defer c.CloseIdleConnections()
	for _, path := range []string{"/keep/1?q=a", "/fresh", "/keep/2?q=b", "/fresh"} {
		req, _ := http.NewRequest("GET", url+path, nil)
		req.Header.Set("X-Path", path)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if path == "/fresh" && (string(b) != "header fields 0" || resp.Header.Get("X-Leak") != "" ||
			resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/plain; charset=utf-8" || len(resp.Trailer) != 0) {
			t.Errorf("%s: %d %q %v trailer %v", path, resp.StatusCode, b, resp.Header, resp.Trailer)
		}
	}
	r := <-kept // the first request, kept across the three others
	if r.URL.Path != "/keep/1" || r.URL.RawQuery != "q=a" || r.RequestURI != "/keep/1?q=a" ||
		r.Header.Get("X-Path") != "/keep/1?q=a" || r.PathValue("id") != "1" || r.Context().Err() != context.Canceled {
		t.Errorf("kept request changed: %s %q %v id %q ctx %v", r.URL, r.RequestURI, r.Header, r.PathValue("id"), r.Context().Err())
	}
	select {
	case <-r.Context().Done():
	default:
		t.Error("kept request's context not done")
	}
}

// TestNetHTTPTimeoutHandler runs http.TimeoutHandler, whose inner handler
// goes on with the request after ServeHTTP answered 503 and returned,
// while the connection serves another request.
func TestNetHTTPTimeoutHandler(t *testing.T) {
	t.Parallel()
	release, seen := make(chan struct{}), make(chan string, 1)
	inner := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/slow" {
			io.WriteString(w, "fast")
			return
		}
		<-release
		seen <- fmt.Sprintf("%s %s %v", r.URL.Path, r.Header.Get("X-Mark"), r.Context().Err())
		io.WriteString(w, "late")
	})
	srv := newServer(t, gibbon.Config{})
	srv.HandleHTTP("/", http.TimeoutHandler(inner, 50*time.Millisecond, "timeout"))
	url := start(t, srv)
	c := &http.Client{Transport: &http.Transport{MaxConnsPerHost: 1}}
	defer c.CloseIdleConnections()
	for _, tc := range []struct{ path, mark, want string }{{"/slow", "a", "timeout"}, {"/fast", "b", "fast"}} {
		req, _ := http.NewRequest("GET", url+tc.path, nil)
		req.Header.Set("X-Mark", tc.mark)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(b) != tc.want {
			t.Errorf("%s: %d %q", tc.path, resp.StatusCode, b)
		}
	}
	close(release)
	if got := <-seen; got != "/slow a context deadline exceeded" {
		t.Errorf("inner handler saw %q", got)
	}
}
