// Package gibbon embeds the gibbon web server in a Go program (library
// mode): the same engine, epoll workers, plugins, virtual hosts, static
// files, TLS and HTTP/2 as the gibbon command, plus handlers registered in
// code, through a native API ([Handler], [Ctx]) or any net/http.Handler.
//
//	srv, err := gibbon.New(gibbon.Config{Listen: []string{":8080"}})
//	srv.HandleFunc("GET /api/{id}", func(c *gibbon.Ctx) { c.JSON(200, lookup(c.Param("id"))) })
//	srv.HandleHTTP("/legacy/", legacyMux)
//	srv.Static("/", "./public")
//	log.Fatal(srv.Run(ctx))
//
// A [Server] is a value: several may run in one process. [Config]'s zero
// value is valid; [LoadConfig] reads a config directory.
//
// # Steps
//
// [Server.Start] and [Server.Run] do everything; a program that manages
// its process, as the gibbon command does (it is a thin user of this
// API), takes the steps one by one: [Server.Check] validates the
// configuration and loads the plugins without binding ([Server.Describe]
// then tells the plugin chain: gibbon -t), [Server.Listen] binds every
// address, so that root privileges may be dropped before [Server.Serve]
// accepts, and [Server.Shutdown] stops gracefully. While it serves,
// [Server.Reload] swaps in a new configuration for new requests, keeping
// the registered handlers (SIGHUP), [Server.ReloadCertificates] reads
// the TLS certificates again and [Server.ReopenLogs] reopens the logger plugin's files (SIGUSR1).
//
// # Operations
//
// [Server.Stats] is a snapshot of the counters (responses by status
// class and body bytes, connections, TLS handshakes, per epoll worker and
// per driver; the configuration's generation and last reload) and
// [Server.Conns] lists the open connections. [Server.AdminHandler] is the
// admin endpoint (the gibbon command's Admin key, gibbon ctl): JSON
// status, workers, conns, vhosts and plugins, Prometheus /metrics, a live
// status page, POST /reload ([Server.ReloadFrom]) and POST /stop through
// an [AdminControl]; its JSON answers are the Admin types ([AdminStatus],
// [AdminWorker], [AdminConns] …). Serve it on [ListenAdmin]'s listener (a
// 0600 unix socket or loopback TCP) or mount its paths on a mux of your
// own.
// [Config.Driver] and [Config.Balancing] choose how connections are
// served (--driver, -B).
//
// # Where handlers run
//
// Handlers are blocking content handlers (stage 30, consulted before the
// configuration's [HANDLERS] rules): they never run on an event loop. When
// a request routes to one, the worker's loop hands the connection to the
// goroutine driver, which serves the rest of that connection's requests on
// one goroutine; the handler runs there. On that path a keep-alive
// hello-world request through the native API allocates nothing: the Ctx,
// the header lists, the read and write buffers and the request context are
// the connection's and reused; a handler's own work (JSON encoding, a
// context's Done channel) costs what it allocates. Requests no pattern
// matches go on to the configuration's [HANDLERS] rules and then to the
// core (static files), on the loop unless a rule's handler blocks.
//
// A native handler that never blocks (it answers from the request and
// memory alone) may be registered with [Server.HandleNonBlocking]
// instead: it then runs on the event loop that read the request, as the
// static files do, and the connection stays there; its answer is held in
// memory and sent with a Content-Length. The contract is strict: while
// such a handler runs, its worker serves no other connection, so one that
// blocks stalls them all. A request with a body still goes to the
// goroutine driver.
//
// # net/http compatibility
//
// [Server.HandleHTTP] runs an http.Handler unchanged. Supported: the
// request (method, URL, RequestURI, Proto, Header, Host, RemoteAddr, Body
// with "Expect: 100-continue", ContentLength, TransferEncoding, PathValue
// and Pattern of the gibbon pattern, a non-nil TLS for TLS connections,
// http.LocalAddrContextKey); r.Context() cancelled when the client goes
// away (noticed while the handler waits once the request body is read, as
// net/http does), when the server shuts down and when ServeHTTP returns;
// the ResponseWriter with the header copied at WriteHeader, Content-Type
// sniffing of the first 512 bytes, Content-Length for bodies that end
// within 16 KiB, else chunked; http.Flusher (and FlushError);
// http.Hijacker over HTTP/1.x; trailers announced with "Trailer:" or set
// with http.TrailerPrefix (on chunked HTTP/1.1 responses, and over HTTP/2
// in a HEADERS frame after the body, also an empty one); request trailers
// (r.Trailer holds the keys the request's "Trailer" field announces, the
// field removed from r.Header, and gets every trailer field the client
// sent once the body has been read to io.EOF: after a chunked body over
// HTTP/1.1, from the trailing HEADERS frame over HTTP/2);
// http.ResponseController's SetReadDeadline and SetWriteDeadline and
// EnableFullDuplex; a panic in the handler answers 500 (or closes the
// connection once the head is out) without stopping the server.
//
// Not supported: informational responses (1xx from WriteHeader, such as
// 103 Early Hints, are dropped); http.CloseNotifier;
// header fields the server writes itself (Date, Server, Connection,
// Transfer-Encoding: a handler's values are ignored, so "Connection:
// close" does not close); tls.ConnectionState details (r.TLS is present
// but empty); http.ServerContextKey.
//
// HTTP/2 (TLS with ALPN h2, h2c): handlers, native and net/http, run on a
// goroutine per stream, with request bodies, Flush, trailers both ways
// ([Ctx.Trailer] too) and r.Context() cancelled when the client resets
// the stream. http.ResponseController's deadlines are the stream's, as
// with net/http's server: past the read deadline Body.Read fails with an
// error wrapping os.ErrDeadlineExceeded; once the write deadline passes
// the stream is reset (RST_STREAM INTERNAL_ERROR) and its writes fail, the
// connection's other streams going on; the zero time clears a deadline.
// A write deadline later than the server's Timeout does not lift the
// connection's own bound: a client whose flow-control window stays shut
// for Timeout loses the connection. Over HTTP/2 there is no Hijack (so no
// WebSocket).
//
// # Lifetimes
//
// A Ctx and the []byte views it returns (Header, Host, Target) belong to
// the server and are reused once the handler returns: copy what you keep.
// The *http.Request and its fields may be kept, as net/http allows. The
// http.ResponseWriter must not be used once ServeHTTP returns, as net/http
// says, and neither must the map its Header method returns: the server
// reuses both, the map emptied, for a later request.
package gibbon
