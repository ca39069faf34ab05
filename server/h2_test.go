package server

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"gibbon/config"
)

// h2Modes are the ways a test reaches the HTTP/2 side of the server.
var h2Modes = []string{"h2-tls", "h2c"}

// startH2 runs a server whose only listener speaks mode ("h2-tls": tls
// h2; "h2c"), after mutate, and returns it with an HTTP/2 client.
func startH2(t *testing.T, mode string, mutate func(*config.Config)) (*testServer, *http.Client, string) {
	t.Helper()
	ts := start(t, testDriver{opts: Options{Driver: DriverAuto}}, func(c *config.Config) {
		if mode == "h2c" {
			c.Server.Listen[0].Flags = []string{"h2c"}
		} else {
			c.Server.Listen[0].Flags = []string{"tls", "h2"}
		}
		if mutate != nil {
			mutate(c)
		}
	})
	tr := &http.Transport{DisableCompression: true, Protocols: new(http.Protocols)}
	scheme := "https"
	if mode == "h2c" {
		scheme = "http"
		tr.Protocols.SetUnencryptedHTTP2(true)
	} else {
		tr.Protocols.SetHTTP2(true)
		tr.TLSClientConfig = &tls.Config{RootCAs: ts.certPool(t), ServerName: "localhost"}
	}
	t.Cleanup(tr.CloseIdleConnections)
	c := &http.Client{Transport: tr, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return ts, c, scheme + "://" + ts.addr
}

// certPool trusts the server's default certificate.
func (ts *testServer) certPool(t *testing.T) *x509.CertPool {
	t.Helper()
	p := x509.NewCertPool()
	p.AddCert(ts.tlsStore.Certificate("").Leaf)
	return p
}

// forH2Modes runs f as a parallel subtest per mode of h2Modes, with a
// server started by startH2 after mutate (base is its URL prefix).
func forH2Modes(t *testing.T, mutate func(*config.Config), f func(t *testing.T, ts *testServer, c *http.Client, base string)) {
	for _, mode := range h2Modes {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			ts, c, base := startH2(t, mode, mutate)
			f(t, ts, c, base)
		})
	}
}

