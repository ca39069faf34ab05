package stage

import (
	"errors"
	"strconv"
)

// ErrAbort, used as a panic value by a handler, ends the request and closes
// the connection without the server logging a stack (like
// net/http.ErrAbortHandler).
var ErrAbort = errors.New("stage: abort handler")

// ErrRefused is the error stage-50 observers get for a connection closed
// by a stage-10 Acceptor.
var ErrRefused = errors.New("stage: connection refused by a plugin")

// HandlerError is an error with the status the server should answer with.
// Plugin names the plugin that returned it (filled in by the Pipeline when
// empty).
type HandlerError struct {
	Status int
	Plugin string
	Err    error
}

// Error returns "plugin: status: err".
func (e *HandlerError) Error() string {
	s := strconv.Itoa(e.Status)
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	if e.Plugin != "" {
		s = e.Plugin + ": " + s
	}
	return s
}

// Unwrap returns the cause.
func (e *HandlerError) Unwrap() error { return e.Err }

// Error returns a [*HandlerError] for status and err (err may be nil).
func Error(status int, err error) *HandlerError {
	return &HandlerError{Status: status, Err: err}
}

// StatusOf returns the status the server should answer an error with: the
// Status of a [*HandlerError] inside err, 500 for any other error, 0 for
// nil.
func StatusOf(err error) int {
	if err == nil {
		return 0
	}
	var he *HandlerError
	if errors.As(err, &he) && he.Status >= 400 && he.Status <= 599 {
		return he.Status
	}
	return 500
}
