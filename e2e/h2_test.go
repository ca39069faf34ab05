package e2e_test

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
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// testCert is a certificate written for a test: its files and a pool that
// trusts it.
type testCert struct {
	certFile, keyFile string
	pool              *x509.CertPool
}

// writeCert writes a self-signed certificate for names with CommonName
// cn into dir.
func writeCert(t *testing.T, dir, cn string, names ...string) testCert {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: cn},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		DNSNames:              names,
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	c := testCert{certFile: filepath.Join(dir, cn+".pem"), keyFile: filepath.Join(dir, cn+".key"), pool: x509.NewCertPool()}
	leaf, _ := x509.ParseCertificate(der)
	c.pool.AddCert(leaf)
	writeFiles(t, dir, map[string]string{
		cn + ".pem": string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		cn + ".key": string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb})),
	})
	return c
}

// tlsSite is a running gibbon with the standard site on one listener
// flagged flags, a default certificate for localhost and 127.0.0.1, and a
// vhost a.test with its own certificate. serverExtra lines replace the
// [SERVER] lines with the same key.
type tlsSite struct {
	*proc
	conf string
	def  testCert
	a    testCert
}

func startTLSSite(t *testing.T, flags string, serverExtra ...string) *tlsSite {
	t.Helper()
	root := newSite(t)
	assets := map[string]string{"big.bin": strings.Repeat("0123456789abcdef", 20<<10)}
	writeFiles(t, root, assets)
	certs := filepath.Join(t.TempDir(), "certs")
	s := &tlsSite{def: writeCert(t, certs, "default", "localhost"), a: writeCert(t, certs, "vhost-a", "a.test")}
	server := strings.Replace(serverConf(), "Listen 127.0.0.1:2001", "Listen 127.0.0.1:2001 "+flags, 1)
	for _, e := range serverExtra { // replaces the line with the same key
		key := strings.Fields(e)[0]
		server = regexp.MustCompile(`(?m)^    `+key+` .*$`).ReplaceAllLiteralString(server, e)
	}
	s.conf = newConf(t, server, map[string]string{
		"default": hostConf(root, "localhost") + "[ERROR_PAGES]\n    404 404.html\n",
		"a.test":  hostConf(root, "a.test") + "    CertificateFile " + s.a.certFile + "\n    KeyFile " + s.a.keyFile + "\n",
	})
	writeFiles(t, s.conf, map[string]string{"plugins/tls/tls.conf": "[TLS]\n    CertificateFile " + s.def.certFile +
		"\n    RSAKeyFile " + s.def.keyFile + "\n"})
	s.proc = start(t, t.TempDir(), "-c", s.conf)
	return s
}

// h2Client is a net/http client speaking only HTTP/2: over TLS trusting
// pool, or h2c with prior knowledge when pool is nil.
func h2Client(pool *x509.CertPool) *http.Client {
	tr := &http.Transport{DisableCompression: true, Protocols: new(http.Protocols)}
	if pool == nil {
		tr.Protocols.SetUnencryptedHTTP2(true)
	} else {
		tr.Protocols.SetHTTP2(true)
		tr.TLSClientConfig = &tls.Config{RootCAs: pool}
	}
	return &http.Client{Transport: tr, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func needTool(t *testing.T, name, pkg string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is required under CI: ./test.sh installs %s", name, pkg)
		}
		t.Skipf("%s not installed (%s)", name, pkg)
	}
	return path
}

// h2spec runs on the real binary, over TLS and over h2c, strict cases
// included: every case must pass.
func TestH2Spec(t *testing.T) {
	t.Parallel()
	bin := needTool(t, "h2spec", "go install github.com/summerwind/h2spec/cmd/h2spec@v2.2.1+incompatible")
	for _, mode := range []string{"tls h2", "h2c"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			runH2Spec(t, bin, startTLSSite(t, mode).addr, mode != "h2c")
		})
	}
}

// runH2Spec runs h2spec (bin), strict cases included, against a server
// on addr, over TLS or h2c: every case must pass.
func runH2Spec(t *testing.T, bin, addr string, tls bool) {
	t.Helper()
	args := []string{"-S", "-o", "5", "-h", "127.0.0.1", "-p", addr[strings.LastIndexByte(addr, ':')+1:]}
	if tls {
		args = append(args, "-t", "-k")
	}
	out, err := exec.Command(bin, args...).CombinedOutput()
	m := regexp.MustCompile(`(\d+) tests, (\d+) passed, (\d+) skipped, (\d+) failed`).FindSubmatch(out)
	if m == nil || string(m[4]) != "0" || err != nil {
		t.Fatalf("h2spec (tls %v): %v\n%s", tls, err, out)
	}
	t.Logf("h2spec (tls %v): %s", tls, m[0])
}