func TestH2Static(t *testing.T) {
	t.Parallel()
	forH2Modes(t, nil, func(t *testing.T, _ *testServer, c *http.Client, base string) {
		resp, body := get(t, c, "GET", base+"/hello.txt")
		if resp.ProtoMajor != 2 || resp.StatusCode != 200 || body != testFiles["hello.txt"] {
			t.Fatalf("GET /hello.txt: %s %d %q", resp.Proto, resp.StatusCode, body)
		}
		if resp.Header.Get("Server") != "gibbon/0.1" || resp.Header.Get("Date") == "" || resp.Header.Get("Connection") != "" {
			t.Errorf("headers %v", resp.Header)
		}
		etag := resp.Header.Get("ETag")
		tests := []struct {
			method, path string
			hdr          []string
			status       int
			body         string
			header       string // "Name: value" expected
		}{
			{"HEAD", "/hello.txt", nil, 200, "", "Content-Length: 13"},
			{"GET", "/digits.txt", []string{"Range", "bytes=2-4"}, 206, "234", "Content-Range: bytes 2-4/10"},
			{"GET", "/digits.txt", []string{"Range", "bytes=0-0,8-"}, 206, "", "Content-Type: multipart/byteranges"},
			{"GET", "/digits.txt", []string{"Range", "bytes=20-"}, 416, "", "Content-Range: bytes */10"},
			{"GET", "/hello.txt", []string{"If-None-Match", etag}, 304, "", "ETag: " + etag},
			{"GET", "/hello.txt", []string{"If-Match", `"nope"`}, 412, "", ""},
			{"GET", "/missing", nil, 404, testFiles["errors/404.html"], ""},
			{"GET", "/dir", nil, 301, "", "Location: /dir/"},
			{"GET", "/dir?x=1", nil, 301, "", "Location: /dir/?x=1"},
			{"GET", "/a/b", []string{"Host", "old.test"}, 301, "", "Location: http://new.test/a/b"},
			{"DELETE", "/hello.txt", nil, 405, "", "Allow: GET, HEAD, OPTIONS"},
			{"GET", "/big.bin", nil, 200, string(bigContent()), ""},
			{"POST", "/hello.txt", []string{"Content-Type", "text/plain"}, 405, "", ""},
		}
		for _, tc := range tests {
			resp, body := get(t, c, tc.method, base+tc.path, tc.hdr...)
			if resp.StatusCode != tc.status {
				t.Errorf("%s %s %v: status %d, want %d", tc.method, tc.path, tc.hdr, resp.StatusCode, tc.status)
			}
			if tc.body != "" && body != tc.body {
				t.Errorf("%s %s: body %q, want %q", tc.method, tc.path, clip(body), clip(tc.body))
			}
			if name, value, ok := strings.Cut(tc.header, ": "); ok && !strings.HasPrefix(resp.Header.Get(name), value) {
				t.Errorf("%s %s: %s = %q, want %q", tc.method, tc.path, name, resp.Header.Get(name), value)
			}
		}
	})
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

// A request body is read and dropped; one larger than MaxRequestSize gets
// 413.
func TestH2RequestBody(t *testing.T) {
	t.Parallel()
	_, c, base := startH2(t, "h2c", func(c *config.Config) { c.Server.MaxRequestSize = 1 << 10 })
	resp, err := c.Post(base+"/hello.txt", "text/plain", strings.NewReader(strings.Repeat("x", 900)))
	if err != nil || resp.StatusCode != 405 {
		t.Fatalf("small POST: %v %v", resp, err)
	}
	resp.Body.Close()
	resp, err = c.Post(base+"/hello.txt", "text/plain", io.LimitReader(zeros{}, 100<<10))
	if err != nil || resp.StatusCode != 413 {
		t.Fatalf("large POST: %v %v", resp, err)
	}
	resp.Body.Close()
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// h2Client is a raw HTTP/2 client connection over TCP, for what
// http2.Transport does not let a test do (withhold window updates, watch
// GOAWAY, upgrade).
type h2Client struct {
	t   *testing.T
	nc  net.Conn
	fr  *http2.Framer
	enc *hpack.Encoder
	buf bytes.Buffer
}

func dialH2(t *testing.T, addr string, preface bool) *h2Client {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	h := &h2Client{t: t, nc: nc, fr: http2.NewFramer(nc, nc)}
	h.enc = hpack.NewEncoder(&h.buf)
	if preface {
		h.preface()
	}
	return h
}

func (h *h2Client) preface() {
	io.WriteString(h.nc, http2.ClientPreface)
	h.fr.WriteSettings()
}

// get opens stream id with a GET of path.
func (h *h2Client) get(id uint32, path string) {
	h.buf.Reset()
	for _, f := range [][2]string{{":method", "GET"}, {":scheme", "http"}, {":authority", "localhost"}, {":path", path}} {
		h.enc.WriteField(hpack.HeaderField{Name: f[0], Value: f[1]})
	}
	if err := h.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: h.buf.Bytes(), EndStream: true, EndHeaders: true}); err != nil {
		h.t.Fatal(err)
	}
}

// until reads frames until one satisfies f; it fails on an error.
func (h *h2Client) until(what string, f func(http2.Frame) bool) http2.Frame {
	h.t.Helper()
	for {
		fr, err := h.fr.ReadFrame()
		if err != nil {
			h.t.Fatalf("waiting for %s: %v", what, err)
		}
		if sf, ok := fr.(*http2.SettingsFrame); ok && !sf.IsAck() {
			h.fr.WriteSettingsAck()
		}
		if f(fr) {
			return fr
		}
	}
}

// readData reads DATA frames of stream id, n octets in all (stopping at
// END_STREAM), and returns how many it got and whether the stream ended.
func (h *h2Client) readData(id uint32, n int) (int, bool) {
	h.t.Helper()
	got := 0
	for got < n {
		fr := h.until("DATA", func(f http2.Frame) bool { return f.Header().StreamID == id && f.Header().Type == http2.FrameData })
		d := fr.(*http2.DataFrame)
		got += len(d.Data())
		if d.StreamEnded() {
			return got, true
		}
	}
	return got, false
}

