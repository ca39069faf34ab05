//lint:file-ignore SA1019 x/net/http2's Transport is one of the clients issue #6 names

package gibbon_test

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/http2"

	"gibbon"
)

// deadlineMux holds handlers that use http.ResponseController's deadlines
// over HTTP/2; each answers what it saw, so that gibbon's answers can be
// compared with net/http's.
func deadlineMux() *http.ServeMux {
	mux := http.NewServeMux()
	// The client sends "partial" and then nothing: the read deadline ends
	// the wait.
	mux.HandleFunc("POST /read", func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		if err := rc.SetReadDeadline(time.Now().Add(100 * time.Millisecond)); err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		b, err := io.ReadAll(r.Body)
		fmt.Fprintf(w, "read %q deadline=%v", b, errors.Is(err, os.ErrDeadlineExceeded))
	})
	// A deadline cleared before it passes no longer applies: the client
	// sends the rest of its body after it would have.
	mux.HandleFunc("POST /cleared", func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		rc.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		rc.SetReadDeadline(time.Time{})
		b, err := io.ReadAll(r.Body)
		fmt.Fprintf(w, "read %q %v", b, err)
	})
	// A deadline set while a Read waits ends that wait.
	mux.HandleFunc("POST /moved", func(w http.ResponseWriter, r *http.Request) {
		type result struct {
			b   []byte
			err error
		}
		done := make(chan result, 1)
		go func() {
			b, err := io.ReadAll(r.Body)
			done <- result{b, err}
		}()
		time.Sleep(50 * time.Millisecond)
		http.NewResponseController(w).SetReadDeadline(time.Now().Add(50 * time.Millisecond))
		res := <-done
		fmt.Fprintf(w, "read %q deadline=%v", res.b, errors.Is(res.err, os.ErrDeadlineExceeded))
	})
	// A read deadline ends the body even when bytes are always waiting
	// (the client sends faster than the handler reads): the bytes
	// received before it, then the error.
	mux.HandleFunc("POST /steady", func(w http.ResponseWriter, r *http.Request) {
		http.NewResponseController(w).SetReadDeadline(time.Now().Add(150 * time.Millisecond))
		var b [1]byte
		n, err := 0, error(nil)
		for err == nil {
			time.Sleep(20 * time.Millisecond)
			var k int
			k, err = r.Body.Read(b[:])
			n += k
		}
		fmt.Fprintf(w, "short=%v deadline=%v", n < steadyLen, errors.Is(err, os.ErrDeadlineExceeded))
	})
	// A deadline that passed stays passed: a later one does not revive
	// the body, whose bytes after the first deadline are dropped.
	mux.HandleFunc("POST /revived", func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		rc.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
		time.Sleep(100 * time.Millisecond)
		rc.SetReadDeadline(time.Now().Add(time.Minute))
		b, err := io.ReadAll(r.Body)
		fmt.Fprintf(w, "read %q deadline=%v", b, errors.Is(err, os.ErrDeadlineExceeded))
	})
	// A future write deadline changes nothing for a prompt response.
	mux.HandleFunc("/future", func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		if err := rc.SetWriteDeadline(time.Now().Add(time.Minute)); err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		io.WriteString(w, "in time")
	})
	return mux
}

// h2cTransport returns an x/net/http2 Transport for an h2c server.
func h2cTransport() *http2.Transport {
	return &http2.Transport{
		AllowHTTP: true,
		DialTLSContext: func(ctx context.Context, network, addr string, _ *tls.Config) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, addr)
		},
	}
}

// tlsTransport returns an x/net/http2 Transport for a TLS server with a
// self-signed certificate.
func tlsTransport() *http2.Transport {
	return &http2.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}
}

