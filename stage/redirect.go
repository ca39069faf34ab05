package stage

// MaxInternalRedirects bounds how many [InternalRedirect]s the server
// follows for one request; past it the request answers 500.
const MaxInternalRedirects = 10

// InternalRedirect is an error a stage-30 handler returns, before writing
// anything, to have the server serve another local path instead: a CGI
// script's local redirect response ("Location: /path" with no Status,
// RFC 3875 §6.2.2). The server then, at most [MaxInternalRedirects] times
// per request, rewrites r ([Request.Rewrite] with Path and Query), makes it
// a GET without a body (the original body was consumed or is dropped),
// routes it again ([Pipeline.Route], or the core for static files) and
// serves it with the same w. Path is a clean decoded path (it begins with
// "/"). A server that does not follow it answers 500 ([StatusOf]).
type InternalRedirect struct {
	Path, Query string
}

// Error returns "internal redirect to <path>".
func (e *InternalRedirect) Error() string {
	return "internal redirect to " + e.Path
}
