package http1

import (
	"bufio"
	"bytes"
	"net/http"
	"testing"
)

// FuzzParseVsNetHTTP cross-checks requests Parse accepts against
// net/http.ReadRequest: net/http must accept them too and agree on the
// method, target, Host and body framing.
func FuzzParseVsNetHTTP(f *testing.F) {
	for _, s := range parseSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var req Request
		n, err := Parse(data, &req, nil)
		if err != nil || n == 0 {
			return
		}
		// Deliberate differences: net/http does not skip leading empty lines,
		// refuses codings before chunked and lists in Content-Length.
		for _, h := range req.Headers {
			if eqLower(h.Name, "transfer-encoding") && !eqLower(h.Value, "chunked") ||
				eqLower(h.Name, "content-length") && bytes.IndexByte(h.Value, ',') >= 0 {
				return
			}
		}
		head := data[skipEmptyLines(data):n]
		hr, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(head)))
		if err != nil {
			t.Fatalf("net/http refuses what Parse accepts: %v\n%q", err, head)
		}
		if hr.Method != string(req.MethodName) || hr.RequestURI != string(req.Target) {
			t.Fatalf("request line differs: %q %q vs %q %q", hr.Method, hr.RequestURI, req.MethodName, req.Target)
		}
		if hr.Host != string(req.Host) && req.Method != MethodConnect {
			t.Fatalf("Host differs: %q vs %q", hr.Host, req.Host)
		}
		chunked := len(hr.TransferEncoding) > 0 && hr.TransferEncoding[0] == "chunked"
		if chunked != req.Chunked {
			t.Fatalf("chunked differs: %v vs %v", hr.TransferEncoding, req.Chunked)
		}
		if !req.Chunked && req.ContentLength >= 0 && hr.ContentLength != req.ContentLength {
			t.Fatalf("Content-Length differs: %d vs %d", hr.ContentLength, req.ContentLength)
		}
		if hr.Close == req.KeepAlive {
			t.Fatalf("keep-alive differs: net/http Close=%v, KeepAlive=%v", hr.Close, req.KeepAlive)
		}
	})
}