// Go's HTTP/2 client gets every static feature over h2 (TLS) and h2c.
func TestH2NetHTTP(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"tls h2", "h2c"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			s := startTLSSite(t, mode)
			c, base := h2Client(s.def.pool), "https://"+s.addr
			if mode == "h2c" {
				c, base = h2Client(nil), "http://"+s.addr
			}
			defer c.CloseIdleConnections()
			check := func(method, path string, status int, body string, hdr ...string) *http.Response {
				t.Helper()
				req, _ := http.NewRequest(method, base+path, nil)
				for i := 0; i+1 < len(hdr); i += 2 {
					req.Header.Set(hdr[i], hdr[i+1])
				}
				resp, err := c.Do(req)
				if err != nil {
					t.Fatalf("%s %s: %v", method, path, err)
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.ProtoMajor != 2 || resp.StatusCode != status || body != "" && string(b) != body {
					t.Errorf("%s %s %v: %s %d %q, want %d %q", method, path, hdr, resp.Proto, resp.StatusCode, clipText(string(b)), status, clipText(body))
				}
				return resp
			}
			resp := check("GET", "/hello.txt", 200, "hello world\n")
			check("GET", "/hello.txt", 304, "", "If-None-Match", resp.Header.Get("ETag"))
			check("GET", "/hello.txt", 206, "llo", "Range", "bytes=2-4")
			check("GET", "/nope", 404, "<html><body>custom not found page</body></html>\n")
			check("GET", "/dir", 301, "")
			check("HEAD", "/hello.txt", 200, "")
			check("GET", "/big.bin", 200, strings.Repeat("0123456789abcdef", 20<<10))
		})
	}
}

func clipText(s string) string {
	if len(s) > 60 {
		return s[:60] + "..."
	}
	return s
}

// curl negotiates h2 by ALPN, by prior knowledge and by Upgrade.
func TestH2Curl(t *testing.T) {
	t.Parallel()
	needCurl(t)
	tlsSite, h2c := startTLSSite(t, "tls h2"), startTLSSite(t, "h2c")
	format := []string{"-o", "/dev/null", "-w", "%{http_version} %{http_code} %{size_download}"}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--http2", "-k", "https://" + tlsSite.addr + "/big.bin"}, "2 200 327680"},
		{[]string{"--http1.1", "-k", "https://" + tlsSite.addr + "/hello.txt"}, "1.1 200 12"},
		{[]string{"--http2-prior-knowledge", "http://" + h2c.addr + "/big.bin"}, "2 200 327680"},
		{[]string{"--http2", "http://" + h2c.addr + "/hello.txt"}, "2 200 12"},
		{[]string{"--http1.1", "http://" + h2c.addr + "/hello.txt"}, "1.1 200 12"},
	} {
		if got := curl(t, append(format, tc.args...)...); got != tc.want {
			t.Errorf("curl %v: %q, want %q", tc.args, got, tc.want)
		}
	}
	// A "tls" listener without h2 offers HTTP/1.1 only.
	h1 := startTLSSite(t, "tls")
	if got := curl(t, append(format, "--http2", "-k", "https://"+h1.addr+"/hello.txt")...); got != "1.1 200 12" {
		t.Errorf("curl --http2 on a tls listener: %q, want HTTP/1.1", got)
	}
}

// nghttp (nghttp2's client) fetches over h2, h2c and h2c upgrade.
func TestH2Nghttp(t *testing.T) {
	t.Parallel()
	bin := needTool(t, "nghttp", "apt-get install nghttp2-client")
	tlsSite, h2c := startTLSSite(t, "tls h2"), startTLSSite(t, "h2c")
	for _, args := range [][]string{
		{"-s", "https://" + tlsSite.addr + "/big.bin", "https://" + tlsSite.addr + "/hello.txt"},
		{"-s", "http://" + h2c.addr + "/big.bin"},
		{"-s", "-u", "http://" + h2c.addr + "/hello.txt"},
	} {
		out, err := exec.Command(bin, append([]string{"-n", "-t", "10"}, args...)...).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "/hello.txt") && !strings.Contains(string(out), "/big.bin") {
			t.Errorf("nghttp %v: %v\n%s", args, err, out)
		}
	}
}

