// Package http2 is gibbon's sans-I/O HTTP/2 server protocol core (RFC 9113,
// with HPACK, RFC 7541, from golang.org/x/net/http2/hpack).
//
// A [ServerConn] takes the bytes read from a connection and turns them into
// events for a [Handler] (a request's headers, its body, its end, a reset);
// the server answers through ServerConn's write methods, and ServerConn
// produces the bytes to write. Frames are parsed and written by this
// package's own code ([ParseFrameHeader], [AppendSettings], ...).
//
// The package is NOT a server: it never reads or writes a socket, never
// starts a goroutine, never sleeps and keeps no global mutable state. Time
// is read only through [Config.Now] (rapid-reset window, flow-control stall
// time). TLS, ALPN, timeouts, routing and the bodies of responses are the
// driver's business.
//
// # Driving a ServerConn
//
// One goroutine, the driver, owns a ServerConn and makes every call:
//
//	sc := http2.NewServerConn(handler, &cfg) // server preface queued
//	flush := func() {                        // after every call below
//		for out := sc.Output(); len(out) > 0; out = sc.Output() {
//			n, err := conn.Write(out)
//			sc.Advance(n)
//			if err != nil { sc.Close(); return }
//		}
//	}
//	for flush(); !sc.Done(); flush() {
//		select {
//		case b := <-reads:   sc.Feed(b)  // bytes from a reader goroutine
//		case f := <-work:    f()         // writes submitted by handler goroutines
//		case <-ticker:       // idle timeout, sc.BlockedSince() write timeout
//		}
//	}
//
// Handler methods run inside those calls, on the driver goroutine:
// OnRequest for a new request ([Stream] carries method, scheme, authority,
// path and header fields as immutable strings), OnData for body octets (the
// driver calls [ServerConn.Consume] once it has consumed them, which returns
// flow-control credit), OnWritable when a stream whose WriteData was cut
// short may take more, OnClose when a stream ends (normally or reset).
// A handler on another goroutine never touches the ServerConn: it sends a
// closure (WriteHeaders, WriteData, ...) to the driver, which runs it and
// reports how much WriteData took; the remainder waits for OnWritable.
// An event-loop driver works the same way, with Feed on readable, Advance
// on writable, and the work queue drained on wake-up.
//
// An HTTP/1 driver hands a connection over for h2c: [MatchPreface] detects
// prior knowledge in the first bytes (Feed them to a new ServerConn), and
// [DecodeHTTP2Settings] with [ServerConn.Upgrade] serve an
// "Upgrade: h2c" request as stream 1 after writing [UpgradeResponse].
//
// # Invariants
//
//   - Errors follow RFC 9113: a connection error queues GOAWAY with its
//     code, closes every stream and makes Feed return a [*ConnError]; a
//     stream error queues RST_STREAM and closes that stream only.
//   - Everything a client can make the server hold is bounded by [Config]:
//     input (one frame of at most MaxFrameSize), header blocks
//     (MaxHeaderBlockSize compressed, MaxHeaderListSize decoded, the HPACK
//     table HeaderTableSize), streams (MaxConcurrentStreams), request body
//     (the flow-control windows), queued control frames (MaxControlFrames),
//     resets per window (MaxResets/ResetWindow) and response body in the
//     output (MaxOutputBuffer).
//   - Feeding a frame allocates nothing except for HPACK's decoded strings,
//     a new Stream and its header slice.
//   - Nothing here is safe for concurrent use; distinct ServerConns may be
//     used from distinct goroutines freely.
package http2
