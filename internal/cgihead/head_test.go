package cgihead

import (
	"bufio"
	"errors"
	"io"
	"strings"
	"testing"
)

func TestRead(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, in string
		status   int
		code     int
		kind     Kind
		fields   []Field
		body     string
	}{
		{name: "document", in: "Content-Type: text/plain\n\nhello", code: 200, kind: Document,
			fields: []Field{{"Content-Type", "text/plain"}}, body: "hello"},
		{name: "crlf", in: "Content-Type: text/html\r\nX-A:  b \r\n\r\nbody\r\n", code: 200,
			fields: []Field{{"Content-Type", "text/html"}, {"X-A", "b"}}, body: "body\r\n"},
		{name: "status", in: "Status: 404 Not Found\nContent-Type: text/plain\n\nnope", status: 404, code: 404,
			fields: []Field{{"Content-Type", "text/plain"}}, body: "nope"},
		{name: "status only", in: "Status: 204\n\n", status: 204, code: 204},
		{name: "local redirect", in: "Location: /other?x=1\n\n", code: 302, kind: LocalRedirect,
			fields: []Field{{"Location", "/other?x=1"}}},
		{name: "client redirect", in: "Location: http://example.org/\n\n", code: 302, kind: ClientRedirect,
			fields: []Field{{"Location", "http://example.org/"}}},
		{name: "network path is not local", in: "Location: //evil.example/\n\n", code: 302, kind: ClientRedirect,
			fields: []Field{{"Location", "//evil.example/"}}},
		{name: "redirect with status", in: "Status: 301\nLocation: /moved\n\n", status: 301, code: 301, kind: ClientRedirect,
			fields: []Field{{"Location", "/moved"}}},
		{name: "server fields dropped", in: "Content-Length: 5\nConnection: close\nTransfer-Encoding: chunked\nSet-Cookie: a=1\nSet-Cookie: b=2\n\n12345",
			code: 200, fields: []Field{{"Set-Cookie", "a=1"}, {"Set-Cookie", "b=2"}}, body: "12345"},
		{name: "continuation", in: "X-Long: a\n  b\n\n", code: 200, fields: []Field{{"X-Long", "a b"}}},
		{name: "eof after fields", in: "Content-Type: text/plain\n", code: 200, fields: []Field{{"Content-Type", "text/plain"}}},
		{name: "eof mid line", in: "Content-Type: text/plain", code: 200, fields: []Field{{"Content-Type", "text/plain"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			br := bufio.NewReaderSize(strings.NewReader(tc.in), 16)
			h, err := Read(br, 0)
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			if h.Status != tc.status || h.Code() != tc.code || h.Kind() != tc.kind {
				t.Errorf("status %d code %d kind %v, want %d %d %v", h.Status, h.Code(), h.Kind(), tc.status, tc.code, tc.kind)
			}
			if len(h.Fields) != len(tc.fields) {
				t.Fatalf("fields %q, want %q", h.Fields, tc.fields)
			}
			for i := range tc.fields {
				if h.Fields[i] != tc.fields[i] {
					t.Errorf("field %d = %q, want %q", i, h.Fields[i], tc.fields[i])
				}
			}
			body, _ := io.ReadAll(br)
			if string(body) != tc.body {
				t.Errorf("body %q, want %q", body, tc.body)
			}
		})
	}
}

func TestReadErrors(t *testing.T) {
	t.Parallel()
	for _, in := range []string{
		"", "\n\nbody", "hello world\n\n", "Status: abc\n\n", "Status: 99\n\n", "Status: 1000\n\n",
		" cont\n\n", "Bad Name: x\n\n", "X: a\x00b\n\n", "X: y",
	} {
		_, err := Read(bufio.NewReader(strings.NewReader(in)), 0)
		if in == "X: y" {
			if err != nil {
				t.Errorf("%q: %v", in, err)
			}
			continue
		}
		if !errors.Is(err, ErrMalformed) {
			t.Errorf("%q: err %v, want ErrMalformed", in, err)
		}
	}
	_, err := Read(bufio.NewReaderSize(strings.NewReader("X: "+strings.Repeat("a", 100)+"\n\n"), 16), 64)
	var le *LimitError
	if !errors.As(err, &le) || le.Limit != 64 {
		t.Errorf("long head: err %v, want *LimitError 64", err)
	}
}

func TestKindString(t *testing.T) {
	t.Parallel()
	for k, want := range map[Kind]string{Document: "document", LocalRedirect: "local-redirect", ClientRedirect: "client-redirect", 9: "Kind(9)"} {
		if k.String() != want {
			t.Errorf("%d: %q", k, k.String())
		}
	}
}

type flushCounter struct {
	strings.Builder
	flushes int
}

func TestCopy(t *testing.T) {
	t.Parallel()
	var w flushCounter
	br := bufio.NewReaderSize(strings.NewReader("X: y\n\nabcdef"), 16)
	if _, err := Read(br, 0); err != nil {
		t.Fatal(err)
	}
	n, rerr, werr := Copy(&w, func() error { w.flushes++; return nil }, br)
	if n != 6 || rerr != nil || werr != nil || w.String() != "abcdef" || w.flushes == 0 {
		t.Errorf("Copy = %d %v %v, %q, %d flushes", n, rerr, werr, w.String(), w.flushes)
	}
	boom := errors.New("boom")
	_, rerr, werr = Copy(&w, func() error { return boom }, bufio.NewReader(strings.NewReader("x")))
	if rerr != nil || werr != boom {
		t.Errorf("flush error: %v %v", rerr, werr)
	}
}
