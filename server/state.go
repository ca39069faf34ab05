package server

import "strconv"

// ConnState is the life-cycle state of one client connection, as tracked by
// the server for graceful shutdown.
//
// Allowed transitions:
//
//	StateNew    → StateActive (the first request bytes arrived) | StateClosed
//	StateActive → StateIdle (a response was written, waiting for the next
//	              request on a keep-alive connection) | StateClosed
//	StateIdle   → StateActive (the next request's bytes arrived) | StateClosed
//	StateClosed is final.
//
// Shutdown closes connections in StateNew and StateIdle at once and lets
// StateActive connections finish their current request.
type ConnState uint32

const (
	// StateNew is a connection that was accepted and has sent no bytes yet.
	StateNew ConnState = iota
	// StateActive is a connection that is reading a request, handling it
	// or writing its response.
	StateActive
	// StateIdle is a keep-alive connection between requests.
	StateIdle
	// StateClosed is a connection that was closed.
	StateClosed
)

var connStateNames = [...]string{
	StateNew:    "new",
	StateActive: "active",
	StateIdle:   "idle",
	StateClosed: "closed",
}

// String returns the lower-case name of the state, e.g. "idle".
func (s ConnState) String() string {
	if int(s) < len(connStateNames) {
		return connStateNames[s]
	}
	return "ConnState(" + strconv.Itoa(int(s)) + ")"
}
