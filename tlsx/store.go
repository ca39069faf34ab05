package tlsx

import (
	"crypto/tls"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultCheckInterval is how often, at most, [Store.MaybeReload] looks at
// the certificate files for changes.
const DefaultCheckInterval = time.Minute

// CertFiles names the PEM files of one certificate.
type CertFiles struct {
	// CertFile holds the certificate, leaf first, optionally followed by
	// its intermediates (Monkey: CertificateFile).
	CertFile string
	// KeyFile holds the private key: RSA, ECDSA or Ed25519, in PKCS #1,
	// SEC 1 or PKCS #8 form (Monkey: RSAKeyFile, any PEM key).
	KeyFile string
	// ChainFile, optional, holds intermediates appended after CertFile's
	// (Monkey: CertificateChainFile).
	ChainFile string
}

// IsZero reports whether no file is named.
func (f CertFiles) IsZero() bool { return f.CertFile == "" && f.KeyFile == "" && f.ChainFile == "" }

// HostCert is the certificate of one virtual host, chosen by SNI.
type HostCert struct {
	// Names are the server names served with this certificate: exact
	// names ("example.org") or wildcards of one label ("*.example.org"),
	// matched case-insensitively. When empty, the certificate's own DNS
	// names (SANs) are used.
	Names []string
	Files CertFiles
}

// StoreConfig describes the certificates of a [Store].
type StoreConfig struct {
	// Default is served when the client sends no SNI or a name no host
	// claims. When it is zero, a self-signed certificate for
	// SelfSignedHosts is generated (for development; the caller warns,
	// see [Store.SelfSigned]).
	Default CertFiles
	// Hosts are the per-vhost certificates.
	Hosts []HostCert
	// SelfSignedHosts are the names and IP addresses of the generated
	// certificate; empty means localhost, 127.0.0.1 and ::1.
	SelfSignedHosts []string
	// CheckInterval bounds how often MaybeReload stats the files; zero
	// means DefaultCheckInterval.
	CheckInterval time.Duration
	// Now is the clock of MaybeReload; nil means time.Now.
	Now func() time.Time
}

// Store holds the certificates of a TLS listener and picks one per
// handshake by SNI. It is safe for concurrent use: GetCertificate reads an
// immutable table through an atomic pointer; Reload builds a new table and
// swaps it in, so handshakes never wait for a reload.
type Store struct {
	cfg        StoreConfig
	selfSigned bool
	table      atomic.Pointer[table]
	lastCheck  atomic.Int64 // unix nanoseconds of the last MaybeReload look
	reloadMu   sync.Mutex   // serialises Reload
}

// table is one loaded generation of certificates. It is never modified
// once published.
type table struct {
	def   *tls.Certificate
	exact map[string]*tls.Certificate // lower-case name → certificate
	wild  map[string]*tls.Certificate // "example.org" for "*.example.org"
	files []fileStamp                 // what was read, to detect changes
}

// fileStamp identifies the version of a file that was loaded.
type fileStamp struct {
	path string
	mod  time.Time
	size int64
}

// NewStore loads every certificate of cfg. It fails if any file is
// missing or invalid, or two hosts claim the same name.
func NewStore(cfg StoreConfig) (*Store, error) {
	if cfg.CheckInterval <= 0 {
		cfg.CheckInterval = DefaultCheckInterval
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &Store{cfg: cfg, selfSigned: cfg.Default.IsZero()}
	t, err := s.load()
	if err != nil {
		return nil, err
	}
	s.table.Store(t)
	s.lastCheck.Store(cfg.Now().UnixNano())
	return s, nil
}

// SelfSigned reports whether the default certificate was generated
// because none was configured. The server logs a warning: browsers will
// not trust it.
func (s *Store) SelfSigned() bool { return s.selfSigned }

// load reads every file into a new table.
func (s *Store) load() (*table, error) {
	t := &table{exact: map[string]*tls.Certificate{}, wild: map[string]*tls.Certificate{}}
	var err error
	if s.selfSigned {
		if old := s.table.Load(); old != nil {
			t.def = old.def // keep the same generated certificate across reloads
		} else {
			c, err := SelfSigned(s.cfg.SelfSignedHosts)
			if err != nil {
				return nil, err
			}
			t.def = &c
		}
	} else if t.def, err = t.loadFiles(s.cfg.Default); err != nil {
		return nil, err
	}
	for _, h := range s.cfg.Hosts {
		c, err := t.loadFiles(h.Files)
		if err != nil {
			return nil, err
		}
		names := h.Names
		if len(names) == 0 && c.Leaf != nil {
			names = c.Leaf.DNSNames
		}
		if len(names) == 0 {
			return nil, fmt.Errorf("tlsx: %s: no server name given or in the certificate", h.Files.CertFile)
		}
		for _, n := range names {
			if err := t.add(n, c); err != nil {
				return nil, err
			}
		}
	}
	return t, nil
}

func (t *table) add(name string, c *tls.Certificate) error {
	n := normalize(name)
	m := t.exact
	if rest, ok := strings.CutPrefix(n, "*."); ok {
		m, n = t.wild, rest
	}
	if n == "" || strings.Contains(n, "*") {
		return fmt.Errorf("tlsx: invalid server name %q", name)
	}
	if _, dup := m[n]; dup {
		return fmt.Errorf("tlsx: server name %q has two certificates", name)
	}
	m[n] = c
	return nil
}

// loadFiles reads one certificate and records the files' stamps.
func (t *table) loadFiles(f CertFiles) (*tls.Certificate, error) {
	if f.CertFile == "" || f.KeyFile == "" {
		return nil, errors.New("tlsx: a certificate needs both a certificate file and a key file")
	}
	certPEM, err := t.read(f.CertFile)
	if err != nil {
		return nil, err
	}
	if f.ChainFile != "" {
		chain, err := t.read(f.ChainFile)
		if err != nil {
			return nil, err
		}
		certPEM = append(append(certPEM, '\n'), chain...)
	}
	keyPEM, err := t.read(f.KeyFile)
	if err != nil {
		return nil, err
	}
	c, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("tlsx: %s, %s: %w", f.CertFile, f.KeyFile, err)
	}
	return &c, nil
}

// read reads a file and remembers its stamp (taken before reading, so a
// write during the read shows as a change next time).
func (t *table) read(path string) ([]byte, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("tlsx: %w", err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("tlsx: %w", err)
	}
	t.files = append(t.files, fileStamp{path, st.ModTime(), st.Size()})
	return b, nil
}

// normalize lower-cases a server name and drops a trailing dot.
func normalize(name string) string {
	return strings.ToLower(strings.TrimSuffix(name, "."))
}

// Certificate returns the certificate for a server name (SNI): an exact
// match, else a wildcard one label up, else the default.
func (s *Store) Certificate(serverName string) *tls.Certificate {
	t := s.table.Load()
	if serverName == "" {
		return t.def
	}
	n := normalize(serverName)
	if c := t.exact[n]; c != nil {
		return c
	}
	if i := strings.IndexByte(n, '.'); i > 0 {
		if c := t.wild[n[i+1:]]; c != nil {
			return c
		}
	}
	return t.def
}

// GetCertificate is the tls.Config hook: it picks the certificate by the
// ClientHello's SNI and first gives MaybeReload its (throttled) chance.
func (s *Store) GetCertificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	s.MaybeReload()
	return s.Certificate(hello.ServerName), nil
}

// Reload reads every file again and swaps the new certificates in. On
// error the current certificates stay in use and the error is returned (the
// server logs it). Use it on SIGHUP.
func (s *Store) Reload() error {
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	t, err := s.load()
	if err != nil {
		return err
	}
	s.table.Store(t)
	return nil
}

// MaybeReload reloads when a certificate file has changed (modification
// time or size), looking at most once per CheckInterval; it reports
// whether it reloaded. It is cheap to call often (one atomic load when it
// is not time to look).
func (s *Store) MaybeReload() (bool, error) {
	now := s.cfg.Now().UnixNano()
	last := s.lastCheck.Load()
	if now-last < int64(s.cfg.CheckInterval) || !s.lastCheck.CompareAndSwap(last, now) {
		return false, nil
	}
	if !s.changed() {
		return false, nil
	}
	if err := s.Reload(); err != nil {
		return false, err
	}
	return true, nil
}

// changed reports whether any loaded file differs from what was read.
func (s *Store) changed() bool {
	for _, f := range s.table.Load().files {
		st, err := os.Stat(f.path)
		if err != nil || !st.ModTime().Equal(f.mod) || st.Size() != f.size {
			return true
		}
	}
	return false
}
