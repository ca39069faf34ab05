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
