package tlsx

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
)

// ALPN protocol identifiers (RFC 7301).
const (
	ALPNH2     = "h2"
	ALPNHTTP11 = "http/1.1"
)

// DefaultALPN is what a listener offers: HTTP/2 first, then HTTP/1.1.
var DefaultALPN = []string{ALPNH2, ALPNHTTP11}

// cipherSuites are the TLS 1.2 suites offered: ECDHE with AEAD only, which
// is also what HTTP/2 requires (RFC 9113 §9.2.2). TLS 1.3 suites are not
// configurable and all fine.
var cipherSuites = []uint16{
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
}

// ServerConfig returns the tls.Config of a listener: certificates from
// store by SNI, ALPN offering alpn (nil means DefaultALPN), TLS 1.2 and
// later with ECDHE-AEAD suites, Go's default session tickets (resumption,
// with keys Go generates and rotates itself), and, when clientCAs is not
// nil, client certificates required and verified against it (Monkey's
// CheckClientCert). Each call returns a new Config the caller may adjust.
func ServerConfig(store *Store, alpn []string, clientCAs *x509.CertPool) *tls.Config {
	if alpn == nil {
		alpn = DefaultALPN
	}
	c := &tls.Config{
		MinVersion:     tls.VersionTLS12,
		CipherSuites:   cipherSuites,
		GetCertificate: store.GetCertificate,
		NextProtos:     append([]string(nil), alpn...),
	}
	if clientCAs != nil {
		c.ClientCAs = clientCAs
		c.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return c
}

// ErrNoCertificates is returned by LoadCertPool for a file without any PEM
// certificate.
var ErrNoCertificates = errors.New("tlsx: no certificate in file")

// LoadCertPool reads the PEM certificates of file into a pool, for the
// clientCAs of ServerConfig.
func LoadCertPool(file string) (*x509.CertPool, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("tlsx: %w", err)
	}
	p := x509.NewCertPool()
	if !p.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("%w: %s", ErrNoCertificates, file)
	}
	return p, nil
}

// Protocol returns the application protocol of an established connection:
// ALPNH2 when the client chose h2, else ALPNHTTP11 (no ALPN means HTTP/1.1).
func Protocol(cs tls.ConnectionState) string {
	if cs.NegotiatedProtocol == ALPNH2 {
		return ALPNH2
	}
	return ALPNHTTP11
}
