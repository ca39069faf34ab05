// Package server wires gibbon together and drives HTTP/1.x, TLS and
// HTTP/2 connections: listeners from the config, the epoll engine's worker
// loops (plain listeners) or one goroutine per connection (see [Driver];
// always for TLS and h2c listeners), virtual host lookup, Redirect hosts,
// static files with error pages, timeouts, limits, the Date header from
// package internal/clock, the Server header and graceful shutdown.
//
// # Drivers
//
// The epoll driver (loop.go, engine_driver.go; the default on Linux)
// serves on package engine's worker loops: OnData parses one request per
// call, decides its body (requests wait on the loop until head and body
// are in, "100 Continue" sent once; a body too large to wait for goes to
// a goroutine), plans the response with the same responder and queues it:
// head and small bodies copied, files up to 16 KiB read into the output,
// larger ones with sendfile from the worker's static.Cache. A request for
// a handler that may block is handed off: the connection continues in the
// goroutine driver (Server.adopt) with the bytes already read. Per
// connection the driver keeps one word in the engine's Conn (requests
// served, a flag); everything else is per worker and reused, so a
// keep-alive request allocates nothing. The goroutine driver (conn.go)
// serves hand-offs, TLS and h2c listeners and, on other systems, every
// connection. The steps
// below are the goroutine driver's; the loop driver shares 3 and 4.
//
// # Request flow
//
//  1. server.go: [Server.Listen] binds every Listen address; [Server.Serve]
//     runs acceptLoop per listener, which tracks each connection and
//     starts conn.serve.
//  2. conn.go: serve loops readHead → handle → keep alive or close.
//     readHead parses the next head from the read buffer (several pipelined
//     requests may come from one read) and reads more only when needed,
//     writing pending responses first. Parse errors are answered with their
//     status and "Connection: close".
//  3. body.go: planBody decides what to do with a request body (discard,
//     413, 417, 100 Continue); discarder consumes it, chunked or not.
//  4. respond.go: responder.respond turns a parsed request into a response
//     plan: CONNECT → 405, "OPTIONS *", vhost Redirect → 301, else
//     static.Serve; errorpage.go renders error statuses. The plan is the
//     head bytes plus an optional small body or file parts; it needs no
//     I/O, so an event-loop driver can reuse it unchanged.
//  5. conn.go: writeResponse appends heads and small bodies (and file
//     parts up to 16 KiB, read with pread) to one output buffer, so that
//     pipelined responses leave in one write, strictly in order; larger
//     file parts go with sendfile.
//
// # TLS and HTTP/2
//
//  6. tls.go: a tls listener's connection does its handshake (bounded by
//     Timeout) in serveTLS, then runs HTTP/2 when ALPN chose h2, else
//     conn.serve. Certificates come from a tlsx.Store (SNI, reload).
//  7. h2c.go: an h2c listener's connection starts HTTP/2 on the client
//     preface; otherwise it is HTTP/1.x where "Upgrade: h2c" switches.
//  8. h2conn.go: the goroutine driver of an http2.ServerConn. Each stream
//     is answered by the same responder.respond as an HTTP/1 request (its
//     request converted to an http1.Request); the HTTP/1 head it writes is
//     re-encoded as HTTP/2 header fields, and the body (memory and file
//     parts, read with pread) goes out as DATA frames within the windows.
//
// # Limits and timeouts
//
// The request head is limited to min(MaxRequestSize, [MaxHeadBytes]) (at
// least 1 KiB; over it: 431), its target to 256 bytes less (414, or
// http1.DefaultMaxURI if smaller); the head plus a body to MaxRequestSize
// (413). A new connection must send its
// first request within Timeout, a keep-alive connection its next one
// within KeepAliveTimeout; once a head has begun it must be complete within
// Timeout; each body read and each write (each sendfile chunk of 1 MiB)
// must progress within Timeout.
//
// # Not here
//
// Package server does not parse HTTP (packages http1 and http2 do), does
// not decide what a path means on disk (package static does), does not
// implement TLS (crypto/tls and tlsx do), does not run plugins yet and does
// not write access logs. The epoll engine is a separate package that knows
// nothing of HTTP.
package server
