package server

import (
	"crypto/tls"
	"net"
	"sync"
)

// tlsConn is a server TLS connection whose Write sends the records
// crypto/tls makes of one call with as few socket writes as it can:
// crypto/tls writes each record (at most 16 KiB, smaller while a
// connection is new) with its own call, so an HTTP/2 flush of 256 KiB of
// DATA frames cost sixteen write system calls; gathered, it costs one per
// [tlsBatchMax] bytes.
type tlsConn struct {
	*tls.Conn
	raw *recordBatcher
}

// newTLSConn returns the TLS server side of nc.
func newTLSConn(nc net.Conn, cfg *tls.Config) *tlsConn {
	raw := &recordBatcher{Conn: nc}
	return &tlsConn{Conn: tls.Server(raw, cfg), raw: raw}
}

// tlsGatherMin is the smallest Write whose records are gathered: a
// smaller one is one record (or a few short ones while crypto/tls sizes
// records for a new connection), where gathering would only add a copy.
const tlsGatherMin = 2 << 10

// Write encrypts p and sends it. When the last socket write fails the
// error is returned with n = 0: the connection is broken either way.
func (c *tlsConn) Write(p []byte) (int, error) {
	if len(p) < tlsGatherMin {
		return c.Conn.Write(p)
	}
	c.raw.gather()
	n, err := c.Conn.Write(p)
	if ferr := c.raw.release(); ferr != nil && err == nil {
		return 0, ferr
	}
	return n, err
}

// tlsBatchMax bounds the bytes a recordBatcher holds before it writes.
const tlsBatchMax = 64 << 10

// batchPool holds the recordBatchers' buffers between gathered writes, so
// an idle connection keeps none.
var batchPool = sync.Pool{New: func() any { b := make([]byte, 0, tlsBatchMax+tlsRecordMax); return &b }}

// tlsRecordMax is the largest TLS record on the wire: 16 KiB of payload
// plus header, content type, padding and tag.
const tlsRecordMax = 16<<10 + 256

// recordBatcher is the socket under a tlsConn. Between gather and release
// it keeps what crypto/tls writes, writing it once tlsBatchMax bytes are
// held and at release. Writes by other goroutines in that time (crypto/tls
// answering a key update from its reader) join the batch in order: they
// hold the tls.Conn's write lock, so they come before or after the
// gathered Write's records, never between them.
type recordBatcher struct {
	net.Conn
	mu       sync.Mutex
	gathered bool
	buf      *[]byte
}

func (b *recordBatcher) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.gathered {
		return b.Conn.Write(p)
	}
	if len(*b.buf)+len(p) > cap(*b.buf) {
		if err := b.writeHeld(); err != nil {
			return 0, err
		}
		if len(p) > cap(*b.buf) {
			return b.Conn.Write(p)
		}
	}
	*b.buf = append(*b.buf, p...)
	return len(p), nil
}

// gather starts holding writes.
func (b *recordBatcher) gather() {
	b.mu.Lock()
	b.gathered = true
	b.buf = batchPool.Get().(*[]byte)
	b.mu.Unlock()
}

// release writes what is held and stops holding writes.
func (b *recordBatcher) release() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	err := b.writeHeld()
	b.gathered = false
	batchPool.Put(b.buf)
	b.buf = nil
	return err
}

// writeHeld writes the held bytes; b.mu is held.
func (b *recordBatcher) writeHeld() error {
	if len(*b.buf) == 0 {
		return nil
	}
	_, err := b.Conn.Write(*b.buf)
	*b.buf = (*b.buf)[:0]
	return err
}
