package fastcgi

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"gibbon/internal/cgihead"
)

func TestRecordRoundTrip(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	rw := newRecordWriter(&buf)
	big := strings.Repeat("x", 70000)
	must(t, rw.writeBegin(1, true))
	_, err := rw.writeParams(1, []cgihead.Var{{Name: "SCRIPT_NAME", Value: "/a.php"}, {Name: "LONG", Value: big}, {Name: strings.Repeat("N", 200)}}, nil)
	must(t, err)
	must(t, rw.write(typeStdin, 1, []byte("abc")))
	must(t, rw.write(typeStdin, 1, nil))
	must(t, rw.flush())
	if buf.Len()%8 != 0 {
		t.Errorf("stream of %d bytes is not padded to 8", buf.Len())
	}
	rr := newRecordReader(&buf)
	var params, stdin []byte
	var types []recType
	for {
		h, content, err := rr.next()
		if err == io.EOF {
			break
		}
		must(t, err)
		if h.ID != 1 || (int(h.ContentLength)+int(h.PaddingLength))%8 != 0 {
			t.Errorf("record %+v", h)
		}
		types = append(types, h.Type)
		switch h.Type {
		case typeBeginRequest:
			if !bytes.Equal(content, []byte{0, roleResponder, flagKeepConn, 0, 0, 0, 0, 0}) {
				t.Errorf("begin body %v", content)
			}
		case typeParams:
			params = append(params, content...)
		case typeStdin:
			stdin = append(stdin, content...)
		}
	}
	want := []recType{typeBeginRequest, typeParams, typeParams, typeParams, typeStdin, typeStdin}
	if len(types) != len(want) {
		t.Fatalf("types %v, want %v", types, want)
	}
	pairs, err := decodePairs(params)
	must(t, err)
	if len(pairs) != 3 || pairs[0] != [2]string{"SCRIPT_NAME", "/a.php"} || pairs[1][1] != big || len(pairs[2][0]) != 200 {
		t.Errorf("pairs decoded wrong: %d", len(pairs))
	}
	if string(stdin) != "abc" {
		t.Errorf("stdin %q", stdin)
	}
}

func TestRecordErrors(t *testing.T) {
	t.Parallel()
	var pe *ProtocolError
	_, _, err := newRecordReader(strings.NewReader("HTTP/1.1 200 OK\r\n")).next()
	if !errors.As(err, &pe) {
		t.Errorf("bad version: %v", err)
	}
	_, _, err = newRecordReader(bytes.NewReader([]byte{1, 6, 0, 1, 0, 10, 0, 0, 'a'})).next()
	if err != io.ErrUnexpectedEOF {
		t.Errorf("short record: %v", err)
	}
	for _, b := range [][]byte{{5}, {5, 1, 'a'}, {0x80, 0, 0}, {0x80, 0, 0, 9, 0}} {
		if _, err := decodePairs(b); err == nil {
			t.Errorf("decodePairs(%v) ok", b)
		}
	}
	if _, err := parseEndRequest([]byte{0, 0}); err == nil {
		t.Error("short END_REQUEST ok")
	}
	if recType(6).String() != "STDOUT" || recType(99).String() != "recType(99)" {
		t.Error("recType.String")
	}
}

// TestRecordReaderPieces reads a stream that arrives in pieces of every
// size, so records straddle reads and the buffer is compacted: the
// records and their contents come out the same.
func TestRecordReaderPieces(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	rw := newRecordWriter(&buf)
	var want []string
	for i := range 40 {
		content := strings.Repeat(string(rune('a'+i%26)), i*1700) // up to 66300 bytes: two records
		rw.write(typeStdout, 1, []byte(content))
		want = append(want, content)
	}
	must(t, rw.flush())
	for _, size := range []int{1, 7, 8, 4096, 65536, 1 << 20} {
		rr := newRecordReader(&chunkReader{b: buf.Bytes(), size: size})
		var got strings.Builder
		for {
			_, content, err := rr.next()
			if err == io.EOF {
				break
			}
			must(t, err)
			got.Write(content)
		}
		if got.String() != strings.Join(want, "") {
			t.Errorf("pieces of %d: %d bytes read, want %d", size, got.Len(), len(strings.Join(want, "")))
		}
	}
}

// chunkReader returns b in reads of at most size bytes.
type chunkReader struct {
	b    []byte
	size int
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(c.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p[:min(len(p), c.size)], c.b)
	c.b = c.b[n:]
	return n, nil
}
