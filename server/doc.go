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
// head and small bodies copied; files from the worker's static.Cache:
// the small ones it keeps in memory (up to 16 KiB) copied from there
// (beyond 4 KiB queued by reference), other files up to 16 KiB read into
// the output, larger ones with sendfile. A request for
// a handler that may block is handed off: the connection continues in the
// goroutine driver (Server.adopt) with the bytes already read. Per
// connection the driver keeps one word in the engine's Conn (requests
// served, a flag); everything else is per worker and reused, so a
// keep-alive request allocates nothing. The goroutine driver (conn.go)
// serves hand-offs, TLS and h2c listeners and, on other systems, every
// connection. The steps
// below are the goroutine driver's; the loop driver shares 3 and 4.
// docs/ARCHITECTURE.md follows a request through both drivers, function
// by function.
//
// # Request flow
//
//  1. server.go: [Server.Listen] binds every Listen address; [Server.Serve]
//     runs acceptLoop per goroutine-driver listener, which tracks each
//     connection and starts conn.begin on its goroutine (stage 10, then
//     serveTLS, serveH2C or conn.serve).
//  2. conn.go: serve loops readHead → handle → keep alive or close.
//     readHead parses the next head from the read buffer (several pipelined
//     requests may come from one read) and reads more only when needed,
//     writing pending responses first. Parse errors are answered with their
//     status and "Connection: close".
//  3. body.go: planBody decides what to do with a request body (discard,
//     413, 417, 100 Continue); discarder consumes it, chunked or not.
//  4. respond.go: responder.respond turns a parsed request into a response
//     plan: CONNECT → 405, "OPTIONS *", vhost Redirect → 301, else the
//     static files from a cache (the worker loop's static.Cache, or the
//     static.SharedCache of the server's goroutine connections: open
//     files, small files' content in memory, metadata, checked against
//     the disk once a second); errorpage.go renders error statuses. The plan is the
//     head bytes plus an optional small body or file parts; it needs no
//     I/O, so an event-loop driver can reuse it unchanged.
//  5. conn.go: writeResponse appends heads and small bodies (a file kept
//     in memory by the cache, other file parts up to 16 KiB read with
//     pread) to one output buffer, so that a response and the pipelined
//     ones leave in one write (over TLS: one Write), strictly in order;
//     larger file parts go with sendfile at an explicit offset (TLS:
//     pread and Write), since the cache shares each open file between
//     connections.
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
//     re-encoded as HTTP/2 header fields, and the body (memory, including
//     files the shared cache keeps in memory, and file parts read with
//     pread) goes out as DATA frames within the windows. Blocking
//     handlers run on their own goroutines and hand their writes to the
//     driver (h2handler.go).
//
// # Plugins
//
// [New] loads the plugins of plugins.load (stage.Load; [Server.Pipeline]
// returns them) and both drivers run the stages (stages.go,
// loop_stages.go, conn_stages.go). With no plugin hooking a stage the
// drivers skip it entirely: no ConnInfo, no stage.Request.
//
//   - 10: after accept (loop: OnOpen; goroutine: begin, before a TLS
//     handshake), before reading.
//     Close → the socket is closed at once, stage 40 sees the refusal
//     (the Pipeline reports it) and stage 50 gets stage.ErrRefused.
//   - 20: once the head is parsed and the vhost known, with a
//     stage.Request whose []byte fields are views into the read buffer
//     (or into a copy of the head while a body is read). On the loop a
//     filter that says it may block (RequestBlocks), or a body that is not
//     all buffered yet, hands the connection off first, so stage 20 runs
//     in the goroutine; otherwise it runs on the loop. Handled → the
//     answer the filter wrote (Respond(status, "", nil): the vhost's error
//     page, keeping the filter's fields; 3xx with Location: a small page);
//     Close → the connection closes without an answer.
//   - 30: the [Router] of [Options] (library mode) first, then
//     Pipeline.Route, on the (possibly rewritten) path; a directory path
//     no rule matches is tried through the host's index files. An
//     inline handler writes into an in-memory writer (memWriter), sent
//     with a Content-Length; a blocking one runs in the goroutine driver
//     (the loop hands off, carrying stage 20's result so it does not run
//     twice) with a streamWriter (also a Flusher, Hijacker, stage.Trailers
//     and stage.Deadliner), Request.Body and Request.Context (reqctx.go:
//     the connection's, reused; its Done channel and the watch on the
//     client are made only when a handler asks). No
//     rule → the core; a directory without an index file goes to the
//     Lister before a 403. Internal redirects are followed (at most
//     stage.MaxInternalRedirects). A handler error before anything was
//     sent is answered with the error page for its status.
//   - 40: after every request once its answer is queued (it is written
//     before the connection waits for more input): Status, Bytes (body bytes), Duration, Err. Also for a
//     413/417 refusal and for a head the parser refused: the request is
//     then unknown and Done sees only Conn, VHost (the default host) and
//     Start, with the 4xx status.
//   - 50: once per connection after its socket is closed, whoever closed
//     it: nil (the server closed it after a response), io.EOF (the
//     client), a timeout error, [ErrShutdown], an I/O error, or
//     stage.ErrRefused. A handed-off connection gets it from the goroutine
//     driver only; a hijacked one when its handler returns.
//
// Over HTTP/2 (h2conn.go, h2stage.go, h2handler.go) the connection runs
// 10 and 50 and each stream 20 to 40, on the connection's driver
// goroutine: stage 20 when the stream's header block is complete (its
// request in HTTP/1 form, Proto HTTP/2.0, with a host field from
// :authority and, for a body of unknown length, a transfer-encoding
// field, so that plugins see what they see over HTTP/1); Handled answers
// the stream; Close resets it with RST_STREAM(CANCEL), leaving the other
// streams alone. Stage 30 inline answers into the stream's memWriter; a
// blocking handler runs on a goroutine of its own per stream, with an
// h2Writer that queues its writes to the driver and waits while the
// flow-control windows are closed (a Flusher, not a Hijacker),
// Request.Body fed from the stream's DATA (credit returned as it is
// read) and a context cancelled on RST_STREAM, connection close or
// shutdown. Stage 40 runs when the stream has closed and its handler
// returned, with the body bytes sent. InitWorker runs for every worker before
// Serve starts the loops (goroutine-driver connections report worker 0); Shutdown runs Cleanup after the last
// connection. MaxRequestSize bounds every request, whatever handles it
// (as Monkey's MaxRequestSize and nginx's client_max_body_size do): a
// longer Content-Length is refused with 413 before the body is read, a
// chunked body that outgrows it ends Request.Body with a 413 error.
//
// With plugins, the loop allocates one small struct per connection (the
// ConnInfo, kept in the engine Conn's context); a keep-alive request
// through an observer allocates nothing more in the server (the target's
// path and query strings are cached per worker while they repeat);
// filters and handlers cost what they allocate.
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
// # Counters
//
// [Server.Stats] and [Server.Conns] (stats.go) are for monitoring. The
// engine counts each worker's connections; a loop worker counts its
// responses (by status class, with body bytes) in its loopWorker, written
// only by its loop with atomic adds, so the keep-alive path takes no lock
// and allocates nothing. The goroutine driver's and HTTP/2's responses,
// the goroutine driver's connections and the TLS handshakes are atomics
// of the Server shared by the connection goroutines. Idle counts and
// connection lists are gathered when asked: the loops' by
// engine.Engine.Conns (on each loop, between two requests), the
// goroutine driver's from the tracked set.
//
// # Not here
//
// Package server does not parse HTTP (packages http1 and http2 do), does
// not decide what a path means on disk (package static does), does not
// implement TLS (crypto/tls and tlsx do), does not write access logs (the
// logger plugin does, at stage 40), does not format metrics or serve the
// admin endpoint (package gibbon does) and knows no concrete plugin. The
// epoll engine is a separate package that knows nothing of HTTP.
package server
