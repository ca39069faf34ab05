package config

import (
	"path/filepath"
	"strings"
)

// TLSFile is where Monkey keeps the settings of its TLS plugin, relative to
// the config directory; gibbon reads it too.
const TLSFile = "plugins/tls/tls.conf"

// TLS is the certificate configuration of the listeners flagged tls: the
// [TLS] section of plugins/tls/tls.conf (Monkey's layout; Monkey's older
// [SSL] name is accepted too) and of the server file. Every path is
// absolute after Load: a relative one is taken relative to the directory of
// the file that names it. The zero value means no certificate configured:
// the server then generates a self-signed one for development.
type TLS struct {
	// CertificateFile (key CertificateFile) holds the default certificate,
	// leaf first, optionally followed by intermediates.
	CertificateFile string
	// KeyFile (key RSAKeyFile, or KeyFile) holds its private key: any PEM
	// key (RSA, ECDSA, Ed25519).
	KeyFile string
	// ChainFile (key CertificateChainFile) holds intermediates sent after
	// the certificate.
	ChainFile string
	// ClientCAFile, when not "", makes every TLS listener require a client
	// certificate signed by a CA of this PEM file (key CheckClientCert:
	// "on" means the CertificateChainFile, a path names another file,
	// "off" is the default).
	ClientCAFile string
}

// IsZero reports whether nothing is configured.
func (t TLS) IsZero() bool { return t == TLS{} }

var tlsKeyNames = []string{"CertificateFile", "RSAKeyFile", "KeyFile", "CertificateChainFile", "CheckClientCert", "DHParameterFile"}

// isTLSSection reports whether a section of the server file or of
// tls.conf holds TLS settings.
func isTLSSection(name string) bool { return name == "TLS" || name == "SSL" }

// decodeTLS reads the TLS settings of secs into t. A key set twice, in
// the same file or in both files, is an error naming the first place.
func decodeTLS(t *TLS, secs []*Section, seen map[string]Entry, ws *[]Warning, errs *errorList) {
	var checkClient *Entry
	for _, sec := range secs {
		for _, e := range sec.Entries {
			var dst *string
			switch {
			case strings.EqualFold(e.Key, "CertificateFile"):
				dst = &t.CertificateFile
			case strings.EqualFold(e.Key, "RSAKeyFile"), strings.EqualFold(e.Key, "KeyFile"):
				dst = &t.KeyFile
			case strings.EqualFold(e.Key, "CertificateChainFile"):
				dst = &t.ChainFile
			case strings.EqualFold(e.Key, "CheckClientCert"):
				dst = &t.ClientCAFile
			case strings.EqualFold(e.Key, "DHParameterFile"):
				*ws = append(*ws, e.warn("ignored: gibbon offers ECDHE key exchange only"))
				continue
			default:
				errs.addErr(unknownKey(e, "["+sec.Name+"]", tlsKeyNames))
				continue
			}
			canon := strings.ToLower(e.Key)
			if canon == "keyfile" {
				canon = "rsakeyfile"
			}
			if prev, ok := seen[canon]; ok {
				errs.add(e.File, e.Line, e.Key, "already set at %s:%d", prev.File, prev.Line)
				continue
			}
			seen[canon] = e
			if dst == &t.ClientCAFile {
				checkClient = &e
				continue
			}
			p, err := filePath(e)
			if err != nil {
				errs.addErr(err)
				continue
			}
			*dst = p
		}
	}
	if checkClient == nil {
		return
	}
	switch b, err := parseBool(checkClient.Value); {
	case err == nil && !b:
		t.ClientCAFile = ""
	case err == nil && t.ChainFile == "":
		errs.add(checkClient.File, checkClient.Line, checkClient.Key, "on needs a CertificateChainFile holding the client CA (or give the CA file here)")
	case err == nil:
		t.ClientCAFile = t.ChainFile
	default:
		p, perr := filePath(*checkClient)
		if perr != nil {
			errs.addErr(perr)
			return
		}
		t.ClientCAFile = p
	}
}

// filePath returns the path an entry names, made absolute relative to the
// directory of the entry's file.
func filePath(e Entry) (string, *Error) {
	v := e.Value
	if strings.ContainsRune(v, 0) || strings.ContainsAny(v, "\t") {
		return "", e.Errorf("bad path %q", v)
	}
	if filepath.IsAbs(v) {
		return filepath.Clean(v), nil
	}
	dir := filepath.Dir(e.File)
	if a, err := filepath.Abs(dir); err == nil {
		dir = a
	}
	return filepath.Join(dir, v), nil
}

// loadTLS reads plugins/tls/tls.conf when it exists, after the server
// file's [TLS] sections (tlsSecs).
func (l *loader) loadTLS(tlsSecs []*Section) {
	seen := make(map[string]Entry)
	decodeTLS(&l.cfg.TLS, tlsSecs, seen, &l.cfg.Warnings, &l.errs)
	path, ok := l.firstExisting(filepath.FromSlash(TLSFile))
	if !ok {
		return
	}
	secs, ok := l.parse(path)
	if !ok {
		return
	}
	var use []*Section
	for _, sec := range secs {
		if isTLSSection(sec.Name) {
			use = append(use, sec)
			continue
		}
		l.cfg.Warnings = append(l.cfg.Warnings, Warning{File: sec.File, Line: sec.Line,
			Key: "[" + sec.Name + "]", Msg: "section ignored: tls.conf has only [TLS]"})
	}
	decodeTLS(&l.cfg.TLS, use, seen, &l.cfg.Warnings, &l.errs)
}
