// Package e2e holds the end-to-end tests of gibbon (package e2e_test).
//
// The tests build the real binary once, start it on free ports with config
// directories they write themselves, and talk to it with real clients: Go's
// net/http, curl, and raw TCP connections for malformed requests. They check
// what a user of the binary sees: exit codes, stderr lines, status codes,
// headers and bodies.
//
// This package is not a harness for other packages and exports nothing. curl
// is optional on a developer machine (its tests skip) but required under CI
// (CI=true), where a missing curl fails the tests.
package e2e
