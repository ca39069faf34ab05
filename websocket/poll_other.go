//go:build !linux

package websocket

// watch is empty: without epoll a parked connection keeps its goroutine.
type watch struct{}

// registerInput reports that c cannot be watched.
func (c *Conn) registerInput() bool { return false }

func (c *Conn) armInput() bool { return false }

func (c *Conn) unwatchInput() {}
