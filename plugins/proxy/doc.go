// Package proxy is the proxy plugin: a reverse proxy and load balancer in
// the manner of HAProxy. Each [UPSTREAM] section of plugins/proxy/proxy.conf
// is a pool of servers; a site's "[HANDLERS] Match <regex> proxy <name>"
// sends requests to it.
//
// It provides the balancing algorithms roundrobin (smooth weighted),
// static-rr, leastconn, source, uri, url_param and random (two choices);
// active HTTP health checks with rise and fall, one goroutine per pool;
// passive checks (fall consecutive connect or transport failures take a
// server out); backup servers; retries of connect failures with
// redispatch; keep-alive connection pools per server (HTTP/1.1 spoken by
// the handler goroutine itself with http1.ParseResponse, or h2c through
// net/http's Transport); X-Forwarded-For/-Proto/-Host, Forwarded
// and Via; hop-by-hop fields removed both ways; bodies streamed both ways
// with constant memory; Upgrade (WebSocket) tunnels over the hijacked
// client connection; and a stats page in HTML and JSON.
//
// It is not a forward proxy (no CONNECT, no absolute targets to arbitrary
// hosts), does not cache, does not speak TLS to servers, and does not
// change bodies.
//
// # What the server must provide
//
// The handler is blocking. It reads r.Body (io.EOF at the end of the
// decoded body) and expects Content-Length or Transfer-Encoding among
// r.Headers to tell a body's presence; it may keep reading r.Body from a
// copier goroutine while it writes the response, and waits for such a
// Read before it returns. It writes the response through w and calls
// Flush ([stage.Flusher]) after each piece of a streamed body, so w must
// not buffer a whole body. For an Upgrade it needs [stage.Hijacker];
// without one the upgrade is dropped. It stops waiting when
// r.Context() ends (client gone, shutdown); without a request body it asks
// for the context's Done only once a read from the server has waited 10
// to 20 ms.
//
// # Invariants
//
//   - Configuration is read-only after Provision; server state and counters
//     are atomics, the balancing state is guarded by a per-pool mutex.
//   - A try is retried only when the connection to the server failed, or
//     when a reused idle connection of a request without a body failed
//     before any byte of the answer, so nothing of the request was
//     processed. An upstream connection is reused only after a clean
//     exchange: request written, response read to its end, no
//     Connection: close.
//   - Cleanup stops every checker goroutine and closes idle connections.
package proxy
