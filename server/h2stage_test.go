package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/http2"

	"gibbon/config"
	"gibbon/stage"
)

// h2probe is a test plugin of blocking handlers for HTTP/2 streams:
// "Match <re> h2probe proto|big|wait|deadline". proto answers what the
// request looks like; big writes h2BigBody bytes in 32 KiB writes,
// counting them in written; wait sends its head and waits for the
// request's context to end, reported on cancelled; deadline is big with
// a write deadline h2WriteDeadline away, its write error reported on
// cancelled.
type h2probe struct {
	written   atomic.Int64
	cancelled chan error
}

const (
	h2BigBody       = 4 << 20
	h2WriteDeadline = 1500 * time.Millisecond
)

func init() {
	stage.Register("h2probe", func() stage.Plugin { return &h2probe{cancelled: make(chan error, 10)} })
}

func (p *h2probe) Decode(*stage.PluginConfig) error { return nil }

func (p *h2probe) MakeHandler(params []string) (stage.Handler, error) {
	return &probeHandler{p: p, kind: params[0]}, nil
}

type probeHandler struct {
	p    *h2probe
	kind string
}

func (h *probeHandler) Blocking() bool { return true }

func (h *probeHandler) ServeGibbon(w stage.ResponseWriter, r *stage.Request) error {
	switch h.kind {
	case "proto":
		n, err := io.Copy(io.Discard, r.Body)
		fmt.Fprintf(w, "%s %s %s?%s tls=%v host=%s/%s cl=%s te=%s body=%d %v",
			r.Proto, r.MethodName, r.Path, r.Query, r.Conn.TLS, r.Host, r.Header("Host"),
			r.Header("Content-Length"), r.Header("Transfer-Encoding"), n, err)
	case "big":
		return h.writeBig(w)
	case "deadline":
		w.(stage.Deadliner).SetWriteDeadline(time.Now().Add(h2WriteDeadline))
		err := h.writeBig(w)
		h.p.cancelled <- err
		return err
	case "wait":
		w.(stage.Flusher).Flush()
		<-r.Context().Done()
		h.p.cancelled <- r.Context().Err()
	}
	return nil
}

// writeBig writes h2BigBody bytes in 32 KiB writes, counting them.
func (h *probeHandler) writeBig(w stage.ResponseWriter) error {
	buf := bytes.Repeat([]byte("z"), 32<<10)
	for n := 0; n < h2BigBody; n += len(buf) {
		if _, err := w.Write(buf); err != nil {
			return err
		}
		h.p.written.Add(int64(len(buf)))
	}
	return nil
}

// withH2Probe loads the recorder and h2probe, routing /proto, /big,
// /wait and /deadline to h2probe.
func withH2Probe(c *config.Config) {
	withRecorder(c)
	c.Server.MaxRequestSize = 2 << 20
	c.Plugins.Entries = append(c.Plugins.Entries, config.Entry{Key: "Load", Value: "h2probe"})
	rules := c.Hosts[0].Sections[len(c.Hosts[0].Sections)-1]
	for _, k := range []string{"proto", "big", "wait", "deadline", "feed"} {
		plugin := "h2probe"
		if k == "feed" {
			plugin = "recorder"
		}
		rules.Entries = append(rules.Entries, config.Entry{Key: "Match", Value: "^/" + k + " " + plugin + " " + k})
	}
}

func probeOf(ts *testServer) *h2probe { return ts.Pipeline().Plugin("h2probe").(*h2probe) }

