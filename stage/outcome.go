package stage

import "time"

// Outcome is how a request ended, as stage-40 observers see it.
type Outcome struct {
	// Status is the status sent; 0 when the connection was closed without
	// a response (a Close verdict, a stage-10 refusal, a client gone).
	Status int
	// Bytes is the number of body bytes sent (0 for HEAD and 304).
	Bytes int64
	// Duration is the time from Request.Start to the end of the response.
	Duration time.Duration
	// RefusedAt is StageAccept or StageRequest when a plugin refused or
	// answered the request at that stage, else 0; Plugin names it.
	RefusedAt Stage
	Plugin    string
	// Err is the error that ended the request early (handler error, write
	// error), or nil.
	Err error
}