// openssl s_client sees vhost a's certificate for SNI a.test and the
// default one for another name; SIGHUP reloads a changed certificate.
func TestTLSSNIAndReload(t *testing.T) {
	t.Parallel()
	bin := needTool(t, "openssl", "apt-get install openssl")
	s := startTLSSite(t, "tls h2")
	subject := func(name string) string {
		t.Helper()
		cmd := exec.Command(bin, "s_client", "-connect", s.addr, "-servername", name, "-alpn", "h2")
		cmd.Stdin = strings.NewReader("")
		out, _ := cmd.CombinedOutput()
		m := regexp.MustCompile(`subject=.*CN ?= ?([\w-]+)`).FindSubmatch(out)
		if m == nil || !bytes.Contains(out, []byte("ALPN protocol: h2")) {
			t.Fatalf("openssl s_client -servername %s:\n%s", name, out)
		}
		return string(m[1])
	}
	if got := subject("a.test"); got != "vhost-a" {
		t.Errorf("SNI a.test: certificate %q, want vhost-a", got)
	}
	if got := subject("unknown.test"); got != "default" {
		t.Errorf("SNI unknown.test: certificate %q, want default", got)
	}
	// Replace a.test's certificate with one named "vhost-a2", then SIGHUP.
	dir := filepath.Dir(s.a.certFile)
	next := writeCert(t, dir, "vhost-a2", "a.test")
	os.Rename(next.certFile, s.a.certFile)
	os.Rename(next.keyFile, s.a.keyFile)
	s.signal(syscall.SIGHUP)
	deadline := time.Now().Add(5 * time.Second)
	for subject("a.test") != "vhost-a2" {
		if time.Now().After(deadline) {
			t.Fatalf("certificate not reloaded after SIGHUP; log:\n%s", s.stderr)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !strings.Contains(s.stderr.String(), "SIGHUP: configuration reloaded") {
		t.Errorf("no reload message in the log:\n%s", s.stderr)
	}
}

// A client that opens a TCP connection to a TLS listener and never sends
// its hello is closed after Timeout.
func TestTLSHandshakeTimeout(t *testing.T) {
	t.Parallel()
	s := startTLSSite(t, "tls h2", "    Timeout 1")
	c, err := net.Dial("tcp", s.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	began := time.Now()
	r := readAll(c, 5*time.Second)
	if d := time.Since(began); !r.closed || d < 900*time.Millisecond || d > 3*time.Second {
		t.Fatalf("closed %v after %v, want closed after about 1s", r.closed, d)
	}
}

// --https serves every listener as "tls h2" with a generated certificate
// and a warning.
func TestHTTPSFlag(t *testing.T) {
	t.Parallel()
	root := newSite(t)
	q := start(t, t.TempDir(), "--https", "-o", root)
	tr := &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, ForceAttemptHTTP2: true}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr, Timeout: 10 * time.Second}).Get("https://" + q.addr + "/hello.txt")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.ProtoMajor != 2 || resp.StatusCode != 200 {
		t.Errorf("GET over --https: %s %d", resp.Proto, resp.StatusCode)
	}
	if !strings.Contains(q.stderr.String(), "self-signed") {
		t.Errorf("no self-signed warning:\n%s", q.stderr)
	}
	// --tls-cert and --tls-key name the certificate.
	cert := writeCert(t, t.TempDir(), "flagcert", "localhost")
	r := start(t, t.TempDir(), "--https", "--tls-cert", cert.certFile, "--tls-key", cert.keyFile, "-o", root)
	c := h2Client(cert.pool)
	defer c.CloseIdleConnections()
	resp, err = c.Get("https://" + r.addr + "/hello.txt")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if strings.Contains(r.stderr.String(), "self-signed") || resp.TLS.PeerCertificates[0].Subject.CommonName != "flagcert" {
		t.Errorf("--tls-cert not served; log:\n%s", r.stderr)
	}
}

// A browser loads a page and its assets over h2 from gibbon: the page's
// script writes the protocol of the navigation and of each asset into the
// DOM, which Chromium dumps.
func TestBrowserH2(t *testing.T) {
	t.Parallel()
	bin := ""
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			bin = p
			break
		}
	}
	if bin == "" {
		needTool(t, "chromium", "apt-get install chromium")
	}
	s := startTLSSite(t, "tls h2")
	root := siteRoot(t, s)
	page := `<!DOCTYPE html><html><head><link rel="stylesheet" href="/style.css"><script src="/app.js"></script></head>
<body><img src="/pixel.svg"><pre id="out">pending</pre>
<script>
window.addEventListener('load', function () {
  var nav = performance.getEntriesByType('navigation')[0].nextHopProtocol;
  var res = performance.getEntriesByType('resource').map(function (e) { return e.name.split('/').pop() + '=' + e.nextHopProtocol; }).sort();
  document.getElementById('out').textContent = 'nav=' + nav + ' ' + res.join(' ') + ' app=' + window.appLoaded;
});
</script></body></html>`
	writeFiles(t, root, map[string]string{
		"page.html": page,
		"style.css": "body { color: #333 }\n",
		"app.js":    "window.appLoaded = 'yes';\n",
		"pixel.svg": `<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"/>`,
	})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
		"--user-data-dir="+t.TempDir(), "--ignore-certificate-errors", "--virtual-time-budget=5000",
		"--dump-dom", "https://localhost:"+s.addr[strings.LastIndexByte(s.addr, ':')+1:]+"/page.html")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium: %v\n%s", err, stderr.String())
	}
	want := "nav=h2 app.js=h2 pixel.svg=h2 style.css=h2 app=yes"
	if !strings.Contains(stdout.String(), want) {
		t.Fatalf("page reports %q, want %q\nDOM:\n%s", regexp.MustCompile(`id="out">([^<]*)`).FindString(stdout.String()), want, stdout.String())
	}
}

// siteRoot returns the document root of s's default host.
func siteRoot(t *testing.T, s *tlsSite) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(s.conf, "sites", "default"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`DocumentRoot (\S+)`).FindSubmatch(b)
	return string(m[1])
}
