package config

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadTLS(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		files   map[string]string
		want    func(dir string) TLS
		wantErr string // substring of the error; "" = success
		warn    string // a warning key expected
	}{
		{
			name:  "none",
			files: map[string]string{},
			want:  func(string) TLS { return TLS{} },
		},
		{
			name: "monkey tls.conf with [SSL]",
			files: map[string]string{"plugins/tls/tls.conf": "[SSL]\n    CertificateFile srv_cert.pem\n    CertificateChainFile srv_cert_chain.pem\n" +
				"    RSAKeyFile rsa_key.pem\n    DHParameterFile dhparam.pem\n"},
			want: func(dir string) TLS {
				d := filepath.Join(dir, "plugins", "tls")
				return TLS{CertificateFile: filepath.Join(d, "srv_cert.pem"), KeyFile: filepath.Join(d, "rsa_key.pem"),
					ChainFile: filepath.Join(d, "srv_cert_chain.pem")}
			},
			warn: "DHParameterFile",
		},
		{
			name: "[TLS] in gibbon.conf, client certs from the chain",
			files: map[string]string{"gibbon.conf": okServer + "[TLS]\n  CertificateFile /etc/c.pem\n  KeyFile k.pem\n" +
				"  CertificateChainFile ca.pem\n  CheckClientCert on\n"},
			want: func(dir string) TLS {
				return TLS{CertificateFile: "/etc/c.pem", KeyFile: filepath.Join(dir, "k.pem"),
					ChainFile: filepath.Join(dir, "ca.pem"), ClientCAFile: filepath.Join(dir, "ca.pem")}
			},
		},
		{
			name:  "CheckClientCert names a CA file",
			files: map[string]string{"plugins/tls/tls.conf": "[TLS]\n  CheckClientCert /etc/clients.pem\n"},
			want:  func(string) TLS { return TLS{ClientCAFile: "/etc/clients.pem"} },
		},
		{
			name:  "CheckClientCert off",
			files: map[string]string{"plugins/tls/tls.conf": "[TLS]\n  CheckClientCert off\n"},
			want:  func(string) TLS { return TLS{} },
		},
		{
			name:    "CheckClientCert on without a chain",
			files:   map[string]string{"plugins/tls/tls.conf": "[TLS]\n  CheckClientCert on\n"},
			wantErr: "CheckClientCert: on needs a CertificateChainFile",
		},
		{
			name: "a key in both files",
			files: map[string]string{"gibbon.conf": okServer + "[TLS]\n  RSAKeyFile a.pem\n",
				"plugins/tls/tls.conf": "[TLS]\n  KeyFile b.pem\n"},
			wantErr: "KeyFile: already set at",
		},
		{
			name:    "unknown key",
			files:   map[string]string{"plugins/tls/tls.conf": "[TLS]\n  CertFile a.pem\n"},
			wantErr: "CertFile: unknown key in [TLS]",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if tc.files["gibbon.conf"] == "" {
				tc.files["gibbon.conf"] = okServer
			}
			tc.files["sites/default"] = okSite
			dir := writeDir(t, tc.files)
			cfg, err := Load(dir, "")
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Load = %v, want an error with %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if want := tc.want(dir); cfg.TLS != want {
				t.Errorf("TLS = %+v, want %+v", cfg.TLS, want)
			}
			if len(cfg.Sections) != 0 {
				t.Errorf("Sections = %+v, want none ([TLS] is the core's)", cfg.Sections)
			}
			if tc.warn != "" && (len(cfg.Warnings) != 1 || cfg.Warnings[0].Key != tc.warn) {
				t.Errorf("warnings = %v, want one for %s", cfg.Warnings, tc.warn)
			}
		})
	}
}

func TestHostCertificate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, site    string
		cert, key     string // relative to the config dir unless absolute
		wantErrSubstr string
	}{
		{"none", okSite, "", "", ""},
		{"both", okSite + "  CertificateFile certs/a.pem\n  KeyFile /keys/a.key\n", "certs/a.pem", "/keys/a.key", ""},
		{"cert only", okSite + "  CertificateFile a.pem\n", "", "", "CertificateFile: needs a KeyFile"},
		{"key only", okSite + "  KeyFile a.key\n", "", "", "KeyFile: needs a CertificateFile"},
		{"twice", okSite + "  KeyFile a.key\n  KeyFile b.key\n  CertificateFile a.pem\n", "", "", "already set"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := writeDir(t, map[string]string{"gibbon.conf": okServer, "sites/default": tc.site})
			cfg, err := Load(dir, "")
			if tc.wantErrSubstr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErrSubstr) {
					t.Fatalf("Load = %v, want an error with %q", err, tc.wantErrSubstr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			abs := func(p string) string {
				if p == "" || filepath.IsAbs(p) {
					return p
				}
				return filepath.Join(dir, p)
			}
			h := cfg.Hosts[0]
			if h.CertificateFile != abs(tc.cert) || h.KeyFile != abs(tc.key) {
				t.Errorf("CertificateFile, KeyFile = %q, %q; want %q, %q", h.CertificateFile, h.KeyFile, abs(tc.cert), abs(tc.key))
			}
		})
	}
}
