package engine

import (
	"net"

	"golang.org/x/sys/unix"
)

// LocalAddr returns the address the connection was accepted on (the
// listener's port, the interface address the client reached) as a
// *net.TCPAddr, or nil if the socket cannot tell. It allocates.
func (c *Conn) LocalAddr() net.Addr {
	sa, err := unix.Getsockname(c.fd)
	if err != nil {
		return nil
	}
	ap := addrPortOf(sa)
	if !ap.IsValid() {
		return nil
	}
	return net.TCPAddrFromAddrPort(ap)
}
