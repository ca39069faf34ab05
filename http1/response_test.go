package http1

import (
	"strconv"
	"testing"
)

func TestAppendStatusLine(t *testing.T) {
	t.Parallel()
	tests := []struct {
		v    Version
		code int
		want string
	}{
		{Version11, 200, "HTTP/1.1 200 OK\r\n"},
		{Version10, 404, "HTTP/1.0 404 Not Found\r\n"},
		{Version11, 431, "HTTP/1.1 431 Request Header Fields Too Large\r\n"},
		{Version11, 451, "HTTP/1.1 451 Unavailable For Legal Reasons\r\n"},
		{0, 505, "HTTP/1.1 505 HTTP Version Not Supported\r\n"},
		{Version11, 599, "HTTP/1.1 599 \r\n"},
		{Version11, 1000, "HTTP/1.1 1000 \r\n"},
	}
	for _, tc := range tests {
		if got := string(AppendStatusLine([]byte("x"), tc.v, tc.code)); got != "x"+tc.want {
			t.Errorf("AppendStatusLine(%v, %d) = %q, want %q", tc.v, tc.code, got, tc.want)
		}
	}
}

func TestStatusText(t *testing.T) {
	t.Parallel()
	codes := []int{100, 101, 200, 201, 202, 203, 204, 205, 206, 300, 301, 302, 303, 304, 305, 307, 308,
		400, 401, 402, 403, 404, 405, 406, 407, 408, 409, 410, 411, 412, 413, 414, 415, 416, 417, 421,
		422, 426, 428, 429, 431, 451, 500, 501, 502, 503, 504, 505, 511}
	for _, c := range codes {
		if StatusText(c) == "" {
			t.Errorf("StatusText(%d) is empty", c)
		}
	}
	for _, c := range []int{0, 99, 306, 418, 600, -1} {
		if s := StatusText(c); s != "" {
			t.Errorf("StatusText(%d) = %q, want empty", c, s)
		}
	}
}

func TestAppendHeaders(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		got  []byte
		want string
	}{
		{"bytes", AppendHeader(nil, "ETag", []byte(`"a"`)), "ETag: \"a\"\r\n"},
		{"string", AppendHeaderString(nil, "Content-Type", "text/html"), "Content-Type: text/html\r\n"},
		{"empty", AppendHeaderString(nil, "X", ""), "X: \r\n"},
		{"int", AppendHeaderInt(nil, "Content-Length", 1234567), "Content-Length: 1234567\r\n"},
		{"int zero", AppendHeaderInt(nil, "Content-Length", 0), "Content-Length: 0\r\n"},
		{"CRLF neutralised", AppendHeader(nil, "Location", []byte("/a\r\nSet-Cookie: x")), "Location: /a  Set-Cookie: x\r\n"},
		{"NUL neutralised", AppendHeaderString(nil, "X", "a\x00b\tc"), "X: a b\tc\r\n"},
		{"chunk header", AppendChunkHeader(nil, 255), "ff\r\n"},
		{"chunk header 1", AppendChunkHeader(nil, 1), "1\r\n"},
		{"chunk header big", AppendChunkHeader(nil, 1<<20), strconv.FormatInt(1<<20, 16) + "\r\n"},
	}
	for _, tc := range tests {
		if string(tc.got) != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, tc.got, tc.want)
		}
	}
	if LastChunk != "0\r\n\r\n" {
		t.Errorf("LastChunk = %q", LastChunk)
	}
}

func TestAppendResponseHeadParsesBack(t *testing.T) {
	t.Parallel()
	head := appendResponseHead(nil, []byte(`"e"`))
	want := "HTTP/1.1 200 OK\r\nServer: gibbon\r\nDate: Tue, 27 Feb 2024 10:00:00 GMT\r\n" +
		"Content-Type: text/css; charset=utf-8\r\nContent-Length: 48213\r\n" +
		"Last-Modified: Tue, 27 Feb 2024 09:00:00 GMT\r\nETag: \"e\"\r\nAccept-Ranges: bytes\r\n\r\n"
	if string(head) != want {
		t.Fatalf("got %q", head)
	}
}
