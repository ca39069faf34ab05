package server

import (
	"io"
	"net"
	"os"
	"runtime"
	"time"

	"golang.org/x/sys/unix"
)

// sendFileTCP sends n bytes of f at off on tc with sendfile(2) at an
// explicit offset, in chunks of at most sendfileChunk, each bounded by
// Timeout. f's own offset is neither read nor moved.
func (c *conn) sendFileTCP(tc *net.TCPConn, f *os.File, off, n int64) error {
	rc, err := tc.SyscallConn()
	if err != nil {
		return err
	}
	src := int(f.Fd())
	defer runtime.KeepAlive(f)
	for n > 0 {
		left := min(n, sendfileChunk)
		var serr error
		c.nc.SetWriteDeadline(time.Now().Add(c.gen.set.timeout))
		err := rc.Write(func(fd uintptr) bool {
			for left > 0 {
				m, e := unix.Sendfile(int(fd), src, &off, int(left))
				if m > 0 {
					left, n = left-int64(m), n-int64(m)
				}
				switch {
				case e == unix.EAGAIN:
					return false // wait until the socket is writable
				case e == unix.EINTR:
				case e != nil:
					serr = e
					return true
				case m == 0:
					serr = io.ErrUnexpectedEOF // the file is shorter
					return true
				}
			}
			return true
		})
		if err == nil {
			err = serr
		}
		if err != nil {
			return err
		}
	}
	return nil
}
