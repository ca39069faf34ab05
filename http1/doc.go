// Package http1 is gibbon's sans-I/O HTTP/1.1 codec (RFC 9110, RFC 9112).
//
// It turns bytes into parsed request heads ([Parse]), decodes chunked request
// bodies ([ChunkedDecoder]) and appends response heads and chunk framing to
// byte slices ([AppendStatusLine], [AppendHeader], [AppendChunkHeader],
// [LastChunk]). For the client side of the proxy plugin it also parses
// response heads ([ParseResponse]).
//
// The package is NOT a server: it never reads or writes a socket, never
// touches files, keeps no global mutable state and knows nothing about
// virtual hosts, timeouts or routing. The caller owns the buffers and the
// connection; this package only looks at bytes.
//
// # Invariants
//
//   - Parsed values are views: every []byte in a [Request] points into the
//     buffer given to [Parse] and is valid only until that buffer is reused.
//     Copy what must outlive it.
//   - Zero allocations on the hot path: parsing a valid request head (once
//     Request.Headers has capacity), decoding chunked data and appending a
//     response head allocate nothing. alloc_test.go proves it.
//   - Parsing is stateless and restartable: call Parse again with the same
//     bytes plus whatever arrived since. The end of the head is located first
//     with a fast search, so re-parsing a slowly arriving head costs little.
//   - Strict where ambiguity is dangerous (request smuggling, header
//     injection): see [Parse] for the list of refusals and their statuses.
//     After any [ParseError] the connection must be closed.
//   - Nothing here is safe for concurrent use on the same value; distinct
//     values may be used from distinct goroutines freely.
package http1
