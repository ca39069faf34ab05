// Package rewrite is the rewrite plugin: per virtual host, regular
// expressions on the request path that rewrite it internally (the server
// then routes and serves the new path) or answer with a redirect, with
// conditions on the query string, the method and the host.
//
// It is not a proxy and does not rewrite responses.
package rewrite
