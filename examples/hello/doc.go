// Command hello is gibbon's hello world, served natively (on the
// connection's goroutine, or on the event loop with -mode nonblocking) or
// through the net/http adapter; bench/library-hello.spec,
// library-nonblocking.spec and library-nethttp.spec benchmark it. Built
// with -tags pprof it writes a CPU profile (see pprof.go).
//
//	go run ./examples/hello -addr 127.0.0.1:8080 -mode native
//
// It is an example and a benchmark target, not part of the library API:
// nothing imports it.
package main
