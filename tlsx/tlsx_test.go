package tlsx

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// writeCert writes a self-signed certificate for names, with a key of the
// given kind ("rsa" PKCS #1, "ec" SEC 1, "ed25519" PKCS #8), and returns
// its files. The CommonName is cn, to tell certificates apart.
func writeCert(t *testing.T, dir, cn, kind string, names ...string) CertFiles {
	t.Helper()
	var (
		key    crypto.Signer
		keyPEM *pem.Block
		err    error
	)
	switch kind {
	case "rsa":
		k, _ := rsa.GenerateKey(rand.Reader, 2048)
		key, keyPEM = k, &pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)}
	case "ec":
		k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		b, _ := x509.MarshalECPrivateKey(k)
		key, keyPEM = k, &pem.Block{Type: "EC PRIVATE KEY", Bytes: b}
	default:
		_, k, _ := ed25519.GenerateKey(rand.Reader)
		b, _ := x509.MarshalPKCS8PrivateKey(k)
		key, keyPEM = k, &pem.Block{Type: "PRIVATE KEY", Bytes: b}
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		DNSNames:     names,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	f := CertFiles{CertFile: filepath.Join(dir, cn+".crt"), KeyFile: filepath.Join(dir, cn+".key")}
	if err := os.WriteFile(f.CertFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(f.KeyFile, pem.EncodeToMemory(keyPEM), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

// serveTLS accepts TLS connections on 127.0.0.1:0 with cfg, completes
// their handshakes and writes "ok" on each.
func serveTLS(t *testing.T, cfg *tls.Config) string {
	t.Helper()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(5 * time.Second))
				if c.(*tls.Conn).Handshake() == nil {
					c.Write([]byte("ok"))
					var b [1]byte
					c.Read(b[:])
				}
			}()
		}
	}()
	return ln.Addr().String()
}

// dial connects with SNI name and ALPN protos and returns the state and
// the server certificate's CommonName.
func dial(t *testing.T, addr, name string, protos []string, cc *tls.Config) (tls.ConnectionState, string) {
	t.Helper()
	cfg := &tls.Config{ServerName: name, InsecureSkipVerify: true, NextProtos: protos}
	if cc != nil {
		cfg = cc
	}
	c, err := tls.Dial("tcp", addr, cfg)
	if err != nil {
		t.Fatalf("dial %q: %v", name, err)
	}
	defer c.Close()
	var b [2]byte
	if _, err := c.Read(b[:]); err != nil {
		t.Fatalf("read %q: %v", name, err)
	}
	cs := c.ConnectionState()
	return cs, cs.PeerCertificates[0].Subject.CommonName
}

