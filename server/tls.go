package server

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"time"

	"gibbon/config"
	"gibbon/tlsx"
)

// listenSpec is how a goroutine-driver listener's connections are served.
type listenSpec struct {
	// tls, when not nil, makes every connection a TLS server connection:
	// HTTP/2 when ALPN chose h2, else HTTP/1.x.
	tls *tls.Config
	// h2c serves HTTP/1.x plus cleartext HTTP/2: by prior knowledge (the
	// client preface first) or by "Upgrade: h2c".
	h2c bool
}

// loopListener reports whether the event loops serve l: plain HTTP/1.x
// only. TLS and h2c listeners are served by the goroutine driver.
func loopListener(l config.Listen) bool { return len(l.Flags) == 0 }

// newTLSStore loads the certificates of the listeners flagged tls: the
// default one from cfg.TLS (or, when that is empty, the default host's
// CertificateFile), one per host with a CertificateFile, chosen by SNI.
// With no default certificate a self-signed one is generated and a warning
// logged. It returns nil when no listener is flagged tls.
func (s *Server) newTLSStore(cfg *config.Config) (*tlsx.Store, *x509.CertPool, error) {
	need := false
	for _, l := range cfg.Server.Listen {
		need = need || l.Has("tls")
	}
	if !need {
		return nil, nil, nil
	}
	sc := tlsx.StoreConfig{Default: tlsx.CertFiles{
		CertFile: cfg.TLS.CertificateFile, KeyFile: cfg.TLS.KeyFile, ChainFile: cfg.TLS.ChainFile,
	}}
	for i, h := range cfg.Hosts {
		if h.CertificateFile == "" {
			continue
		}
		files := tlsx.CertFiles{CertFile: h.CertificateFile, KeyFile: h.KeyFile}
		if i == 0 && sc.Default.CertFile == "" {
			sc.Default = files
		}
		if len(h.ServerNames) > 0 || i > 0 {
			sc.Hosts = append(sc.Hosts, tlsx.HostCert{Names: h.ServerNames, Files: files})
		}
	}
	if sc.Default.CertFile == "" && (sc.Default.KeyFile != "" || sc.Default.ChainFile != "") {
		return nil, nil, fmt.Errorf("server: [TLS] needs CertificateFile with RSAKeyFile")
	}
	store, err := tlsx.NewStore(sc)
	if err != nil {
		return nil, nil, fmt.Errorf("server: %w", err)
	}
	if store.SelfSigned() {
		s.log.Warn("no TLS certificate configured: serving a generated self-signed one; clients will not trust it (set CertificateFile and RSAKeyFile in plugins/tls/tls.conf)")
	}
	var clientCAs *x509.CertPool
	if cfg.TLS.ClientCAFile != "" {
		if clientCAs, err = tlsx.LoadCertPool(cfg.TLS.ClientCAFile); err != nil {
			return nil, nil, fmt.Errorf("server: CheckClientCert: %w", err)
		}
	}
	return store, clientCAs, nil
}

// listenSpecFor returns how the goroutine driver serves l.
func (s *Server) listenSpecFor(l config.Listen) listenSpec {
	if !l.Has("tls") {
		return listenSpec{h2c: l.Has("h2c")}
	}
	alpn := []string{tlsx.ALPNHTTP11}
	if l.Has("h2") {
		alpn = tlsx.DefaultALPN
	}
	return listenSpec{tls: tlsx.ServerConfig(s.tlsStore, alpn, s.clientCAs)}
}

// ReloadCertificates reads the TLS certificate files again and swaps the
// new certificates in (on SIGHUP). On error the current ones stay in use.
// Without TLS listeners it does nothing. The files are also looked at, at
// most once a minute, during handshakes, and reloaded when they changed.
func (s *Server) ReloadCertificates() error {
	if s.tlsStore == nil {
		return nil
	}
	return s.tlsStore.Reload()
}

// serveTLS runs a connection of a TLS listener: the handshake, bounded by
// Timeout, then HTTP/2 when ALPN chose h2, else HTTP/1.x.
func (c *conn) serveTLS(tc *tlsConn) {
	ctx, cancel := context.WithTimeout(context.Background(), c.gen.set.timeout)
	tc.SetDeadline(time.Now().Add(c.gen.set.timeout))
	err := tc.HandshakeContext(ctx)
	cancel()
	tc.SetDeadline(time.Time{})
	if err != nil {
		c.srv.stats.tlsHandshakeErrors.Add(1)
		c.debug("TLS handshake", err)
		c.close()
		return
	}
	c.srv.stats.tlsHandshakes.Add(1)
	if tlsx.Protocol(tc.ConnectionState()) == tlsx.ALPNH2 {
		defer c.close()
		c.serveH2(nil, nil)
		return
	}
	c.serve()
}
