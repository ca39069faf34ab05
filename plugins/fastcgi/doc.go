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
// # Learning the backend's capacity
//
// A php-fpm child takes a connection from the listen queue only when it is
// free and then stays with it until it closes, so a kept-alive connection
// beyond the children is never taken while the others stay open (the
// kernel accepted the connect for php-fpm, so dialing succeeds). The
// first request of a new kept-alive connection goes after an
// FCGI_GET_VALUES record, which php-fpm answers as soon as a child reads
// the connection, before it runs the request. Once the backend has
// answered GET_VALUES on some connection, a new one with no record back
// after starveAfter is one no child took: the pool's limit falls from
// MaxConnections to the connections the backend did take (backend.starved),
// requests queue for a slot, and the connections over the limit close as
// their requests end, each freeing a child for a waiting connection. The
// limit rises by one when a request finds no free slot, at most once per
// a wait that starts at a second and doubles with each fall up to a
// minute (backend.rise). A slow request is never taken for an unaccepted
// connection, and a backend that does not answer GET_VALUES keeps
// MaxConnections.
//
// Invariants: a connection goes back to the pool only after an
// END_REQUEST with FCGI_REQUEST_COMPLETE, with all of the request's STDIN
// sent and the request's context still live, and while no more
// connections are open than the limit; anything else closes it. At most
// MaxConnections requests run on a backend at once, and at most the limit
// once those begun before it fell have ended.
package fastcgi
