// Package websocket is a WebSocket server (RFC 6455) for handlers of
// gibbon's native API ([Accept] with a *gibbon.Ctx) and of net/http
// ([Upgrade]): text and binary messages, fragmentation, ping and pong,
// the close handshake with status codes, UTF-8 validation of text
// (invalid → close 1007), a message size limit (→ close 1009) and,
// optionally, permessage-deflate compression (RFC 7692, negotiated
// without context takeover in either direction).
//
// A [Conn] takes over the hijacked client connection: after Accept or
// Upgrade the HTTP server neither reads nor writes it. One goroutine may
// read (ReadMessage) while others write (WriteMessage, Ping, Close are
// safe for concurrent use).
//
// # Memory
//
// Each connection holds the goroutine of the handler that accepted it
// (the server's connection goroutine, parked in a read while the
// connection is idle), a 1 KiB read buffer and the last message's buffer
// (dropped after a message over 64 KiB); the flate state of compressed
// messages is pooled and held only while a message is compressed or
// decompressed. The idle cost measured by TestIdleMemory is reported in
// BENCHMARKS.md; the server does not park idle WebSockets in its event
// loops.
//
// # Not here
//
// The package is not a client, does not check Origin (a handler that
// serves browsers from other sites checks the Origin header itself before
// accepting), does not negotiate window sizes below 32 KiB for
// compression (an offer that demands one is declined: the connection runs
// uncompressed) and offers no streaming reader or writer for a message.
package websocket
