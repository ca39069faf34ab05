package fastcgi

import (
	"bufio"
	"encoding/binary"
	"errors"
	"io"
	"strconv"

	"gibbon/internal/cgihead"
)

// The FastCGI 1.0 record layer (https://fastcgi-archives.github.io/FastCGI_Specification.html).

const (
	fcgiVersion = 1
	headerLen   = 8
	maxContent  = 65535
	// requestID is the one request id this client uses per connection: it
	// never multiplexes.
	requestID = 1

	roleResponder = 1
	flagKeepConn  = 1
)

// recType is a record type.
type recType uint8

// The record types.
const (
	typeBeginRequest    recType = 1
	typeAbortRequest    recType = 2
	typeEndRequest      recType = 3
	typeParams          recType = 4
	typeStdin           recType = 5
	typeStdout          recType = 6
	typeStderr          recType = 7
	typeData            recType = 8
	typeGetValues       recType = 9
	typeGetValuesResult recType = 10
	typeUnknownType     recType = 11
)

var typeNames = [...]string{"", "BEGIN_REQUEST", "ABORT_REQUEST", "END_REQUEST", "PARAMS", "STDIN",
	"STDOUT", "STDERR", "DATA", "GET_VALUES", "GET_VALUES_RESULT", "UNKNOWN_TYPE"}

// String returns the specification's name of t.
func (t recType) String() string {
	if t > 0 && int(t) < len(typeNames) {
		return typeNames[t]
	}
	return "recType(" + strconv.Itoa(int(t)) + ")"
}

// The protocolStatus values of END_REQUEST.
const (
	statusRequestComplete = 0
	statusCantMpxConn     = 1
	statusOverloaded      = 2
	statusUnknownRole     = 3
)

// ProtocolError is a violation of FastCGI by the backend.
type ProtocolError struct{ Msg string }

func (e *ProtocolError) Error() string { return "fastcgi: protocol error: " + e.Msg }

// header is a record header.
type header struct {
	Version       uint8
	Type          recType
	ID            uint16
	ContentLength uint16
	PaddingLength uint8
}

// recordReader reads records through its own buffer, which holds a whole
// record. The content next returns is a view into that buffer, valid
// until the next call to next.
type recordReader struct {
	r          io.Reader
	buf        []byte
	start, end int // the bytes read and not yet returned: buf[start:end]
}

// maxRecord is the longest record: header, content and padding.
const maxRecord = headerLen + maxContent + 255

func newRecordReader(r io.Reader) *recordReader {
	return &recordReader{r: r, buf: make([]byte, maxRecord)}
}

// next reads one record. A stream that ends between records returns
// io.EOF; one that ends inside a record io.ErrUnexpectedEOF.
func (rr *recordReader) next() (header, []byte, error) {
	if err := rr.fill(headerLen); err != nil {
		return header{}, nil, err
	}
	hb := rr.buf[rr.start:]
	h := header{
		Version:       hb[0],
		Type:          recType(hb[1]),
		ID:            binary.BigEndian.Uint16(hb[2:4]),
		ContentLength: binary.BigEndian.Uint16(hb[4:6]),
		PaddingLength: hb[6],
	}
	if h.Version != fcgiVersion {
		return h, nil, &ProtocolError{Msg: "version " + strconv.Itoa(int(h.Version))}
	}
	n := headerLen + int(h.ContentLength) + int(h.PaddingLength)
	if err := rr.fill(n); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return h, nil, err
	}
	content := rr.buf[rr.start+headerLen : rr.start+headerLen+int(h.ContentLength)]
	rr.start += n
	return h, content, nil
}

// buffered reports whether a whole record is buffered, so that next
// returns without reading.
func (rr *recordReader) buffered() bool {
	b := rr.buf[rr.start:rr.end]
	return len(b) >= headerLen && len(b) >= headerLen+int(binary.BigEndian.Uint16(b[4:6]))+int(b[6])
}

// fill reads until n bytes are buffered, moving what is buffered to the
// start of buf when the record would not fit after it. It returns io.EOF
// when the stream ended with nothing buffered, io.ErrUnexpectedEOF when
// it ended with less than n bytes.
func (rr *recordReader) fill(n int) error {
	if rr.end-rr.start >= n {
		return nil
	}
	if rr.start+n > len(rr.buf) || rr.start == rr.end {
		rr.end = copy(rr.buf, rr.buf[rr.start:rr.end])
		rr.start = 0
	}
	for rr.end-rr.start < n {
		m, err := rr.r.Read(rr.buf[rr.end:])
		rr.end += m
		switch {
		case rr.end-rr.start >= n:
			return nil
		case err == io.EOF && rr.end == rr.start:
			return io.EOF
		case err == io.EOF:
			return io.ErrUnexpectedEOF
		case err != nil:
			return err
		}
	}
	return nil
}

