// Package clock keeps a coarse wall clock and the pre-formatted HTTP Date
// header value, refreshed once a second by one goroutine.
//
// A Clock formats the date (http.TimeFormat, always UTC) once a second and
// publishes it by swapping an atomic pointer, without a lock, as Monkey
// does with its Date header. Readers on the hot path get a read-only view
// and append it to a response head, so a date costs nothing per request.
//
// Unlike Monkey's double buffer, each refresh formats into a new immutable
// buffer (one small allocation a second): reusing one of two buffers would
// let a reader that was descheduled across two refreshes read bytes while
// they are rewritten, a data race the Go memory model (and the race
// detector) forbids.
//
// Package clock is not a timer facility and not a monotonic clock: Now is
// accurate to about one second and must not be used to measure durations
// or to set deadlines that need sub-second precision. There is no global
// Clock; a server owns its own value and stops it when it shuts down.
package clock
