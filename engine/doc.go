// Package engine is gibbon's event-driven connection core on Linux: one
// epoll loop per worker, the scheduler that gives connections to workers,
// connection lifecycle, buffers, timers, and the hand-off of a connection
// to a goroutine.
//
// It is not a protocol: it never parses HTTP. It reaches a protocol core
// only through its own [Protocol] interface, and imports no other gibbon
// package. It is not portable: on other systems [Supported] is false and
// [New] returns [ErrUnsupported]; the server then uses its goroutine driver.
//
// # Lifecycle
//
//	e, err := engine.New(cfg, proto, onHandoff) // raises RLIMIT_NOFILE, makes the epoll sets
//	err = e.Listen(":80", ...)                  // binds; drop privileges after this
//	go e.Serve()                                // runs the loops until Shutdown
//	err = e.Shutdown(ctx)                       // graceful, bounded by ctx
//
// # Workers and scheduling
//
// Each worker is a goroutine locked to an OS thread that waits in
// epoll_wait. In [Reuseport] mode every worker has its own SO_REUSEPORT
// socket per address and accepts in its loop; in [Fair] mode one acceptor
// loop gives each connection to the worker with the fewest active
// connections through the worker's inbox (a lock-free bounded queue and an
// eventfd). A connection past [Config].Capacity is closed at once and
// counted in [WorkerStats].Rejected.
//
// # The loop
//
// One turn of a worker: wait → expire timers → dispatch events. A readable
// connection goes read → OnData (repeated while whole requests are
// consumed) → keep leftover → flush → wait under a timer. A Close that
// leaves input unread lingers (see [Action]) before the socket closes. Output that does
// not fit in the socket stays queued; the connection then waits for
// EPOLLOUT only and reads nothing until the queue is empty.
//
// # Ownership
//
//   - A [Conn] belongs to its worker loop. Its methods may be called only
//     from Protocol callbacks for that connection. A *Conn is recycled after
//     OnClose returns or after a hand-off; do not keep it.
//   - The in slice given to OnData is the worker's scratch buffer (plus any
//     bytes kept from earlier): valid only during the call.
//   - Write copies; WriteNoCopy and SendFile keep a reference until the
//     bytes are sent or the connection closes. SendFile never closes the
//     file: it calls the release function given with it.
//   - A hand-off gives the callback a [Detached]: a *net.TCPConn made from a
//     duplicate of the socket (the loop closes its own descriptor after
//     removing it from epoll), the unconsumed input, and the protocol's
//     context. From then on the callback's goroutine owns the connection and
//     must close it; the engine forgets it (no OnClose, no Shutdown wait).
//
// A panic in a Protocol callback is not recovered: it ends the process, as
// it would in any goroutine. The protocol recovers at its own boundary.
//
// # Memory
//
// Conn structs (168 bytes) come from a per-worker slab (one allocation per
// 64 connections) and are recycled, and accept4 writes the peer address
// into a per-loop buffer, so accepting a connection allocates nothing in
// the steady state. (Passing that buffer to the system call is the
// engine's one use of unsafe, in accept_linux.go.) An idle keep-alive connection holds no
// buffer: reads land in the worker's scratch buffer, and only an incomplete
// request's bytes are copied to a pooled per-connection buffer. Output
// queues come from a per-worker pool and go back when flushed. A
// connection is found from its epoll event by slot index and generation,
// never a map; an event for a connection closed earlier in the same batch
// carries an old generation and is dropped.
//
// # Timers
//
// A per-worker hashed timing wheel with 100 ms ticks holds one timer per
// connection: read (request in progress), idle (keep-alive) or write
// (output stuck). No goroutine or time.Timer per connection.
package engine