func TestSNI(t *testing.T) {
	dir := t.TempDir()
	st, err := NewStore(StoreConfig{
		Default: writeCert(t, dir, "default", "rsa", "default.test"),
		Hosts: []HostCert{
			{Names: []string{"a.test", "www.a.test"}, Files: writeCert(t, dir, "a", "ec", "a.test")},
			{Files: writeCert(t, dir, "b", "ed25519", "*.b.test", "b.test")}, // names from the SANs
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if st.SelfSigned() {
		t.Fatal("SelfSigned with a default certificate")
	}
	addr := serveTLS(t, ServerConfig(st, nil, nil))
	for name, want := range map[string]string{
		"a.test":         "a",
		"WWW.A.test.":    "a",
		"b.test":         "b",
		"x.b.test":       "b",
		"y.x.b.test":     "default", // a wildcard covers one label only
		"unknown.test":   "default",
		"":               "default", // no SNI
		"default.test":   "default",
		"other.a.test":   "default",
		"localhost.test": "default",
	} {
		if _, cn := dial(t, addr, name, nil, nil); cn != want {
			t.Errorf("SNI %q: got certificate %q, want %q", name, cn, want)
		}
	}
}

func TestStoreErrors(t *testing.T) {
	dir := t.TempDir()
	a := writeCert(t, dir, "a", "ec", "a.test")
	b := writeCert(t, dir, "b", "ec", "a.test")
	for name, cfg := range map[string]StoreConfig{
		"duplicate name": {Hosts: []HostCert{{Files: a}, {Files: b}}},
		"missing file":   {Default: CertFiles{CertFile: filepath.Join(dir, "none.crt"), KeyFile: a.KeyFile}},
		"key mismatch":   {Default: CertFiles{CertFile: a.CertFile, KeyFile: b.KeyFile}},
		"no key":         {Default: CertFiles{CertFile: a.CertFile}},
		"bad wildcard":   {Hosts: []HostCert{{Names: []string{"a.*.test"}, Files: a}}},
	} {
		if _, err := NewStore(cfg); err == nil {
			t.Errorf("%s: NewStore succeeded", name)
		}
	}
}

func TestChainFile(t *testing.T) {
	dir := t.TempDir()
	leaf := writeCert(t, dir, "leaf", "ec", "leaf.test")
	inter := writeCert(t, dir, "inter", "ec", "inter.test")
	leaf.ChainFile = inter.CertFile
	st, err := NewStore(StoreConfig{Default: leaf})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(st.Certificate("").Certificate); n != 2 {
		t.Fatalf("chain has %d certificates, want 2", n)
	}
}

func TestSelfSignedDefault(t *testing.T) {
	st, err := NewStore(StoreConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if !st.SelfSigned() {
		t.Fatal("SelfSigned false without a default")
	}
	def := st.Certificate("")
	if err := st.Reload(); err != nil || st.Certificate("") != def {
		t.Fatalf("reload replaced the generated certificate (%v)", err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(def.Leaf)
	addr := serveTLS(t, ServerConfig(st, nil, nil))
	for _, name := range []string{"localhost", "127.0.0.1"} {
		dial(t, addr, "", nil, &tls.Config{RootCAs: roots, ServerName: name})
	}
}

func TestReload(t *testing.T) {
	dir := t.TempDir()
	var now atomic.Int64
	now.Store(time.Now().UnixNano())
	clock := func() time.Time { return time.Unix(0, now.Load()) }
	a := writeCert(t, dir, "a", "ec", "a.test")
	st, err := NewStore(StoreConfig{Default: a, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	old := st.Certificate("a.test")

	// Rewrite the files with a new certificate (a new size makes the change
	// visible even within the file system's timestamp granularity).
	writeCert(t, dir, "a", "rsa", "a.test", "more.a.test")
	if ok, err := st.MaybeReload(); ok || err != nil {
		t.Fatalf("MaybeReload before the interval: %v %v", ok, err)
	}
	if st.Certificate("a.test") != old {
		t.Fatal("certificate changed before any reload")
	}
	now.Add(int64(DefaultCheckInterval))
	if ok, err := st.MaybeReload(); !ok || err != nil {
		t.Fatalf("MaybeReload after the interval: %v %v", ok, err)
	}
	cur := st.Certificate("a.test")
	if cur == old || len(cur.Leaf.DNSNames) != 2 {
		t.Fatal("certificate not reloaded")
	}
	now.Add(int64(DefaultCheckInterval))
	if ok, _ := st.MaybeReload(); ok {
		t.Fatal("MaybeReload reloaded unchanged files")
	}

	// A broken file: Reload fails and the current certificate stays.
	os.WriteFile(a.CertFile, []byte("garbage"), 0o600)
	if err := st.Reload(); err == nil {
		t.Fatal("Reload of a broken file succeeded")
	}
	if st.Certificate("a.test") != cur {
		t.Fatal("failed reload changed the certificate")
	}

	// On demand (SIGHUP): Reload picks up the repaired files at once.
	writeCert(t, dir, "a", "ec", "a.test")
	if err := st.Reload(); err != nil {
		t.Fatal(err)
	}
	if st.Certificate("a.test") == cur {
		t.Fatal("Reload kept the old certificate")
	}

	// End to end: a handshake after a reload sees the new certificate.
	addr := serveTLS(t, ServerConfig(st, nil, nil))
	cs, _ := dial(t, addr, "a.test", nil, nil)
	if !cs.PeerCertificates[0].Equal(st.Certificate("a.test").Leaf) {
		t.Fatal("handshake served a stale certificate")
	}
}

func TestALPN(t *testing.T) {
	st, err := NewStore(StoreConfig{})
	if err != nil {
		t.Fatal(err)
	}
	addr := serveTLS(t, ServerConfig(st, nil, nil))
	for _, tc := range []struct {
		client []string
		want   string
	}{
		{[]string{"h2", "http/1.1"}, ALPNH2},
		{[]string{"http/1.1", "h2"}, ALPNH2}, // the server's preference wins
		{[]string{"http/1.1"}, ALPNHTTP11},
		{nil, ALPNHTTP11},
	} {
		cs, _ := dial(t, addr, "localhost", tc.client, nil)
		if got := Protocol(cs); got != tc.want {
			t.Errorf("client %v: protocol %q, want %q", tc.client, got, tc.want)
		}
		if cs.Version < tls.VersionTLS12 {
			t.Errorf("version %x", cs.Version)
		}
	}
	// TLS 1.1 is refused.
	_, err = tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true, MaxVersion: tls.VersionTLS11})
	if err == nil {
		t.Error("TLS 1.1 handshake succeeded")
	}
}

func TestSessionResumption(t *testing.T) {
	st, err := NewStore(StoreConfig{})
	if err != nil {
		t.Fatal(err)
	}
	addr := serveTLS(t, ServerConfig(st, nil, nil))
	for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		cache := tls.NewLRUClientSessionCache(4)
		cfg := &tls.Config{InsecureSkipVerify: true, ClientSessionCache: cache, MaxVersion: v}
		dial(t, addr, "", nil, cfg) // reading "ok" processes the TLS 1.3 ticket
		cs, _ := dial(t, addr, "", nil, cfg)
		if !cs.DidResume {
			t.Errorf("version %x: session not resumed", v)
		}
	}
}

func TestClientCert(t *testing.T) {
	dir := t.TempDir()
	client := writeCert(t, dir, "client", "ec", "client.test")
	pool, err := LoadCertPool(client.CertFile)
	if err != nil {
		t.Fatal(err)
	}
	st, _ := NewStore(StoreConfig{})
	addr := serveTLS(t, ServerConfig(st, nil, pool))
	kp, _ := tls.LoadX509KeyPair(client.CertFile, client.KeyFile)
	dial(t, addr, "", nil, &tls.Config{InsecureSkipVerify: true, Certificates: []tls.Certificate{kp}})

	c, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true})
	if err == nil {
		var b [2]byte
		_, err = c.Read(b[:])
		c.Close()
	}
	if err == nil {
		t.Fatal("handshake without a client certificate succeeded")
	}
	if _, err := LoadCertPool(client.KeyFile); err == nil {
		t.Fatal("LoadCertPool accepted a key file")
	}
}

// TestOpenSSL checks SNI and ALPN with a foreign client, openssl s_client.
func TestOpenSSL(t *testing.T) {
	bin, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("openssl not on PATH")
	}
	dir := t.TempDir()
	st, err := NewStore(StoreConfig{
		Default: writeCert(t, dir, "default", "rsa", "default.test"),
		Hosts:   []HostCert{{Files: writeCert(t, dir, "vhost", "ec", "vhost.test")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	addr := serveTLS(t, ServerConfig(st, nil, nil))
	out, err := exec.Command(bin, "s_client", "-connect", addr, "-servername", "vhost.test", "-alpn", "h2,http/1.1").CombinedOutput()
	if err != nil && !strings.Contains(string(out), "ALPN") {
		t.Fatalf("openssl: %v\n%s", err, out)
	}
	for _, want := range []string{"CN=vhost", "ALPN protocol: h2"} {
		if !strings.Contains(strings.ReplaceAll(string(out), "CN = ", "CN="), want) {
			t.Errorf("openssl output lacks %q:\n%s", want, out)
		}
	}
}
