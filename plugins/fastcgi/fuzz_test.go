package fastcgi

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"gibbon/internal/cgihead"
)

// FuzzRecords decodes a backend's byte stream as the client does: records,
// then name-value pairs and END_REQUEST bodies. It must never panic, never
// return content longer than the header says, and fail only with its own
// errors.
func FuzzRecords(f *testing.F) {
	var buf bytes.Buffer
	rw := newRecordWriter(&buf)
	rw.write(typeStdout, 1, []byte("Content-Type: text/plain\r\n\r\nhello"))
	rw.write(typeStderr, 1, []byte("warning"))
	rw.write(typeStdout, 1, nil)
	rw.write(typeEndRequest, 1, []byte{0, 0, 0, 0, 0, 0, 0, 0})
	rw.writeParams(1, []cgihead.Var{{Name: "A", Value: "b"}, {Name: "LONG", Value: string(make([]byte, 300))}}, nil)
	rw.flush()
	f.Add(buf.Bytes())
	f.Add([]byte{1, 6, 0, 1, 0, 3, 5, 0, 'a', 'b', 'c', 0, 0, 0, 0, 0})
	f.Add([]byte("garbage"))
	f.Fuzz(func(t *testing.T, in []byte) {
		rr := newRecordReader(bytes.NewReader(in))
		for {
			h, content, err := rr.next()
			if err != nil {
				var pe *ProtocolError
				if err != io.EOF && err != io.ErrUnexpectedEOF && !errors.As(err, &pe) {
					t.Fatalf("error %T %v", err, err)
				}
				return
			}
			if len(content) != int(h.ContentLength) {
				t.Fatalf("content %d bytes, header says %d", len(content), h.ContentLength)
			}
			switch h.Type {
			case typeParams, typeGetValuesResult:
				pairs, err := decodePairs(content)
				if err == nil {
					var re []byte
					for _, p := range pairs {
						re = appendPair(re, p[0], p[1])
					}
					if _, err := decodePairs(re); err != nil {
						t.Fatalf("re-encoded pairs fail: %v", err)
					}
				}
			case typeEndRequest:
				parseEndRequest(content)
			}
		}
	})
}