// blockedStream starts an h2c server after mutate and a raw client whose
// stream 1 GETs path and has read the first 65535 octets of the body, the
// whole initial window.
func blockedStream(t *testing.T, mutate func(*config.Config), path string) (*testServer, *h2Client) {
	t.Helper()
	ts, _, _ := startH2(t, "h2c", mutate)
	h := dialH2(t, ts.addr, true)
	h.get(1, path)
	if n, _ := h.readData(1, 65535); n != 65535 {
		t.Fatalf("got %d octets before the window closed", n)
	}
	return ts, h
}

// readRest opens the windows for stream 1, whose body is size octets,
// and reads the rest of it after the first 65535, up to END_STREAM.
func (h *h2Client) readRest(size int) {
	h.t.Helper()
	h.fr.WriteWindowUpdate(0, uint32(size))
	h.fr.WriteWindowUpdate(1, uint32(size))
	if n, end := h.readData(1, size); n != size-65535 || !end {
		h.t.Fatalf("after opening the window: %d octets, end %v; want %d and the end", n, end, size-65535)
	}
}

// Shutdown sends GOAWAY and lets a stream blocked by flow control finish.
func TestH2GracefulShutdown(t *testing.T) {
	t.Parallel()
	ts, h := blockedStream(t, nil, "/big.bin")
	done := make(chan error, 1)
	go func() { done <- ts.Shutdown(context.Background()) }()
	h.until("GOAWAY", func(f http2.Frame) bool { _, ok := f.(*http2.GoAwayFrame); return ok })
	h.readRest(bigSize)
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Shutdown: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Shutdown did not return once the stream ended")
	}
}

// A client that never opens its window loses the connection after
// Timeout; so does one that sends nothing after connecting.
func TestH2Timeouts(t *testing.T) {
	t.Parallel()
	ts, _, _ := startH2(t, "h2c", func(c *config.Config) {
		c.Server.Timeout = 500 * time.Millisecond
		c.Server.KeepAliveTimeout = 500 * time.Millisecond
	})
	t.Run("zero window", func(t *testing.T) {
		t.Parallel()
		h := dialH2(t, ts.addr, true)
		h.get(1, "/big.bin")
		h.readData(1, 65535)
		began := time.Now()
		if _, err := io.Copy(io.Discard, h.nc); err != nil {
			t.Fatalf("reading until close: %v", err)
		}
		if d := time.Since(began); d < 400*time.Millisecond || d > 3*time.Second {
			t.Errorf("closed after %v, want about 500ms", d)
		}
	})
	t.Run("idle", func(t *testing.T) {
		t.Parallel()
		h := dialH2(t, ts.addr, true)
		h.get(1, "/hello.txt")
		h.readData(1, 1)
		fr := h.until("GOAWAY", func(f http2.Frame) bool { _, ok := f.(*http2.GoAwayFrame); return ok })
		if fr.(*http2.GoAwayFrame).ErrCode != http2.ErrCodeNo {
			t.Errorf("GOAWAY %v", fr)
		}
	})
}

// "Upgrade: h2c" turns the connection to HTTP/2, the request becoming
// stream 1.
func TestH2CUpgrade(t *testing.T) {
	t.Parallel()
	ts, _, _ := startH2(t, "h2c", nil)
	h := dialH2(t, ts.addr, false)
	io.WriteString(h.nc, "GET /hello.txt HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade, HTTP2-Settings\r\n"+
		"Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n")
	want := "HTTP/1.1 101 Switching Protocols\r\n"
	b := make([]byte, len("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n"))
	if _, err := io.ReadFull(h.nc, b); err != nil || !strings.HasPrefix(string(b), want) {
		t.Fatalf("got %q, %v", b, err)
	}
	h.preface()
	var status string
	dec := hpack.NewDecoder(4096, func(f hpack.HeaderField) {
		if f.Name == ":status" {
			status = f.Value
		}
	})
	fr := h.until("HEADERS", func(f http2.Frame) bool { _, ok := f.(*http2.HeadersFrame); return ok })
	dec.Write(fr.(*http2.HeadersFrame).HeaderBlockFragment())
	if n, end := h.readData(1, 100); status != "200" || n != len(testFiles["hello.txt"]) || !end {
		t.Fatalf("stream 1: status %s, %d octets, end %v", status, n, end)
	}
	// The HTTP/1 side still works on the same listener.
	rc := dial(t, ts.addr)
	rc.send("GET /hello.txt HTTP/1.1\r\nHost: localhost\r\n\r\n")
	if resp, body := rc.response("GET"); resp.StatusCode != 200 || body != testFiles["hello.txt"] {
		t.Fatalf("HTTP/1.1 on the h2c listener: %d %q", resp.StatusCode, body)
	}
}

