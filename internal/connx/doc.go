// Package connx holds small helpers for the net.Conn values that plugins
// keep between requests: [Alive] tells whether an idle pooled connection
// is still open before it is reused.
//
// It is not a connection pool and keeps no state; the fastcgi and proxy
// plugins own their pools. It imports only the standard library.
//
// Invariants: [Alive] never blocks and never consumes a byte of the
// connection.
package connx
