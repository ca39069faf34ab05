// Package loopback starts throwaway TCP servers on 127.0.0.1 for tests:
// a listener on a free port whose every connection is handed to a
// function on its own goroutine. It is a test harness for fake backends
// (FastCGI responders, HTTP upstreams) and for the http2 package's test
// driver, not a server.
package loopback

import (
	"net"
	"sync"
	"testing"
)

// Serve listens on 127.0.0.1:0 and runs handle for each accepted
// connection on its own goroutine, closing the connection when handle
// returns. It returns the listener's address. When the test ends the
// listener is closed and Serve waits for every handle to return, so a
// handle must end once its peer goes away.
func Serve(tb testing.TB, handle func(net.Conn)) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	var wg sync.WaitGroup
	tb.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				handle(c)
			}()
		}
	}()
	return ln.Addr().String()
}
