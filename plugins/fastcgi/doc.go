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
// Invariants: a connection goes back to the pool only after an
// END_REQUEST with FCGI_REQUEST_COMPLETE, with all of the request's STDIN
// sent and the request's context still live; anything else closes it. At
// most MaxConnections connections to a backend are open at once.
package fastcgi
