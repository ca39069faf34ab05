package cgihead

import (
	"bufio"
	"io"
)

// Copy streams the body that follows the head in br to w, one read at a
// time: each piece is written as soon as it arrives and flush (when not
// nil) is called after it, so a slow script's output reaches the client as
// it is produced. It returns the bytes written and which side failed:
// readErr for the script's side (nil at a clean end of stream), writeErr
// for the client's (a write or flush error, after which the caller should
// stop the script).
func Copy(w io.Writer, flush func() error, br *bufio.Reader) (n int64, readErr, writeErr error) {
	buf := make([]byte, 32<<10)
	for {
		k, err := br.Read(buf)
		if k > 0 {
			m, werr := w.Write(buf[:k])
			n += int64(m)
			if werr == nil && flush != nil && br.Buffered() == 0 {
				werr = flush()
			}
			if werr != nil {
				return n, nil, werr
			}
		}
		if err == io.EOF {
			return n, nil, nil
		}
		if err != nil {
			return n, err, nil
		}
	}
}