// h2Servers starts mux on net/http's server and on gibbon, both over h2c
// or both over TLS with h2, and returns their base URLs and a client.
func h2Servers(t *testing.T, mux func() *http.ServeMux, useTLS bool) (ref, got string, c *http.Client) {
	t.Helper()
	rs := httptest.NewUnstartedServer(mux())
	listen := "127.0.0.1:0 h2c"
	tr := h2cTransport()
	if useTLS {
		rs.EnableHTTP2 = true
		rs.StartTLS()
		listen = "127.0.0.1:0 tls h2"
		tr = tlsTransport()
	} else {
		rs.Config.Protocols = new(http.Protocols)
		rs.Config.Protocols.SetUnencryptedHTTP2(true)
		rs.Start()
	}
	t.Cleanup(rs.Close)
	srv := newServer(t, gibbon.Config{Listen: []string{listen}})
	srv.HandleHTTP("/", mux())
	url := start(t, srv)
	if useTLS {
		url = "https://" + strings.TrimPrefix(url, "http://")
	}
	t.Cleanup(tr.CloseIdleConnections)
	return rs.URL, url, &http.Client{Transport: tr}
}

// TestNetHTTPH2Deadlines compares http.ResponseController's read and
// write deadlines over HTTP/2 (h2c and TLS) with net/http's server.
func TestNetHTTPH2Deadlines(t *testing.T) {
	t.Parallel()
	for _, useTLS := range []bool{false, true} {
		t.Run(map[bool]string{false: "h2c", true: "tls"}[useTLS], func(t *testing.T) {
			t.Parallel()
			ref, url, c := h2Servers(t, deadlineMux, useTLS)
			for _, path := range []string{"/read", "/moved", "/cleared", "/future", "/steady", "/revived"} {
				send := sendPartialRest
				if path == "/steady" {
					send = sendSteadily
				}
				want := deadlineExchange(t, c, ref+path, send)
				got := deadlineExchange(t, c, url+path, send)
				if got != want {
					t.Errorf("%s: gibbon %q, net/http %q", path, got, want)
				}
				t.Logf("%s: %s", path, got)
			}
		})
	}
}

// sendPartialRest sends "partial", then, after 300ms unless the
// response came first, " rest".
func sendPartialRest(pw *io.PipeWriter) {
	pw.Write([]byte("partial"))
	time.Sleep(300 * time.Millisecond)
	pw.Write([]byte(" rest"))
	pw.Close()
}

// steadyLen is how many bytes sendSteadily sends.
const steadyLen = 60

