// Package cgi is the cgi plugin: it runs CGI/1.1 scripts (RFC 3875) for the
// requests a virtual host's [HANDLERS] rules send to it
// ("Match <regex> cgi [interpreter] [mimetype]").
//
// The script is the first regular file met walking the request path down
// from the document root; the rest of the path is PATH_INFO. The request
// body is streamed to the script's stdin, its stdout is parsed (the head,
// through internal/cgihead) and streamed to the client, flushing as output
// arrives when the ResponseWriter is a stage.Flusher; stderr goes to the
// plugin's log. Each script runs in its own process group, which is killed
// when the time limit passes or the request's context ends (the client went
// away) or a write to the client fails. At most MaxProcesses scripts run at
// once; a request waits up to QueueTimeout for a slot, then gets 503.
//
// # What the server must do
//
// The handler is blocking: the server calls Rule.Serve off the event loop
// with r.Body set (a Read must fail once the connection is closed or its
// read deadline passes: the handler returns only after the stdin feeder
// stopped reading), r.Context() cancelled when the client goes away (that
// kills the script), and a ResponseWriter that is a stage.Flusher so that
// output streams. It follows a returned *stage.InternalRedirect as stage
// documents it.
//
// It is not a FastCGI client (see plugins/fastcgi), and it does not wrap
// net/http/cgi, whose host neither streams, kills process groups nor bounds
// concurrency.
package cgi
