//go:build !linux

package websocket

// watch is empty: without epoll a parked connection keeps its goroutine.
type watch struct{}

// watchInput reports that c cannot be watched.
func (c *Conn) watchInput() bool { return false }

func (c *Conn) unwatchInput() {}