// sendSteadily sends steadyLen bytes, one every 10ms, unless the
// response came first.
func sendSteadily(pw *io.PipeWriter) {
	for range steadyLen {
		if _, err := pw.Write([]byte("x")); err != nil {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	pw.Close()
}

// deadlineExchange requests url, a POST whose body send writes; it
// returns the status and body.
func deadlineExchange(t *testing.T, c *http.Client, url string, send func(*io.PipeWriter)) string {
	t.Helper()
	pr, pw := io.Pipe()
	defer pw.Close()
	go send(pw)
	req, _ := http.NewRequest("POST", url, pr)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%d %s", resp.StatusCode, b)
}

// TestNetHTTPH2WriteDeadline checks over HTTP/2 (h2c and TLS), on
// gibbon and on net/http, that a write deadline that passes resets the
// stream, failing the handler's writes (also one blocked by a client that
// does not read; on gibbon with an error wrapping os.ErrDeadlineExceeded)
// and the client's read, and that the connection goes on serving: the
// next request reuses it.
func TestNetHTTPH2WriteDeadline(t *testing.T) {
	t.Parallel()
	for _, useTLS := range []bool{false, true} {
		t.Run(map[bool]string{false: "h2c", true: "tls"}[useTLS], func(t *testing.T) {
			t.Parallel()
			flushErr := make(chan error, 2)
			mux := func() *http.ServeMux {
				mux := http.NewServeMux()
				mux.HandleFunc("/expire", func(w http.ResponseWriter, r *http.Request) {
					rc := http.NewResponseController(w)
					io.WriteString(w, "first")
					rc.Flush()
					rc.SetWriteDeadline(time.Now().Add(50 * time.Millisecond))
					<-r.Context().Done() // the reset cancels the request
					io.WriteString(w, "late")
					flushErr <- rc.Flush()
				})
				mux.HandleFunc("/past", func(w http.ResponseWriter, r *http.Request) {
					http.NewResponseController(w).SetWriteDeadline(time.Now().Add(-time.Second))
					<-r.Context().Done()
					io.WriteString(w, "never")
				})
				mux.HandleFunc("/blocked", func(w http.ResponseWriter, r *http.Request) {
					http.NewResponseController(w).SetWriteDeadline(time.Now().Add(200 * time.Millisecond))
					buf := make([]byte, 32<<10)
					for range 1024 { // 32 MiB, beyond the client's windows
						if _, err := w.Write(buf); err != nil {
							flushErr <- err
							return
						}
					}
					flushErr <- nil
				})
				mux.HandleFunc("/next", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "next") })
				return mux
			}
			ref, url, c := h2Servers(t, mux, useTLS)
			for _, base := range []string{ref, url} {
				resp, err := c.Get(base + "/expire")
				if err != nil {
					t.Fatal(err)
				}
				b, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				var se http2.StreamError
				if string(b) != "first" || !errors.As(err, &se) || se.Code != http2.ErrCodeInternal {
					t.Errorf("%s: read %q, %v; want first and a stream reset", base, b, err)
				}
				select {
				case err := <-flushErr:
					if err == nil {
						t.Errorf("%s: the write after the deadline succeeded", base)
					}
				case <-time.After(5 * time.Second):
					t.Fatalf("%s: the handler did not end", base)
				}
				if _, err := c.Get(base + "/past"); err == nil {
					t.Errorf("%s: a past write deadline did not reset the stream", base)
				}
				resp, err = c.Get(base + "/blocked")
				if err != nil {
					t.Fatal(err)
				}
				select {
				case err := <-flushErr:
					if err == nil || base == url && !errors.Is(err, os.ErrDeadlineExceeded) {
						t.Errorf("%s: blocked write: %v", base, err)
					}
				case <-time.After(5 * time.Second):
					t.Fatalf("%s: the blocked handler did not end", base)
				}
				if _, err := io.Copy(io.Discard, resp.Body); err == nil {
					t.Errorf("%s: the blocked stream ended without a reset", base)
				}
				resp.Body.Close()
				reused := false
				trace := &httptrace.ClientTrace{GotConn: func(i httptrace.GotConnInfo) { reused = i.Reused }}
				req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), "GET", base+"/next", nil)
				resp, err = c.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				b, _ = io.ReadAll(resp.Body)
				resp.Body.Close()
				if string(b) != "next" || !reused {
					t.Errorf("%s: after the resets %q, connection reused %v", base, b, reused)
				}
			}
		})
	}
}

// forbiddenTrailerExchange POSTs a body with trailer to base's
// /request-trailers and returns what came back: the answer, or the code of
// the stream's reset.
func forbiddenTrailerExchange(t *testing.T, c *http.Client, base string, trailer http.Header) string {
	t.Helper()
	req, _ := http.NewRequest("POST", base+"/request-trailers", io.MultiReader(strings.NewReader("body")))
	req.Trailer = trailer.Clone()
	resp, err := c.Do(req)
	if err == nil {
		var b []byte
		b, err = io.ReadAll(resp.Body)
		resp.Body.Close()
		if err == nil {
			return fmt.Sprintf("%d %s", resp.StatusCode, b)
		}
	}
	var se http2.StreamError
	if errors.As(err, &se) {
		return se.Code.String()
	}
	return err.Error()
}