// writeTestCert writes a certificate for names, signed by itself, with
// CommonName cn, and returns its certificate and key files.
func writeTestCert(t *testing.T, dir, cn string, names ...string) (string, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		DNSNames:     names,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile := filepath.Join(dir, cn+".pem"), filepath.Join(dir, cn+".key")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb}), 0o600)
	return certFile, keyFile
}

// SNI picks the host's certificate; an unknown name gets the default
// one; ALPN follows the listener's flags; a stalled handshake is closed
// after Timeout.
func TestTLSListener(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	defCert, defKey := writeTestCert(t, dir, "default", "localhost")
	aCert, aKey := writeTestCert(t, dir, "vhost-a", "a.test")
	ts := start(t, testDriver{opts: Options{Driver: DriverAuto}}, func(c *config.Config) {
		c.Server.Timeout = 500 * time.Millisecond
		c.Server.Listen = []config.Listen{{Addr: "127.0.0.1:0", Flags: []string{"tls"}}, {Addr: "127.0.0.1:0"}}
		c.TLS = config.TLS{CertificateFile: defCert, KeyFile: defKey}
		c.Hosts[1].ServerNames = []string{"a.test"}
		c.Hosts[1].CertificateFile, c.Hosts[1].KeyFile = aCert, aKey
	})
	if addrs := ts.Addrs(); len(addrs) != 2 || addrs[0].String() != ts.addr {
		t.Fatalf("Addrs = %v", addrs)
	}
	for _, tc := range []struct{ sni, cn string }{{"a.test", "vhost-a"}, {"b.test", "default"}, {"", "default"}} {
		tc2, err := tls.Dial("tcp", ts.addr, &tls.Config{ServerName: tc.sni, InsecureSkipVerify: true, NextProtos: []string{"h2", "http/1.1"}})
		if err != nil {
			t.Fatalf("SNI %q: %v", tc.sni, err)
		}
		cs := tc2.ConnectionState()
		if cn := cs.PeerCertificates[0].Subject.CommonName; cn != tc.cn || cs.NegotiatedProtocol != "http/1.1" || cs.Version < tls.VersionTLS12 {
			t.Errorf("SNI %q: certificate %q, ALPN %q, version %x; want %q, http/1.1", tc.sni, cn, cs.NegotiatedProtocol, cs.Version, tc.cn)
		}
		io.WriteString(tc2, "GET /hello.txt HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
		if b, _ := io.ReadAll(tc2); !strings.HasPrefix(string(b), "HTTP/1.1 200 OK") || !strings.HasSuffix(string(b), testFiles["hello.txt"]) {
			t.Errorf("HTTPS/1.1 GET: %q", b)
		}
		tc2.Close()
	}
	// A client that connects and never says hello is closed after Timeout.
	rc := dial(t, ts.addr)
	began := time.Now()
	rc.expectClosed(3 * time.Second)
	if d := time.Since(began); d < 400*time.Millisecond {
		t.Errorf("closed after %v, want about 500ms", d)
	}
	// Certificates are reloaded on demand: a new file for a.test is served.
	writeTestCert(t, dir, "vhost-a", "a.test")
	os.Rename(filepath.Join(dir, "vhost-a.pem"), aCert)
	if err := ts.ReloadCertificates(); err != nil {
		t.Fatal(err)
	}
}
