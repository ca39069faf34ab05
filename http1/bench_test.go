package http1

import "testing"

// browserGet is a realistic browser request with 14 header lines.
const browserGet = "GET /assets/css/site.min.css?v=20240301 HTTP/1.1\r\n" +
	"Host: www.example.com\r\n" +
	"Connection: keep-alive\r\n" +
	"sec-ch-ua: \"Chromium\";v=\"122\", \"Not(A:Brand\";v=\"24\", \"Google Chrome\";v=\"122\"\r\n" +
	"sec-ch-ua-mobile: ?0\r\n" +
	"User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36\r\n" +
	"sec-ch-ua-platform: \"Linux\"\r\n" +
	"Accept: text/css,*/*;q=0.1\r\n" +
	"Sec-Fetch-Site: same-origin\r\n" +
	"Sec-Fetch-Mode: no-cors\r\n" +
	"Sec-Fetch-Dest: style\r\n" +
	"Referer: https://www.example.com/\r\n" +
	"Accept-Encoding: gzip, deflate, br, zstd\r\n" +
	"Accept-Language: en-GB,en;q=0.9,de;q=0.8\r\n" +
	"Cookie: session=3f9a0c1e5b7d; theme=dark; _ga=GA1.1.123456789.1700000000\r\n" +
	"If-None-Match: \"5f3a-1b2c\"\r\n" +
	"If-Modified-Since: Tue, 27 Feb 2024 10:00:00 GMT\r\n" +
	"\r\n"

// appendResponseHead builds a typical static-file response head.
func appendResponseHead(dst, etag []byte) []byte {
	dst = AppendStatusLine(dst, Version11, 200)
	dst = AppendHeaderString(dst, "Server", "gibbon")
	dst = AppendHeaderString(dst, "Date", "Tue, 27 Feb 2024 10:00:00 GMT")
	dst = AppendHeaderString(dst, "Content-Type", "text/css; charset=utf-8")
	dst = AppendHeaderInt(dst, "Content-Length", 48213)
	dst = AppendHeaderString(dst, "Last-Modified", "Tue, 27 Feb 2024 09:00:00 GMT")
	dst = AppendHeader(dst, "ETag", etag)
	dst = AppendHeaderString(dst, "Accept-Ranges", "bytes")
	return append(dst, '\r', '\n')
}

func BenchmarkParse(b *testing.B) {
	buf := []byte(browserGet)
	var req Request
	b.ReportAllocs()
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		if _, err := Parse(buf, &req, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseSmall(b *testing.B) {
	buf := []byte(simpleGet)
	var req Request
	b.ReportAllocs()
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		if _, err := Parse(buf, &req, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppendResponseHead(b *testing.B) {
	dst := make([]byte, 0, 512)
	etag := []byte(`"5f3a-1b2c"`)
	b.ReportAllocs()
	b.SetBytes(int64(len(appendResponseHead(nil, etag))))
	for b.Loop() {
		dst = appendResponseHead(dst[:0], etag)
	}
}

func BenchmarkChunkedDecode(b *testing.B) {
	var src []byte
	for range 16 {
		src = AppendChunkHeader(src, 1000)
		src = append(src, make([]byte, 1000)...)
		src = append(src, '\r', '\n')
	}
	src = append(src, LastChunk...)
	dst := make([]byte, 16000)
	var d ChunkedDecoder
	b.ReportAllocs()
	b.SetBytes(int64(len(src)))
	for b.Loop() {
		d.Reset()
		if _, _, err := d.Decode(dst, src); err != nil || !d.Done() {
			b.Fatal(err)
		}
	}
}