// TestH2StageOrder checks the stages per HTTP/2 stream: 10 once for the
// connection; 20 and 40 per stream; 30 for the handlers' streams (inline
// and blocking); a Handled verdict answered on its stream, a Close
// verdict resetting its stream only; 50 once, last.
func TestH2StageOrder(t *testing.T) {
	t.Parallel()
	forH2Modes(t, withH2Probe, func(t *testing.T, ts *testServer, c *http.Client, base string) {
		if resp, body := get(t, c, "GET", base+"/hello.txt"); resp.StatusCode != 200 || body != testFiles["hello.txt"] {
			t.Fatalf("/hello.txt: %d %q", resp.StatusCode, body)
		}
		for _, k := range []string{"inline", "blocking"} {
			if resp, body := get(t, c, "GET", base+"/"+k); resp.ProtoMajor != 2 || resp.StatusCode != 200 || body != k+" /"+k {
				t.Fatalf("/%s: %s %d %q", k, resp.Proto, resp.StatusCode, body)
			}
		}
		resp, _ := get(t, c, "GET", base+"/refuse")
		if resp.StatusCode != 403 || resp.Header.Get("X-Refused") != "yes" {
			t.Fatalf("/refuse: %d %v", resp.StatusCode, resp.Header)
		}
		if resp, err := c.Get(base + "/drop"); err == nil || !strings.Contains(err.Error(), "CANCEL") {
			t.Fatalf("/drop: %v %v, want a stream reset with CANCEL", resp, err)
		}
		// The connection still serves after the reset.
		if resp, _ := get(t, c, "GET", base+"/hello.txt"); resp.StatusCode != 200 {
			t.Fatalf("/hello.txt after /drop: %d", resp.StatusCode)
		}
		c.Transport.(*http.Transport).CloseIdleConnections()
		got := strings.Join(recorderOf(ts).log(t), "|")
		want := "10|20 /hello.txt|40 /hello.txt 200 0|20 /inline|30 /inline|40 /inline 200 0|20 /blocking|30 /blocking|" +
			"40 /blocking 200 0|20 /refuse|40 /refuse 403 20|20 /drop|40 /drop 0 20|20 /hello.txt|40 /hello.txt 200 0|50"
		if got != want {
			t.Errorf("stages:\n got %s\nwant %s", got, want)
		}
	})
}

// TestH2Blocking checks blocking handlers over HTTP/2: streaming with
// Flush, a Content-Length for a small answer, internal redirects, error
// pages with the handler's fields, request bodies (1 MiB echo, with and
// without content-length, read from another goroutine), and the request
// as the handler sees it.
func TestH2Blocking(t *testing.T) {
	t.Parallel()
	forH2Modes(t, withH2Probe, func(t *testing.T, _ *testServer, c *http.Client, base string) {
		resp, body := get(t, c, "GET", base+"/stream")
		if resp.StatusCode != 200 || body != "part 0\npart 1\npart 2\n" || resp.ContentLength != -1 {
			t.Errorf("/stream: %d %d %q", resp.StatusCode, resp.ContentLength, body)
		}
		resp, body = get(t, c, "GET", base+"/blocking")
		if resp.ContentLength != int64(len("blocking /blocking")) || body != "blocking /blocking" {
			t.Errorf("/blocking: length %d %q", resp.ContentLength, body)
		}
		resp, body = get(t, c, "HEAD", base+"/blocking")
		if resp.StatusCode != 200 || body != "" {
			t.Errorf("HEAD /blocking: %d %q", resp.StatusCode, body)
		}
		resp, body = get(t, c, "GET", base+"/redirect")
		if resp.StatusCode != 200 || body != testFiles["hello.txt"] {
			t.Errorf("/redirect: %d %q", resp.StatusCode, body)
		}
		resp, _ = get(t, c, "GET", base+"/fail")
		if resp.StatusCode != 503 || resp.Header.Get("Retry-After") != "1" {
			t.Errorf("/fail: %d %v", resp.StatusCode, resp.Header)
		}
		payload := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
		for _, known := range []bool{true, false} {
			var r io.Reader = bytes.NewReader(payload)
			if !known {
				r = io.MultiReader(r) // no length: no content-length
			}
			if resp, b := post(t, c, base+"/echo", r); b != string(payload) {
				t.Errorf("/echo (length known %v): %d, %d bytes back", known, resp.StatusCode, len(b))
			}
		}
		if resp, b := post(t, c, base+"/feed", strings.NewReader("hello")); resp.StatusCode != 200 || b != "started\n" {
			t.Errorf("/feed: %d %q", resp.StatusCode, b)
		}
		tls := strings.HasPrefix(base, "https:")
		_, body = get(t, c, "GET", base+"/proto?a=1")
		host := strings.TrimPrefix(strings.TrimPrefix(base, "http://"), "https://")
		if want := fmt.Sprintf("HTTP/2.0 GET /proto?a=1 tls=%v host=%s/%s cl= te= body=0 <nil>", tls, host, host); body != want {
			t.Errorf("GET /proto:\n got %s\nwant %s", body, want)
		}
		for _, tc := range []struct {
			body io.Reader
			want string
		}{
			{io.MultiReader(strings.NewReader("abc")), "cl= te=chunked body=3 <nil>"},
			{strings.NewReader("abcd"), "cl=4 te= body=4 <nil>"},
		} {
			if _, b := post(t, c, base+"/proto", tc.body); !strings.HasSuffix(b, tc.want) {
				t.Errorf("POST /proto: %q, want suffix %q", b, tc.want)
			}
		}
	})
}

