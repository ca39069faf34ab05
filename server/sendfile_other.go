//go:build !linux

package server

import (
	"net"
	"os"
)

// sendFileTCP sends n bytes of f at off on tc as copyFile does: sendfile
// at an explicit offset is Linux's here.
func (c *conn) sendFileTCP(tc *net.TCPConn, f *os.File, off, n int64) error {
	return c.copyFile(f, off, n)
}