// TestNetHTTPH2Trailers compares response and request trailers over
// HTTP/2 with x/net/http2's client, over h2c and TLS, between gibbon and
// net/http's server, and checks the native API's trailers.
func TestNetHTTPH2Trailers(t *testing.T) {
	t.Parallel()
	for _, useTLS := range []bool{false, true} {
		t.Run(map[bool]string{false: "h2c", true: "tls"}[useTLS], func(t *testing.T) {
			t.Parallel()
			ref, url, c := h2Servers(t, compatMux, useTLS)
			cases := []struct {
				method, path, body string
				trailer            http.Header
			}{
				{"GET", "/trailers", "", nil},
				{"HEAD", "/trailers", "", nil},
				{"GET", "/trailers-only", "", nil},
				{"GET", "/prefixed", "", nil},
				{"POST", "/request-trailers", "some body", http.Header{"X-Digest": {"abc"}}},
				{"POST", "/request-trailers", "", http.Header{"X-Digest": {"abc"}, "X-Other": {"1", "2"}}},
			}
			for _, tc := range cases {
				want := doTrailer(t, c, tc.method, ref+tc.path, tc.body, tc.trailer)
				got := doTrailer(t, c, tc.method, url+tc.path, tc.body, tc.trailer)
				if !reflect.DeepEqual(got, want) {
					t.Errorf("%s %s: gibbon\n%+v\nnet/http\n%+v", tc.method, tc.path, got, want)
				}
			}
			// A trailer a request announced must not carry a name such
			// as Host: the stream is reset (PROTOCOL_ERROR).
			for _, tr := range []http.Header{
				{"X-Digest": {"abc"}, "Host": {"evil"}},
				{"If-Match": {"*"}},
				{"Authorization": {"x"}, "Content-Type": {"a/b"}},
			} {
				want := forbiddenTrailerExchange(t, c, ref, tr)
				got := forbiddenTrailerExchange(t, c, url, tr)
				if got != want || !strings.Contains(got, "PROTOCOL_ERROR") {
					t.Errorf("trailer %v: gibbon %q, net/http %q", tr, got, want)
				}
			}
		})
	}
	srv := newServer(t, gibbon.Config{Listen: []string{"127.0.0.1:0 h2c"}})
	srv.HandleFunc("/native", func(c *gibbon.Ctx) {
		c.SetHeader("Trailer", "X-Native")
		c.String(200, "native")
		c.Trailer().Set("X-Native", "yes")
	})
	tr := h2cTransport()
	defer tr.CloseIdleConnections()
	got := do(t, &http.Client{Transport: tr}, "GET", start(t, srv)+"/native", "")
	if got.Body != "native" || got.Trailer.Get("X-Native") != "yes" {
		t.Errorf("native trailers over h2c: %+v", got)
	}
}

// TestCtxRequestTrailers checks the native API's request trailers over
// HTTP/1.1 (chunked) and HTTP/2 (h2c and TLS): none before the body's
// end, then the fields in order, a lookup ignoring case, "" for a name
// not sent; over HTTP/2 a forbidden name that was not announced is
// dropped (an announced one resets the stream: TestNetHTTPH2Trailers).
func TestCtxRequestTrailers(t *testing.T) {
	t.Parallel()
	handler := func(c *gibbon.Ctx) {
		before := c.RequestTrailers()
		body, err := io.ReadAll(c.Body())
		fmt.Fprintf(c, "body=%q %v before=%v after=%v sum=%q none=%q", body, err, before,
			c.RequestTrailers(), c.RequestTrailer("x-SUM"), c.RequestTrailer("X-None"))
	}
	for _, mode := range []string{"h1", "h2c", "tls"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			listen := map[string]string{"h1": "127.0.0.1:0", "h2c": "127.0.0.1:0 h2c", "tls": "127.0.0.1:0 tls h2"}[mode]
			srv := newServer(t, gibbon.Config{Listen: []string{listen}})
			srv.HandleFunc("POST /trailers", handler)
			url := start(t, srv)
			var c *http.Client
			switch mode {
			case "h1":
				c = &http.Client{Transport: &http.Transport{}}
			case "h2c":
				c = &http.Client{Transport: h2cTransport()}
			case "tls":
				c = &http.Client{Transport: tlsTransport()}
				url = "https://" + strings.TrimPrefix(url, "http://")
			}
			t.Cleanup(c.CloseIdleConnections)
			got := doTrailer(t, c, "POST", url+"/trailers", "payload", http.Header{"X-Sum": {"1", "2"}, "X-Other": {"x"}})
			// The client sends the fields in an order of its own: only X-Sum's
			// two values keep theirs.
			for _, want := range []string{`body="payload" <nil> before=[] after=[`, `{x-sum 1} {x-sum 2}`, `{x-other x}`, `sum="1" none=""`} {
				if !strings.Contains(strings.ToLower(got.Body), strings.ToLower(want)) {
					t.Errorf("%s: %q, want %q in it", mode, got.Body, want)
				}
			}
			if got := do(t, c, "POST", url+"/trailers", "no trailers"); got.Body != `body="no trailers" <nil> before=[] after=[] sum="" none=""` {
				t.Errorf("%s without trailers: %q", mode, got.Body)
			}
		})
	}
}
