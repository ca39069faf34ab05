// Package fastcgi is the fastcgi plugin: a FastCGI client (responder role)
// for the requests a virtual host's [HANDLERS] rules send to it
// ("Match /.*\.php fastcgi [server...]"), typically to php-fpm.
//
// It has its own record codec (record.go), a pool of kept-alive connections
// per backend (FCGI_KEEP_CONN, one request per connection at a time: no
// multiplexing), round-robin over the backends of a rule with failover
// when one refuses connections, and the CGI meta-variables and response
// head parsing shared with the cgi plugin (internal/cgihead). The script
// is found on the local file system exactly as the cgi plugin finds it, so
// "/index.php/some/route" runs /index.php with PATH_INFO "/some/route".
//
// It is not a FastCGI server (net/http/fcgi is), it does not multiplex,
// and it starts no backend processes.
//
// # What the server must do
//
// The handlers are blocking: the server calls Rule.Serve off the event
// loop with r.Body set (io.EOF at the end of the body; a Read must fail
// once the connection is closed or its read deadline passes, since the
// handler returns only after the body feeder stopped), r.Context()
// cancelled when the client goes away (the plugin asks for its Done
// channel only once a request has waited watchAfter, so the server may
// start watching the client lazily, on that call), and a ResponseWriter
// that is a stage.Flusher for streaming and holds an unflushed body
// until the handler returns (so it can send it with a Content-Length). A returned *stage.InternalRedirect is
// followed as stage documents it. For index files: when r.Path ends in "/"
// and no rule matches it, the server (exchange.routeIndex in package
// server) tries the host's index files in order and, for the first that
// exists, routes on r.Path+name; if that finds a rule it serves the
// request rewritten to that path (the handler would find the same index
// file for the directory path too). So "Match /.*\.php fastcgi" runs
// /dir/index.php for "/dir/", never serving it as a static file.
//
// Invariants: a connection goes back to the pool only after an
// END_REQUEST with FCGI_REQUEST_COMPLETE, with all of the request's STDIN
// sent and the request's context still live, and while no new
// connection's first request has waited starveAfter unanswered (a php-fpm
// child stays with a kept-alive connection, so more kept connections than
// children would starve the rest); anything else closes it. At most
// MaxConnections connections to a backend are open at once.
package fastcgi