// post sends body to url and returns the response and its body.
func post(t *testing.T, c *http.Client, url string, body io.Reader) (*http.Response, string) {
	t.Helper()
	resp, err := c.Post(url, "text/plain", body)
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("POST %s: reading body: %v", url, err)
	}
	return resp, string(b)
}

// TestH2BlockingBodyLimit checks MaxRequestSize for blocking handlers
// over HTTP/2: 413 for a long content-length before the handler runs,
// and for a body without one that outgrows it.
func TestH2BlockingBodyLimit(t *testing.T) {
	t.Parallel()
	_, c, base := startH2(t, "h2c", func(c *config.Config) {
		withRecorder(c)
		c.Server.MaxRequestSize = 4 << 10
	})
	for _, known := range []bool{true, false} {
		var r io.Reader = strings.NewReader(strings.Repeat("y", 10000))
		if !known {
			r = io.MultiReader(r)
		}
		if resp, _ := post(t, c, base+"/echo", r); resp.StatusCode != 413 {
			t.Errorf("long body (length known %v): %d", known, resp.StatusCode)
		}
	}
}

// TestH2Backpressure checks that a blocking handler writing a large body
// to a client that does not open its flow-control window is held back
// (it buffers nothing beyond what the window took), and finishes once
// the client reads.
func TestH2Backpressure(t *testing.T) {
	t.Parallel()
	ts, h := blockedStream(t, withH2Probe, "/big")
	time.Sleep(300 * time.Millisecond)
	if w := probeOf(ts).written.Load(); w > 65535+32<<10 {
		t.Fatalf("the handler wrote %d bytes while the client's window allowed 65535", w)
	}
	h.readRest(h2BigBody)
}

// TestH2WriteDeadlineOverStall: a write deadline later than Timeout
// bounds a stream stalled by the client's flow-control window instead of
// Timeout, as in x/net/http2's server: the stream outlives Timeout, is
// reset (INTERNAL_ERROR) once the deadline passes, its write failing
// with an error wrapping os.ErrDeadlineExceeded, and the connection goes
// on.
func TestH2WriteDeadlineOverStall(t *testing.T) {
	t.Parallel()
	const timeout = 300 * time.Millisecond // h2WriteDeadline is 5 times that
	ts, h := blockedStream(t, func(c *config.Config) {
		withH2Probe(c)
		c.Server.Timeout = timeout
	}, "/deadline")
	began := time.Now()
	fr := h.until("RST_STREAM", func(f http2.Frame) bool { _, ok := f.(*http2.RSTStreamFrame); return ok })
	if rst := fr.(*http2.RSTStreamFrame); rst.StreamID != 1 || rst.ErrCode != http2.ErrCodeInternal {
		t.Fatalf("%v", rst)
	}
	if d := time.Since(began); d < timeout {
		t.Errorf("reset after %v, before Timeout", d)
	}
	select {
	case err := <-probeOf(ts).cancelled:
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Errorf("write error %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the handler did not end")
	}
	h.fr.WritePing(false, [8]byte{7})
	h.until("PING ack", func(f http2.Frame) bool { p, ok := f.(*http2.PingFrame); return ok && p.IsAck() })
}

// TestH2Cancel checks that Request.Context ends when the client resets
// the stream or closes the connection, and that stage 40 still runs.
func TestH2Cancel(t *testing.T) {
	t.Parallel()
	ts, _, _ := startH2(t, "h2c", withH2Probe)
	h := dialH2(t, ts.addr, true)
	h.get(1, "/wait")
	h.until("HEADERS", func(f http2.Frame) bool { _, ok := f.(*http2.HeadersFrame); return ok })
	h.fr.WriteRSTStream(1, http2.ErrCodeCancel)
	p := probeOf(ts)
	select {
	case err := <-p.cancelled:
		if err != context.Canceled {
			t.Errorf("context error %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("RST_STREAM did not cancel the handler's context")
	}
	h.get(3, "/wait")
	h.until("HEADERS", func(f http2.Frame) bool { _, ok := f.(*http2.HeadersFrame); return ok })
	h.nc.Close()
	select {
	case <-p.cancelled:
	case <-time.After(5 * time.Second):
		t.Fatal("closing the connection did not cancel the handler's context")
	}
	got := strings.Join(recorderOf(ts).log(t), "|")
	if want := "10|20 /wait|40 /wait 200 0|20 /wait|40 /wait 200 0|50"; got != want {
		t.Errorf("stages:\n got %s\nwant %s", got, want)
	}
}
