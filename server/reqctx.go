package server

import (
	"context"
	"sync"
	"time"
)

// reqContext is the context.Context of a blocking handler's request on the
// goroutine driver. It belongs to the conn and is reused request after
// request: its Done channel, the watch on the client (a background read,
// see startWatch) and the link to the server's base context are made only
// when a handler first asks for Done, so a handler that never looks at
// its context costs no allocation and no system call; a context whose Done
// was asked for is not reused (see next). It is cancelled
// when the client goes away or breaks the connection, when Shutdown gives
// up waiting, and when the handler returns. As stage.Request.Context
// says, it must not be used after the handler returns: the next request
// of the connection reuses it.
type reqContext struct {
	c  *conn
	mu sync.Mutex
	// guarded by mu
	done      chan struct{}
	err       error
	active    bool        // between begin and end
	watchable bool        // the client may be watched: body read, no input pending
	watching  bool        // startWatch ran for this request
	stopBase  func() bool // undoes the link to the base context
}

// next returns the context for the connection's next request, begun
// (watchable says whether the client may be watched: the body is read and
// no pipelined input is pending): x itself when no one asked for x's Done
// channel, else a new one. Once Done was asked for, goroutines outside
// the handler may still hold x — context.AfterFunc and contexts derived
// from x start one that reads x's Done and then Err — and reusing x would
// let such a goroutine see a closed Done with a nil Err (the next
// request's), which the context package treats as a broken Context and
// panics on.
func (x *reqContext) next(c *conn, watchable bool) *reqContext {
	x.mu.Lock()
	if x.done != nil {
		x.mu.Unlock()
		x = new(reqContext)
		x.mu.Lock()
	}
	x.c, x.done, x.err, x.watchable, x.watching, x.stopBase = c, nil, nil, watchable, false, nil
	x.active = true
	x.mu.Unlock()
	return x
}

// bodyEnded is called when the handler read the request body to its end;
// idle says no pipelined input follows it. The client may then be
// watched: at once if someone waits on Done, else when someone does.
func (x *reqContext) bodyEnded(idle bool) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if !x.active || !idle || x.watching || x.err != nil {
		return
	}
	x.watchable = true
	if x.done != nil {
		x.watching = true
		x.c.startWatch(x.cancel)
	}
}

// end cancels x after the handler returned: it stops the watch (keeping a
// byte it read) and wakes whoever still waits on Done.
func (x *reqContext) end() {
	x.mu.Lock()
	x.active = false
	if x.watching {
		x.mu.Unlock()
		x.stopWatch()
		x.mu.Lock()
	}
	x.watchable = false
	if x.stopBase != nil {
		x.stopBase()
	}
	x.cancelLocked(context.Canceled)
	x.mu.Unlock()
}

// stopWatch ends the background read, if one runs, and forbids a new one
// for this request (after Hijack the connection is the handler's). It
// runs on the connection's goroutine.
func (x *reqContext) stopWatch() {
	x.mu.Lock()
	started := x.watching
	x.watching, x.watchable = false, false
	x.mu.Unlock()
	if started {
		x.c.stopWatch() // not under mu: the watch may be cancelling
	}
}

// cancel is called by the watch and by the base context.
func (x *reqContext) cancel() {
	x.mu.Lock()
	x.cancelLocked(context.Canceled)
	x.mu.Unlock()
}

func (x *reqContext) cancelLocked(err error) {
	if x.err != nil {
		return
	}
	x.err = err
	if x.done != nil {
		close(x.done)
	}
}

// Deadline reports no deadline.
func (x *reqContext) Deadline() (time.Time, bool) { return time.Time{}, false }

// Done returns a channel closed when the request is cancelled. The first
// call for a request starts watching the client.
func (x *reqContext) Done() <-chan struct{} {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.done != nil {
		return x.done
	}
	x.done = make(chan struct{})
	if x.err != nil {
		close(x.done)
		return x.done
	}
	x.stopBase = context.AfterFunc(x.c.srv.baseCtx, x.cancel)
	if x.watchable {
		x.watching = true
		x.c.startWatch(x.cancel)
	}
	return x.done
}

// Err returns context.Canceled once the request is cancelled, else nil.
func (x *reqContext) Err() error {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.err
}

// Value returns the base context's value for key.
func (x *reqContext) Value(key any) any { return x.c.srv.baseCtx.Value(key) }

var _ context.Context = (*reqContext)(nil)