// recordWriter writes records through a buffer; flush sends them.
type recordWriter struct {
	bw  *bufio.Writer
	hdr [headerLen]byte // the record header being written (a field, so it does not escape)
	pad [8]byte
}

func newRecordWriter(w io.Writer) *recordWriter {
	return &recordWriter{bw: bufio.NewWriterSize(w, 16<<10)}
}

// write writes content as records of type t, split at 65535 bytes and
// padded to a multiple of 8. Empty content writes one empty record (the end
// of a stream).
func (rw *recordWriter) write(t recType, id uint16, content []byte) error {
	for {
		n := min(len(content), maxContent)
		pad := -n & 7
		rw.hdr = [headerLen]byte{fcgiVersion, byte(t), byte(id >> 8), byte(id), byte(n >> 8), byte(n), byte(pad), 0}
		rw.bw.Write(rw.hdr[:])
		rw.bw.Write(content[:n])
		if _, err := rw.bw.Write(rw.pad[:pad]); err != nil {
			return err
		}
		content = content[n:]
		if len(content) == 0 {
			return nil
		}
	}
}

// beginBodies are the bodies of BEGIN_REQUEST for the responder role,
// without and with FCGI_KEEP_CONN.
var beginBodies = [2][8]byte{{0, roleResponder}, {0, roleResponder, flagKeepConn}}

// writeBegin writes BEGIN_REQUEST for the responder role.
func (rw *recordWriter) writeBegin(id uint16, keepConn bool) error {
	body := beginBodies[0][:]
	if keepConn {
		body = beginBodies[1][:]
	}
	return rw.write(typeBeginRequest, id, body)
}

// writeParams writes the meta-variables as PARAMS records and the empty
// PARAMS record that ends them. It encodes them in scratch, which it
// returns for reuse.
func (rw *recordWriter) writeParams(id uint16, vars []cgihead.Var, scratch []byte) ([]byte, error) {
	b := scratch[:0]
	for _, v := range vars {
		b = appendPair(b, v.Name, v.Value)
	}
	if len(b) > 0 {
		if err := rw.write(typeParams, id, b); err != nil {
			return b, err
		}
	}
	return b, rw.write(typeParams, id, nil)
}

func (rw *recordWriter) flush() error { return rw.bw.Flush() }

// appendPair appends one name-value pair: each length in one byte below
// 128, else in four bytes with the top bit set.
func appendPair(b []byte, name, value string) []byte {
	b = appendLen(b, len(name))
	b = appendLen(b, len(value))
	b = append(b, name...)
	return append(b, value...)
}

func appendLen(b []byte, n int) []byte {
	if n < 128 {
		return append(b, byte(n))
	}
	return binary.BigEndian.AppendUint32(b, uint32(n)|1<<31)
}

var errPairs = &ProtocolError{Msg: "bad name-value pair"}

// decodePairs decodes name-value pairs (PARAMS, GET_VALUES_RESULT).
func decodePairs(b []byte) ([][2]string, error) {
	var out [][2]string
	for len(b) > 0 {
		var nl, vl int
		var ok bool
		if nl, b, ok = readLen(b); !ok {
			return nil, errPairs
		}
		if vl, b, ok = readLen(b); !ok {
			return nil, errPairs
		}
		if nl > len(b) || vl > len(b)-nl {
			return nil, errPairs
		}
		out = append(out, [2]string{string(b[:nl]), string(b[nl : nl+vl])})
		b = b[nl+vl:]
	}
	return out, nil
}

func readLen(b []byte) (int, []byte, bool) {
	switch {
	case len(b) == 0:
		return 0, b, false
	case b[0] < 128:
		return int(b[0]), b[1:], true
	case len(b) < 4:
		return 0, b, false
	}
	return int(binary.BigEndian.Uint32(b) &^ (1 << 31)), b[4:], true
}

// endRequest is the body of END_REQUEST.
type endRequest struct {
	AppStatus      uint32
	ProtocolStatus uint8
}

func parseEndRequest(b []byte) (endRequest, error) {
	if len(b) < 8 {
		return endRequest{}, &ProtocolError{Msg: "short END_REQUEST"}
	}
	return endRequest{AppStatus: binary.BigEndian.Uint32(b), ProtocolStatus: b[4]}, nil
}

var errUnexpectedEnd = errors.New("fastcgi: backend closed the connection before the end of the request")
