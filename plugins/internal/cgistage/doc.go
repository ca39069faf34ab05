// Package cgistage is the stage side of CGI/1.1 shared by the cgi and
// fastcgi plugins: it turns a [stage.Request] into the request body and
// meta-variables a script gets ([RequestBody], [Meta]), a script's head
// into a response ([WriteHead], [LocalRedirect]), and reads their
// configuration times ([Duration]).
//
// It is not a plugin (it registers nothing) and not a CGI parser: the
// stage-free part of CGI, the head parser and the meta-variable encoder,
// is gibbon/internal/cgihead, which may not import the stage API. Only
// packages under plugins/ can import it.
//
// Invariants: every error it returns names the plugin by the prefix its
// caller passes, and a status it reports is a [stage.Error].
package cgistage
