// Package e2e holds the end-to-end tests of gibbon (package e2e_test).
//
// The tests build the real binary once, start it on free ports with config
// directories they write themselves, and talk to it with real clients: Go's
// net/http (HTTP/1.1, HTTP/2, h2c), curl, openssl s_client, nghttp,
// h2spec, headless Chromium, wrk, and raw TCP connections for malformed
// requests; the FastCGI tests run php-fpm. They check what a user of the
// binary sees: exit codes, stderr lines, status codes, headers and bodies.
//
// This package is not a harness for other packages and exports nothing.
// The external tools are optional on a developer machine (their tests
// skip) but required under CI (CI=true), where a missing one fails the
// tests; ./test.sh installs them.
package e2e
