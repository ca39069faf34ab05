package http1_test

import (
	"fmt"

	"gibbon/http1"
)

func ExampleParse() {
	buf := []byte("GET /docs/?page=2 HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n")
	var req http1.Request
	n, err := http1.Parse(buf, &req, nil)
	if err != nil {
		fmt.Println("error:", err) // answer with err.(*http1.ParseError).Status, then close
		return
	}
	if n == 0 {
		fmt.Println("need more bytes")
		return
	}
	fmt.Println(req.Method, string(req.Path), string(req.Query), string(req.Host), req.KeepAlive)
	// Output: GET /docs/ page=2 example.com false
}

func ExampleChunkedDecoder() {
	src := []byte("5\r\nhello\r\n6;ext\r\n world\r\n0\r\n\r\n")
	var d http1.ChunkedDecoder
	body := make([]byte, 64)
	nsrc, ndst, err := d.Decode(body, src)
	fmt.Println(nsrc == len(src), d.Done(), err, string(body[:ndst]))
	// Output: true true <nil> hello world
}

func ExampleAppendStatusLine() {
	dst := make([]byte, 0, 256)
	dst = http1.AppendStatusLine(dst, http1.Version11, 404)
	dst = http1.AppendHeaderString(dst, "Content-Type", "text/plain")
	dst = http1.AppendHeaderInt(dst, "Content-Length", 9)
	dst = append(dst, "\r\n"...)
	fmt.Printf("%q\n", dst)
	// Output: "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: 9\r\n\r\n"
}
