package connx

import (
	"net"
	"syscall"
)

// Alive tells whether the idle connection c is still open: a non-blocking
// peek finds neither the end of the stream nor stray bytes (a peer that
// closed a kept-alive connection, or a restarted one, is found before a
// request is sent). A connection without a file descriptor is taken to be
// alive.
func Alive(c net.Conn) bool {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return true
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	ok = false
	var b [1]byte
	err = rc.Read(func(fd uintptr) bool {
		_, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		ok = err == syscall.EAGAIN || err == syscall.EWOULDBLOCK
		return true
	})
	return err == nil && ok
}
