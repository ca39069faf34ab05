package websocket

import "time"

// Handler receives the messages of a parked connection (see [Conn.Park]).
//
// Its methods are called on a goroutine of the package, for one
// connection one call at a time and in order; calls for different
// connections may run at once, so a Handler shared by connections must be
// safe for concurrent use. A method may block (write to this or other
// connections, take locks): that delays only this connection's next
// message.
type Handler interface {
	// OnMessage is called for each data message. p is valid only until
	// OnMessage returns; copy what must outlive the call.
	OnMessage(c *Conn, t MessageType, p []byte)
	// OnClose is called once, after the connection is closed, with the
	// error ReadMessage would have returned: a *CloseError after a close
	// handshake (the peer's, or ours started by Close) or a protocol
	// violation, an I/O error (io.EOF, a timeout) otherwise. No method is
	// called for the connection after OnClose.
	OnClose(c *Conn, err error)
}

// parkState is where a connection stands with respect to Park.
//
// Transitions: blocking → running (Park); running → waiting (no input
// left: the connection is watched by the poller); waiting → running (input
// arrived, or Close woke it); running → done (the connection ended).
type parkState = int32

const (
	stateBlocking parkState = iota // not parked: ReadMessage is the API
	stateRunning                   // a goroutine reads and calls the handler
	stateWaiting                   // parked in the poller: no goroutine, no read buffer
	stateDone                      // OnClose was called
)

// Park gives the connection to h and returns at once: the caller (a
// native or net/http handler) may return and its goroutine end. From then
// on, while no input is pending, the connection holds no goroutine and no
// read or message buffer: its socket waits in the package's poller (one
// epoll set and one goroutine for the whole process). When data arrives, a
// new goroutine reads the message, answering pings and the close
// handshake as ReadMessage does, calls h.OnMessage and parks the
// connection again; h.OnClose is called once when the connection ends.
//
// Once a message has begun (its first byte arrived), the rest of it must
// arrive within Options.MessageTimeout (30 seconds by default): a peer
// that stalls in the middle of a message gets a close frame 1008 and the
// connection is closed (OnClose gets the timeout error). An idle
// connection has no timeout: to find peers that vanished without a word,
// ping them.
//
// WriteMessage, Ping and Close may be called from any goroutine, parked
// or not, also while Park runs. After Close, messages that arrive before
// the peer's close frame are dropped. ReadMessage must not be called after
// Park, and Park only once. The connection must be ended with Close (or by
// the peer), not by closing NetConn, which would leave it parked forever.
//
// A connection accepted from a gibbon server (Accept with a *gibbon.Ctx,
// or Upgrade under gibbon's HandleHTTP) is registered with the server by
// Park: the server's Shutdown calls [Conn.GoAway] (a close frame 1001)
// and waits for the close handshake (bounded by Shutdown's context), and
// OnClose is called as for any close. Under net/http's own server, which
// forgets a hijacked connection, the application closes its parked
// connections when it shuts down, for instance with GoAway from a
// function registered with http.Server.RegisterOnShutdown.
//
// A connection that cannot be watched (not a socket the package can poll,
// such as a TLS connection, or a system without epoll) is served the same
// way by one goroutine that stays blocked in a read while the connection
// is idle.
func (c *Conn) Park(h Handler) {
	c.wmu.Lock()
	c.h = h
	c.state.Store(stateRunning)
	closing := c.reading // a Close reads the peer's answer and ends the connection
	c.wmu.Unlock()
	if closing {
		return
	}
	if c.reg != nil {
		// Registered before the connection can end, which untracks it;
		// during a shutdown GoAway may run at once.
		c.reg.Track(c)
	}
	if !c.park() {
		go c.serve()
	}
}

// GoAway closes the connection with [StatusGoingAway] and the reason
// "server shutting down", as a gibbon server's Shutdown does for a parked
// connection: it is Close with that code.
func (c *Conn) GoAway() { c.Close(StatusGoingAway, "server shutting down") }

// serve reads messages and calls the handler until the connection parks
// or ends. The caller has moved the state to running.
func (c *Conn) serve() {
	for {
		if err := c.awaitMessage(); err != nil {
			c.end(err)
			return
		}
		t, p, err := c.readMessage(true)
		if err != nil {
			c.end(err)
			return
		}
		if t != 0 && !c.closing() {
			c.h.OnMessage(c, t, p)
		}
		if c.park() {
			return
		}
	}
}

// awaitMessage waits, with no deadline, for the first byte of a frame (a
// watched connection is woken only once input is there; one that cannot
// be watched waits here while idle), then gives the rest of the message
// until MessageTimeout from now. While the close handshake runs, Close's
// deadline applies instead. A failed read closes the connection.
func (c *Conn) awaitMessage() error {
	if c.in.buffered() == 0 {
		c.setReadDeadline(time.Time{})
		if err := c.in.fill(); err != nil {
			c.nc.Close()
			return err
		}
	}
	if c.wait > 0 {
		c.setReadDeadline(time.Now().Add(c.wait))
	}
	return nil
}

// park hands the connection to the poller when no input is pending and no
// close handshake runs, and reports whether it did; false means the caller
// goes on reading.
func (c *Conn) park() bool {
	if c.in.buffered() > 0 || c.closing() || !c.registerInput() {
		return false
	}
	c.in.release()
	c.dropMsg()
	c.state.Store(stateWaiting)
	if !c.armInput() {
		// Still ours unless Close took it meanwhile.
		return !c.state.CompareAndSwap(stateWaiting, stateRunning)
	}
	// A Close that sent its frame before the state said waiting did not
	// wake the connection: take it back to read the peer's answer.
	if c.closing() && c.state.CompareAndSwap(stateWaiting, stateRunning) {
		return false
	}
	return true
}

// wake starts a goroutine for a waiting connection: input arrived, or
// Close needs the peer's answer read. Safe for concurrent use; a wake of a
// connection that is not waiting does nothing.
func (c *Conn) wake() {
	if c.state.CompareAndSwap(stateWaiting, stateRunning) {
		go c.serve()
	}
}

// end finishes a parked connection, whose socket ReadMessage has closed.
func (c *Conn) end(err error) {
	c.state.Store(stateDone)
	c.unwatchInput()
	c.in.release()
	c.dropMsg()
	if c.reg != nil {
		c.reg.Untrack(c)
	}
	c.h.OnClose(c, err)
}

// dropMsg gives the message buffer back to the pool.
func (c *Conn) dropMsg() {
	if c.msg != nil {
		b := c.msg
		putBuf(&b)
		c.msg = nil
	}
}
