// Package cgihead holds what the cgi and fastcgi plugins share of CGI/1.1
// (RFC 3875): [Read], the parser of the response head a script writes
// before its body, [Meta], the builder of the request meta-variables
// (the environment of a CGI child, the PARAMS of a FastCGI request), and
// [Locator], which finds the script a request path names, remembering
// what it found of the file system for a second.
//
// It is not a CGI host: it starts no process, opens no connection and
// knows nothing of the stage API (packages under internal may not import
// it); the plugins fill a [Meta] from the request and turn a [Head] into
// response header fields.
//
// Invariants: [Locator.Locate] looks only at the paths below the root
// that the clean request path names, refusing symbolic links unless asked
// (what it remembered is at most Locator.Validity old). [Read] never
// consumes a byte past the blank line that ends the head, never keeps more
// than its limit, and drops the fields the server owns (Status,
// Content-Length, Transfer-Encoding, Connection and the other hop-by-hop
// fields). [Meta.Append] never emits HTTP_PROXY (httpoxy) nor an HTTP_
// variable for Content-Type or Content-Length.
package cgihead
