// Command hello is gibbon's hello world, served natively or through the
// net/http adapter; bench/library-hello.spec benchmarks it.
//
//	go run ./examples/hello -addr 127.0.0.1:8080 -mode native
//
// It is an example and a benchmark target, not part of the library API:
// nothing imports it.
package main
