// Package tlsx is gibbon's TLS network layer configuration: the
// certificates of a listener ([Store]: a default one plus per-vhost ones
// picked by SNI, wildcards included, reloaded when their files change),
// a development certificate when none is configured ([SelfSigned]), and the
// crypto/tls configuration of a listener ([ServerConfig]: TLS 1.2+, ECDHE
// AEAD suites, ALPN h2 and http/1.1, session tickets, optional client
// certificates).
//
// The package is NOT the TLS implementation (crypto/tls is) and knows
// nothing about HTTP or the config file: the server maps the [TLS] keys of
// tls.conf (CertificateFile, RSAKeyFile, CertificateChainFile,
// CheckClientCert) and the per-host CertificateFile/KeyFile to a
// [StoreConfig], and after the handshake reads [Protocol] to choose the
// HTTP/2 or HTTP/1 core. It is named tlsx so that it never shadows
// crypto/tls.
//
// # Invariants
//
//   - A Store is safe for concurrent use; handshakes read an immutable
//     table through an atomic pointer and never wait for a reload.
//   - A failed reload changes nothing: the previous certificates stay.
//   - Files are looked at, at most, once per CheckInterval by MaybeReload
//     (which GetCertificate calls), and at once by Reload (SIGHUP).
package tlsx
