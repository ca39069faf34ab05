// Package websocket is a WebSocket server (RFC 6455) for handlers of
// gibbon's native API ([Accept] with a *gibbon.Ctx) and of net/http
// ([Upgrade]): text and binary messages, fragmentation, ping and pong,
// the close handshake with status codes, UTF-8 validation of text
// (invalid → close 1007), a message size limit (→ close 1009) and,
// optionally, permessage-deflate compression (RFC 7692, negotiated
// without context takeover in either direction).
//
// A [Conn] takes over the hijacked client connection: after Accept or
// Upgrade the HTTP server neither reads nor writes it. It is then read in
// one of two ways:
//
//   - Blocking: a goroutine (usually the handler's own) loops on
//     [Conn.ReadMessage]. One goroutine may read while others write
//     (WriteMessage, Ping, Close are safe for concurrent use).
//   - Parked: [Conn.Park] gives the connection to a [Handler] and returns,
//     so the handler's goroutine ends. While no input is pending the
//     connection holds no goroutine and no buffer; when a message arrives,
//     a goroutine reads it with the same frame code as ReadMessage (pings,
//     the close handshake, fragments, 1007, 1009 and compression behave
//     alike), calls Handler.OnMessage and parks the connection again.
//     Writes from other goroutines (a broadcast) work while it is parked.
//
// Park suits many connections that are mostly idle (chat, notifications);
// ReadMessage suits a connection that streams, or code that reads
// sequentially: a parked connection pays, per message, a goroutine start,
// two system calls (epoll_ctl, epoll_wait) and the poller goroutine's
// return from its blocking epoll_wait. BenchmarkEcho, a 32-byte echo
// round trip over loopback on two cores: 12 to 13 µs blocking (no
// allocation), 20 to 24 µs parked (5 allocations, 104 bytes).
//
// # Why a poller of its own
//
// A parked connection waits in an epoll set of this package (one per
// process, with one goroutine in epoll_wait), not in a worker loop of the
// engine. By the time a handler upgrades, the connection has left the
// engine: it was handed off as a *net.TCPConn to the goroutine that runs
// library handlers (and under net/http's own server it never was in the
// engine). Taking it back into a worker loop would need a new path
// through the server, the stage API and the root package for what the
// loop would then do with it, which is nothing but report readiness: the
// loop must not run user code, so a message would still be read on a
// goroutine. The package's own epoll set gives the same readiness with no
// dependency on gibbon (Park works under net/http's server too), and
// leaves the loops alone. The socket stays a *net.TCPConn on Go's poller,
// so reads of a message's remainder, writes and deadlines work as before;
// the package's epoll set only watches it, one-shot, while it is parked.
//
// # Memory
//
// Measured by TestIdleMemory with 10,000 connections (each sent one
// message and got its echo before going idle), per idle connection, in
// the server process:
//
//	API                    heap+stacks   RSS        goroutines
//	blocking, native       11.3 KiB      11.2 KiB   1
//	blocking, net/http     15.4 KiB      15.8 KiB   1
//	parked, native          0.7 KiB       1.4 KiB   0
//	parked, net/http        0.7 KiB       1.4 KiB   0
//
// A blocked connection holds its goroutine's stack (most of the cost), a
// 1 KiB read buffer and its last message's
// buffer (dropped after a message over 64 KiB); through the net/http
// adapter also the request and its writer, which stay on the goroutine. A
// parked connection holds the Conn (192 bytes), the *net.TCPConn with its
// descriptor, a slot in the poller and, when it came from a gibbon
// server, an entry in the server's registry for Shutdown (about 50 bytes:
// the registry holds the *Conn itself); the read buffer, the message
// buffer and frame buffers go back to pools shared by all connections.
//
// Compression adds nothing to a parked (or blocked) connection: without
// context takeover no flate state lives between messages, and the flate
// readers and writers are pooled, held only while a message is inflated
// or deflated. (With context takeover a connection would keep a 32 KiB
// window each way between messages, and the compressor's state, hundreds
// of KiB with compress/flate: this is why the package declines it.)
//
// A parked connection in the middle of a message (a frame half received,
// or a message fragmented over several frames) keeps a goroutine and its
// buffers until the message is complete, for at most
// Options.MessageTimeout (30 seconds by default) from the message's first
// byte; a peer that stalls longer gets a close frame 1008 and the
// connection is closed (RFC 6455 has no code for a timeout and names 1008
// its generic one; coder/websocket's js build sends it for a read timeout,
// its native build and gorilla/websocket close without a frame). An idle parked connection has no timeout and
// costs no timer: an application that must notice peers that vanished
// pings them. Connections that cannot be watched — a TLS connection (its buffered
// plaintext is invisible to epoll), a system without epoll — are served
// by Park with a goroutine that stays blocked in a read, as ReadMessage
// would.
//
// # Not here
//
// The package is not a client, does not check Origin (a handler that
// serves browsers from other sites checks the Origin header itself before
// accepting), does not negotiate window sizes below 32 KiB for
// compression (an offer that demands one is declined: the connection runs
// uncompressed) and offers no streaming reader or writer for a message.
//
// # Shutdown
//
// Shutting a gibbon server down treats the two ways differently. A
// blocked connection's handler is still running: Shutdown waits for it
// like any other and, when its grace period ends, closes the socket (no
// close frame; a handler that wants to say goodbye watches its request's
// context). A parked connection has no handler running, so Park
// registers it with the server it came from (through
// [gibbon/stage.HijackTracker], which *gibbon.Ctx and the ResponseWriter of
// gibbon's HandleHTTP provide; this package imports none of gibbon):
// Shutdown closes it with [StatusGoingAway] (1001, as a browser leaving a
// page does), waits for the peer's answer, bounded by Shutdown's context,
// and OnClose is called as for any close.
//
// net/http's own server forgets a hijacked connection, and its Shutdown
// does not wait for functions registered with RegisterOnShutdown. The
// application closes its parked connections itself, for instance:
//
//	srv.RegisterOnShutdown(func() {
//		for _, c := range room.members() { // a copy, taken under the room's lock
//			c.GoAway() // Close with 1001
//		}
//	})
//
// then waits, if it must, until their OnClose calls came (see the example
// of [Conn.GoAway]).
package websocket
