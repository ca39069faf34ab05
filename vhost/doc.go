// Package vhost maps the Host of a request to a virtual host.
//
// A [Table] is built once from the [config.Host] list (the first host is the
// default) and is then read-only: [Table.Lookup] is safe for concurrent use
// and does not allocate. Matching rules, in order:
//
//  1. The host is normalised: the port is removed ("example.com:8080",
//     "[::1]:8080"), one trailing dot is dropped and ASCII letters are
//     lower-cased.
//  2. An exact server name wins.
//  3. Otherwise the longest "*.suffix" wildcard whose suffix ends the host
//     wins. A wildcard matches one or more labels: "*.example.com" matches
//     "a.example.com" and "a.b.example.com" but not "example.com".
//  4. Otherwise the default host answers.
//
// Package vhost is not a router: it does not look at paths, run handlers or
// read files. It does not check that a DocumentRoot exists; the server does
// that when it starts.
package vhost
