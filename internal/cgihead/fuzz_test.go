package cgihead

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

// FuzzRead checks that the head parser never panics, never reads past the
// blank line, keeps no server-owned field and reports only its own errors.
func FuzzRead(f *testing.F) {
	for _, s := range []string{
		"Content-Type: text/plain\n\nbody",
		"Status: 404 Not Found\r\nContent-Type: text/html\r\n\r\n",
		"Location: /x\n\n",
		"Location: http://a/\nStatus: 301\n\n",
		"X: a\n b\n\n",
		"Content-Length: 3\nConnection: close\n\nabc",
		"garbage",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		br := bufio.NewReaderSize(bytes.NewReader(in), 16)
		h, err := Read(br, 1024)
		if err != nil {
			var le *LimitError
			if !errors.Is(err, ErrMalformed) && !errors.As(err, &le) {
				t.Fatalf("unexpected error type %T: %v", err, err)
			}
			return
		}
		if c := h.Code(); c < 200 || c > 599 {
			t.Fatalf("code %d", c)
		}
		for _, fl := range h.Fields {
			for _, d := range dropped {
				if strings.EqualFold(fl.Name, d) {
					t.Fatalf("kept %s", d)
				}
			}
			if strings.ContainsAny(fl.Value, "\r\n\x00") {
				t.Fatalf("value %q", fl.Value)
			}
		}
		rest, _ := io.ReadAll(br)
		if !bytes.HasSuffix(in, rest) {
			t.Fatalf("body %q is not a suffix of the input", rest)
		}
		if i := bytes.Index(in, []byte("\n\n")); i >= 0 && len(rest) > 0 && len(in)-len(rest) > i+2 && !bytes.Contains(in, []byte("\r\n\r\n")) {
			t.Fatalf("read past the blank line at %d: body %q", i, rest)
		}
	})
}
