package http1

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// statusOf returns the Status of a *ParseError, 0 for nil, -1 for another error.
func statusOf(err error) int {
	if err == nil {
		return 0
	}
	var pe *ParseError
	if errors.As(err, &pe) {
		return pe.Status
	}
	return -1
}

const simpleGet = "GET /index.html?x=1 HTTP/1.1\r\nHost: example.com\r\nUser-Agent: t\r\n\r\n"

func TestParseErrors(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("a", DefaultMaxURI)
	tests := []struct {
		name   string
		in     string
		lim    *Limits
		status int
	}{
		{"CL and TE", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", nil, 400},
		{"TE and CL", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n", nil, 400},
		{"differing duplicate CL", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", nil, 400},
		{"differing CL list", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 6\r\n\r\n", nil, 400},
		{"CL with plus sign", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\n", nil, 400},
		{"CL with minus sign", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -5\r\n\r\n", nil, 400},
		{"CL non-digit", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5a\r\n\r\n", nil, 400},
		{"CL hex", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x5\r\n\r\n", nil, 400},
		{"CL empty", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: \r\n\r\n", nil, 400},
		{"CL inner space", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1 2\r\n\r\n", nil, 400},
		{"CL overflow", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 9223372036854775808\r\n\r\n", nil, 400},
		{"CL huge overflow", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999999\r\n\r\n", nil, 400},
		{"CL trailing comma", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5,\r\n\r\n", nil, 400},
		{"TE gzip only", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n", nil, 400},
		{"TE chunked not final", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", nil, 400},
		{"TE chunked not final across lines", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n", nil, 400},
		{"TE chunked twice", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", nil, 400},
		{"TE empty", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \r\n\r\n", nil, 400},
		{"TE unknown coding", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: br\r\n\r\n", nil, 501},
		{"TE unknown before chunked", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: foo, chunked\r\n\r\n", nil, 501},
		{"TE identity", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: identity\r\n\r\n", nil, 501},
		{"TE chunkedx", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunkedx\r\n\r\n", nil, 501},
		{"TE in HTTP/1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", nil, 400},
		{"obs-fold", "GET / HTTP/1.1\r\nHost: a\r\nX-A: b\r\n c\r\n\r\n", nil, 400},
		{"obs-fold tab", "GET / HTTP/1.1\r\nHost: a\r\nX-A: b\r\n\tc\r\n\r\n", nil, 400},
		{"whitespace before first header", "GET / HTTP/1.1\r\n Host: a\r\n\r\n", nil, 400},
		{"bare CR in value", "GET / HTTP/1.1\r\nHost: a\r\nX-A: b\rc\r\n\r\n", nil, 400},
		{"bare CR at value end", "GET / HTTP/1.1\r\nHost: a\r\nX-A: b\r\r\n\r\n", nil, 400},
		{"bare CR in request line", "GET /\r HTTP/1.1\r\nHost: a\r\n\r\n", nil, 400},
		{"bare CR after version", "GET / HTTP/1.1\r\rHost: a\r\n\r\n", nil, 400},
		{"bare LF request line", "GET / HTTP/1.1\nHost: a\r\n\r\n", nil, 400},
		{"bare LF header", "GET / HTTP/1.1\r\nHost: a\nX: y\r\n\r\n", nil, 400},
		{"bare LF everywhere", "GET / HTTP/1.1\nHost: a\n\n", nil, 400},
		{"NUL in value", "GET / HTTP/1.1\r\nHost: a\r\nX-A: b\x00c\r\n\r\n", nil, 400},
		{"NUL in name", "GET / HTTP/1.1\r\nHost: a\r\nX\x00A: b\r\n\r\n", nil, 400},
		{"NUL in target", "GET /a\x00b HTTP/1.1\r\nHost: a\r\n\r\n", nil, 400},
		{"NUL in method", "G\x00T / HTTP/1.1\r\nHost: a\r\n\r\n", nil, 400},
		{"control char in value", "GET / HTTP/1.1\r\nHost: a\r\nX-A: b\x01c\r\n\r\n", nil, 400},
		{"ESC in value", "GET / HTTP/1.1\r\nHost: a\r\nX-A: \x1b[31m\r\n\r\n", nil, 400},
		{"DEL in value", "GET / HTTP/1.1\r\nHost: a\r\nX-A: b\x7f\r\n\r\n", nil, 400},
		{"invalid method char", "G(T / HTTP/1.1\r\nHost: a\r\n\r\n", nil, 400},
		{"method with slash", "GE/T / HTTP/1.1\r\nHost: a\r\n\r\n", nil, 400},
		{"empty method", " / HTTP/1.1\r\nHost: a\r\n\r\n", nil, 400},
		{"invalid header name char", "GET / HTTP/1.1\r\nHost: a\r\nX(A): b\r\n\r\n", nil, 400},
		{"header name with slash", "GET / HTTP/1.1\r\nHost: a\r\nX/A: b\r\n\r\n", nil, 400},
		{"empty header name", "GET / HTTP/1.1\r\nHost: a\r\n: b\r\n\r\n", nil, 400},
		{"header without colon", "GET / HTTP/1.1\r\nHost: a\r\nXA\r\n\r\n", nil, 400},
		{"space before colon", "GET / HTTP/1.1\r\nHost : a\r\n\r\n", nil, 400},
		{"tab before colon", "GET / HTTP/1.1\r\nHost\t: a\r\n\r\n", nil, 400},
		{"space in header name", "GET / HTTP/1.1\r\nHost: a\r\nX A: b\r\n\r\n", nil, 400},
		{"two Host", "GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", nil, 400},
		{"two Host case", "GET / HTTP/1.1\r\nHost: a\r\nhOST: b\r\n\r\n", nil, 400},
		{"HTTP/1.1 without Host", "GET / HTTP/1.1\r\nUser-Agent: a\r\n\r\n", nil, 400},
		{"HTTP/1.1 absolute-form without Host", "GET http://a/ HTTP/1.1\r\n\r\n", nil, 400},
		{"Host with slash", "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", nil, 400},
		{"Host with userinfo", "GET / HTTP/1.1\r\nHost: u@a\r\n\r\n", nil, 400},
		{"Host with space", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", nil, 400},
		{"Host with backslash", "GET / HTTP/1.1\r\nHost: a\\b\r\n\r\n", nil, 400},
		{"head over MaxHeaderBytes", "GET / HTTP/1.1\r\nHost: a\r\nX: " + strings.Repeat("b", 100) + "\r\n\r\n", &Limits{MaxHeaderBytes: 64}, 431},
		{"head over MaxHeaderBytes incomplete", "GET / HTTP/1.1\r\nHost: a\r\nX: " + strings.Repeat("b", 100), &Limits{MaxHeaderBytes: 64}, 431},
		{"head over default MaxHeaderBytes", "GET / HTTP/1.1\r\nHost: a\r\nX: " + strings.Repeat("b", DefaultMaxHeaderBytes), nil, 431},
		{"only empty lines over limit", strings.Repeat("\r\n", 40), &Limits{MaxHeaderBytes: 64}, 431},
		{"too many headers", "GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", &Limits{MaxHeaders: 3}, 431},
		{"target over MaxURI", "GET /" + long + " HTTP/1.1\r\nHost: a\r\n\r\n", nil, 414},
		{"target over MaxURI small limit", "GET /abcdefghij HTTP/1.1\r\nHost: a\r\n\r\n", &Limits{MaxURI: 8}, 414},
		{"target over MaxURI incomplete", "GET /abcdefghij", &Limits{MaxURI: 8}, 414},
		{"target over MaxURI incomplete line", "GET /abcdefghij HTTP/1.", &Limits{MaxURI: 8}, 414},
		{"414 before 431", "GET /" + long + long + " HTTP/1.1\r\n", nil, 414},
		{"HTTP/2.0", "GET / HTTP/2.0\r\nHost: a\r\n\r\n", nil, 505},
		{"HTTP/1.2", "GET / HTTP/1.2\r\nHost: a\r\n\r\n", nil, 505},
		{"HTTP/3", "GET / HTTP/3\r\nHost: a\r\n\r\n", nil, 505},
		{"HTTP/0.9 with version", "GET / HTTP/0.9\r\n\r\n", nil, 505},
		{"HTTP/2.0 incomplete head", "GET / HTTP/2.0\r\nHost: a\r\n", nil, 505},
		{"version lower case", "GET / http/1.1\r\nHost: a\r\n\r\n", nil, 400},
		{"version garbage", "GET / HTTP/1.1x\r\nHost: a\r\n\r\n", nil, 400},
		{"version two digits", "GET / HTTP/11.1\r\nHost: a\r\n\r\n", nil, 400},
		{"version missing minor", "GET / HTTP/1.\r\nHost: a\r\n\r\n", nil, 400},
		{"version letters", "GET / HTTP/a.b\r\nHost: a\r\n\r\n", nil, 400},
		{"version truncated", "GET / HTTP/\r\nHost: a\r\n\r\n", nil, 400},
		{"version other protocol", "GET / FTP/1.1\r\nHost: a\r\n\r\n", nil, 400},
		{"space after version", "GET / HTTP/1.1 \r\nHost: a\r\n\r\n", nil, 400},
		{"unknown method", "BREW / HTTP/1.1\r\nHost: a\r\n\r\n", nil, 501},
		{"lower-case method", "get / HTTP/1.1\r\nHost: a\r\n\r\n", nil, 501},
		{"unknown method incomplete head", "PROPFIND / HTTP/1.1\r\nHost: a\r\n", nil, 501},
		{"HTTP/0.9", "GET /\r\n\r\n", nil, 400},
		{"HTTP/0.9 incomplete", "GET /\r\n", nil, 400},
		{"double space", "GET  / HTTP/1.1\r\nHost: a\r\n\r\n", nil, 400},
		{"space in target", "GET /a b HTTP/1.1\r\nHost: a\r\n\r\n", nil, 400},
		{"tab separator", "GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n", nil, 400},
		{"asterisk with GET", "GET * HTTP/1.1\r\nHost: a\r\n\r\n", nil, 400},
		{"asterisk with suffix", "OPTIONS *x HTTP/1.1\r\nHost: a\r\n\r\n", nil, 400},
		{"relative target", "GET index.html HTTP/1.1\r\nHost: a\r\n\r\n", nil, 400},
		{"ftp scheme", "GET ftp://a/ HTTP/1.1\r\nHost: a\r\n\r\n", nil, 400},
		{"absolute without slashes", "GET http:a/ HTTP/1.1\r\nHost: a\r\n\r\n", nil, 400},
		{"absolute empty authority", "GET http:///p HTTP/1.1\r\nHost: a\r\n\r\n", nil, 400},
		{"absolute userinfo", "GET http://u:p@a/ HTTP/1.1\r\nHost: a\r\n\r\n", nil, 400},
		{"CONNECT bad authority", "CONNECT a/b HTTP/1.1\r\nHost: a\r\n\r\n", nil, 400},
		{"CONNECT authority with an escape", "CONNECT 000%000 HTTP/1.0\r\n\r\n", nil, 400},
		{"bad percent in path", "GET /a%zz HTTP/1.1\r\nHost: a\r\n\r\n", nil, 400},
		{"truncated percent in query", "GET /a?b=%4 HTTP/1.1\r\nHost: a\r\n\r\n", nil, 400},
		{"bad percent in authority", "GET http://%0 HTTP/1.0\r\n\r\n", nil, 400},
		{"ASCII escape in authority", "GET http://%00 HTTP/1.0\r\n\r\n", nil, 400},
		{"escaped letter in authority", "GET http://%41.example/ HTTP/1.1\r\nHost: a\r\n\r\n", nil, 400},
		{"UTF-8 escapes in authority", "GET http://caf%C3%A9.example/ HTTP/1.1\r\nHost: a\r\n\r\n", nil, 400},
		{"bad percent in Host", "GET / HTTP/1.1\r\nHost: a%g1\r\n\r\n", nil, 400},
		{"absolute bad port", "GET http://:A HTTP/1.0\r\n\r\n", nil, 400},
		{"absolute empty host with port", "GET http://:80/ HTTP/1.0\r\n\r\n", nil, 400},
		{"Host bad port", "GET / HTTP/1.1\r\nHost: a:8x\r\n\r\n", nil, 400},
		{"Host two colons", "GET / HTTP/1.1\r\nHost: a:1:2\r\n\r\n", nil, 400},
		{"Host unclosed IPv6", "GET / HTTP/1.1\r\nHost: [::1\r\n\r\n", nil, 400},
		{"Host junk after IPv6", "GET / HTTP/1.1\r\nHost: [::1]x\r\n\r\n", nil, 400},
		{"fragment in target", "GET /a#b HTTP/1.1\r\nHost: a\r\n\r\n", nil, 400},
		{"leading LF only", "\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", nil, 400},
		{"leading space", " GET / HTTP/1.1\r\nHost: a\r\n\r\n", nil, 400},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var req Request
			n, err := Parse([]byte(tc.in), &req, tc.lim)
			if got := statusOf(err); got != tc.status || n != 0 {
				t.Fatalf("Parse(%q) = %d, %v (status %d); want status %d", tc.in, n, err, got, tc.status)
			}
		})
	}
}

func TestParseRequest(t *testing.T) {
	t.Parallel()
	type want struct {
		method     Method
		target     string
		path       string
		query      string // "<nil>" for a nil Query
		version    Version
		host       string
		cl         int64
		chunked    bool
		keepAlive  bool
		expect100  bool
		numHeaders int
	}
	tests := []struct {
		name string
		in   string
		want want
	}{
		{"simple GET", simpleGet,
			want{MethodGet, "/index.html?x=1", "/index.html", "x=1", Version11, "example.com", -1, false, true, false, 2}},
		{"HTTP/1.1 Connection close", "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
			want{MethodGet, "/", "/", "<nil>", Version11, "a", -1, false, false, false, 2}},
		{"HTTP/1.1 Connection CLOSE list", "GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade ,  CLOSE\r\n\r\n",
			want{MethodGet, "/", "/", "<nil>", Version11, "a", -1, false, false, false, 2}},
		{"HTTP/1.1 Connection on second line", "GET / HTTP/1.1\r\nHost: a\r\nConnection: te\r\nconnection: Close\r\n\r\n",
			want{MethodGet, "/", "/", "<nil>", Version11, "a", -1, false, false, false, 3}},
		{"HTTP/1.1 Connection keep-alive", "GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive\r\n\r\n",
			want{MethodGet, "/", "/", "<nil>", Version11, "a", -1, false, true, false, 2}},
		{"HTTP/1.1 closed token is not close", "GET / HTTP/1.1\r\nHost: a\r\nConnection: closed\r\n\r\n",
			want{MethodGet, "/", "/", "<nil>", Version11, "a", -1, false, true, false, 2}},
		{"HTTP/1.0 default close", "GET / HTTP/1.0\r\n\r\n",
			want{MethodGet, "/", "/", "<nil>", Version10, "", -1, false, false, false, 0}},
		{"HTTP/1.0 keep-alive", "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n",
			want{MethodGet, "/", "/", "<nil>", Version10, "", -1, false, true, false, 1}},
		{"HTTP/1.0 keep-alive in list", "GET / HTTP/1.0\r\nConnection: foo, keep-alive\r\n\r\n",
			want{MethodGet, "/", "/", "<nil>", Version10, "", -1, false, true, false, 1}},
		{"HTTP/1.0 keep-alive and close", "GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n",
			want{MethodGet, "/", "/", "<nil>", Version10, "", -1, false, false, false, 1}},
		{"HTTP/1.0 with Host", "HEAD /x HTTP/1.0\r\nHost: h:8080\r\n\r\n",
			want{MethodHead, "/x", "/x", "<nil>", Version10, "h:8080", -1, false, false, false, 1}},
		{"absolute-form", "GET http://host:8080/p/q?a=b HTTP/1.1\r\nHost: other\r\n\r\n",
			want{MethodGet, "http://host:8080/p/q?a=b", "/p/q", "a=b", Version11, "host:8080", -1, false, true, false, 1}},
		{"absolute-form no path", "GET http://host HTTP/1.1\r\nHost: host\r\n\r\n",
			want{MethodGet, "http://host", "/", "<nil>", Version11, "host", -1, false, true, false, 1}},
		{"absolute-form no path with query", "GET HTTPS://host?q HTTP/1.1\r\nHost: host\r\n\r\n",
			want{MethodGet, "HTTPS://host?q", "/", "q", Version11, "host", -1, false, true, false, 1}},
		{"absolute-form IPv6", "GET http://[::1]:80/ HTTP/1.1\r\nHost: [::1]:80\r\n\r\n",
			want{MethodGet, "http://[::1]:80/", "/", "<nil>", Version11, "[::1]:80", -1, false, true, false, 1}},
		{"OPTIONS asterisk", "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n",
			want{MethodOptions, "*", "*", "<nil>", Version11, "a", -1, false, true, false, 1}},
		{"empty query", "GET /p? HTTP/1.1\r\nHost: a\r\n\r\n",
			want{MethodGet, "/p?", "/p", "", Version11, "a", -1, false, true, false, 1}},
		{"Expect 100-continue", "PUT /f HTTP/1.1\r\nHost: a\r\nExpect: 100-Continue\r\nContent-Length: 10\r\n\r\n",
			want{MethodPut, "/f", "/f", "<nil>", Version11, "a", 10, false, true, true, 3}},
		{"Expect ignored in HTTP/1.0", "PUT /f HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 10\r\n\r\n",
			want{MethodPut, "/f", "/f", "<nil>", Version10, "", 10, false, false, false, 2}},
		{"chunked", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked\r\n\r\n",
			want{MethodPost, "/", "/", "<nil>", Version11, "a", -1, true, true, false, 2}},
		{"gzip, chunked", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, CHUNKED\r\n\r\n",
			want{MethodPost, "/", "/", "<nil>", Version11, "a", -1, true, true, false, 2}},
		{"gzip then chunked on two lines", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n",
			want{MethodPost, "/", "/", "<nil>", Version11, "a", -1, true, true, false, 3}},
		{"identical duplicate CL", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n",
			want{MethodPost, "/", "/", "<nil>", Version11, "a", 5, false, true, false, 3}},
		{"CL list of equal values", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\n\r\n",
			want{MethodPost, "/", "/", "<nil>", Version11, "a", 5, false, true, false, 2}},
		{"CL zero", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n",
			want{MethodPost, "/", "/", "<nil>", Version11, "a", 0, false, true, false, 2}},
		{"CL max int64", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 9223372036854775807\r\n\r\n",
			want{MethodPost, "/", "/", "<nil>", Version11, "a", 9223372036854775807, false, true, false, 2}},
		{"leading CRLFs", "\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n",
			want{MethodGet, "/", "/", "<nil>", Version11, "a", -1, false, true, false, 1}},
		{"empty Host", "GET / HTTP/1.1\r\nHost:\r\n\r\n",
			want{MethodGet, "/", "/", "<nil>", Version11, "", -1, false, true, false, 1}},
		{"value OWS trimmed", "GET / HTTP/1.1\r\nHost: \t a \t\r\n\r\n",
			want{MethodGet, "/", "/", "<nil>", Version11, "a", -1, false, true, false, 1}},
		{"Host IPv4 with empty port", "GET / HTTP/1.1\r\nHost: 10.0.0.1:\r\n\r\n",
			want{MethodGet, "/", "/", "<nil>", Version11, "10.0.0.1:", -1, false, true, false, 1}},
		{"Host reg-name with sub-delims", "GET / HTTP/1.1\r\nHost: a-b_c~d!$&'()*+,;=%41.example:8080\r\n\r\n",
			want{MethodGet, "/", "/", "<nil>", Version11, "a-b_c~d!$&'()*+,;=%41.example:8080", -1, false, true, false, 1}},
		{"CONNECT authority-form", "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n",
			want{MethodConnect, "example.com:443", "", "<nil>", Version11, "example.com:443", -1, false, true, false, 1}},
		{"raw UTF-8 target", "GET /caf\xc3\xa9 HTTP/1.1\r\nHost: a\r\n\r\n",
			want{MethodGet, "/caf\xc3\xa9", "/caf\xc3\xa9", "<nil>", Version11, "a", -1, false, true, false, 1}},
		{"obs-text value", "GET / HTTP/1.1\r\nHost: a\r\nX: caf\xc3\xa9\r\n\r\n",
			want{MethodGet, "/", "/", "<nil>", Version11, "a", -1, false, true, false, 2}},
		{"every method DELETE", "DELETE /r HTTP/1.1\r\nHost: a\r\n\r\n",
			want{MethodDelete, "/r", "/r", "<nil>", Version11, "a", -1, false, true, false, 1}},
		{"TRACE", "TRACE / HTTP/1.1\r\nHost: a\r\n\r\n",
			want{MethodTrace, "/", "/", "<nil>", Version11, "a", -1, false, true, false, 1}},
		{"PATCH", "PATCH / HTTP/1.1\r\nHost: a\r\n\r\n",
			want{MethodPatch, "/", "/", "<nil>", Version11, "a", -1, false, true, false, 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var req Request
			buf := []byte(tc.in + "NEXT")
			n, err := Parse(buf, &req, nil)
			if err != nil || n != len(tc.in) {
				t.Fatalf("Parse = %d, %v; want %d, nil", n, err, len(tc.in))
			}
			w := tc.want
			q := "<nil>"
			if req.Query != nil {
				q = string(req.Query)
			}
			got := want{req.Method, string(req.Target), string(req.Path), q, req.Version, string(req.Host),
				req.ContentLength, req.Chunked, req.KeepAlive, req.Expect100, len(req.Headers)}
			if got != w {
				t.Errorf("got  %+v\nwant %+v", got, w)
			}
			if req.HasBody() != (w.cl > 0 || w.chunked) {
				t.Errorf("HasBody = %v", req.HasBody())
			}
			if string(req.MethodName) != w.method.String() {
				t.Errorf("MethodName = %q", req.MethodName)
			}
		})
	}
}

func TestParseHeaders(t *testing.T) {
	t.Parallel()
	in := "GET / HTTP/1.1\r\nHost: a\r\nIf-None-Match: \"x\"\r\nIf-Modified-Since: d1\r\n" +
		"If-Range: r\r\nRange: bytes=0-1\r\nIf-Match: m\r\nIf-Unmodified-Since: d2\r\n" +
		"Upgrade: h2c\r\nRANGE: second\r\nX-Empty:\r\n\r\n"
	var req Request
	if n, err := Parse([]byte(in), &req, nil); err != nil || n != len(in) {
		t.Fatalf("Parse = %d, %v", n, err)
	}
	checks := []struct{ name, got, want string }{
		{"IfNoneMatch", string(req.IfNoneMatch), `"x"`},
		{"IfModifiedSince", string(req.IfModifiedSince), "d1"},
		{"IfRange", string(req.IfRange), "r"},
		{"Range", string(req.Range), "bytes=0-1"},
		{"IfMatch", string(req.IfMatch), "m"},
		{"IfUnmodifiedSince", string(req.IfUnmodifiedSince), "d2"},
		{"Upgrade", string(req.Upgrade), "h2c"},
		{"Header(range)", string(req.Header("range")), "bytes=0-1"},
		{"Header(IF-MATCH)", string(req.Header("IF-MATCH")), "m"},
		{"last header name", string(req.Headers[len(req.Headers)-1].Name), "X-Empty"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
	if v := req.Header("X-Empty"); v == nil || len(v) != 0 {
		t.Errorf("Header(X-Empty) = %q (nil %v), want empty non-nil", v, v == nil)
	}
	if v := req.Header("X-Missing"); v != nil {
		t.Errorf("Header(X-Missing) = %q, want nil", v)
	}
	if len(req.Headers) != 10 {
		t.Errorf("len(Headers) = %d, want 10", len(req.Headers))
	}
}

func TestParseIncompletePrefixes(t *testing.T) {
	t.Parallel()
	inputs := []string{
		simpleGet,
		"\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n",
		"POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n",
		"GET http://h/p HTTP/1.1\r\nHost: h\r\n\r\n",
		"OPTIONS * HTTP/1.0\r\n\r\n",
		browserGet,
	}
	for _, in := range inputs {
		for i := 0; i < len(in); i++ {
			var req Request
			n, err := Parse([]byte(in[:i]), &req, nil)
			if n != 0 || err != nil {
				t.Fatalf("Parse(%q) = %d, %v; want 0, nil", in[:i], n, err)
			}
		}
	}
}

func TestParsePipelined(t *testing.T) {
	t.Parallel()
	reqs := []string{
		"GET /a HTTP/1.1\r\nHost: h\r\n\r\n",
		"\r\nHEAD /b HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
		"GET /c?x HTTP/1.0\r\n\r\n",
	}
	buf := []byte(strings.Join(reqs, ""))
	paths := []string{"/a", "/b", "/c"}
	var req Request
	for i, want := range reqs {
		n, err := Parse(buf, &req, nil)
		if err != nil || n != len(want) {
			t.Fatalf("request %d: Parse = %d, %v; want %d", i, n, err, len(want))
		}
		if string(req.Path) != paths[i] {
			t.Errorf("request %d: Path = %q, want %q", i, req.Path, paths[i])
		}
		buf = buf[n:]
	}
	if len(buf) != 0 {
		t.Fatalf("left over %q", buf)
	}
	if n, err := Parse(buf, &req, nil); n != 0 || err != nil {
		t.Fatalf("Parse(empty) = %d, %v", n, err)
	}
}

func TestParseResetsRequest(t *testing.T) {
	t.Parallel()
	var req Request
	first := "POST /a?q HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nRange: bytes=1-\r\nExpect: 100-continue\r\n\r\n"
	if _, err := Parse([]byte(first), &req, nil); err != nil {
		t.Fatal(err)
	}
	second := "GET /b HTTP/1.1\r\nHost: h\r\n\r\n"
	if _, err := Parse([]byte(second), &req, nil); err != nil {
		t.Fatal(err)
	}
	if req.ContentLength != -1 || req.Range != nil || req.Expect100 || req.Query != nil || len(req.Headers) != 1 {
		t.Errorf("stale fields after second Parse: %+v", req)
	}
}

func TestParseLimitsExact(t *testing.T) {
	t.Parallel()
	in := "GET /abcd HTTP/1.1\r\nHost: a\r\nB: 1\r\n\r\n"
	lim := &Limits{MaxHeaderBytes: len(in), MaxURI: len("/abcd"), MaxHeaders: 2}
	var req Request
	if n, err := Parse([]byte(in), &req, lim); err != nil || n != len(in) {
		t.Fatalf("at the limits: Parse = %d, %v", n, err)
	}
	lim2 := *lim
	lim2.MaxHeaderBytes--
	if _, err := Parse([]byte(in), &req, &lim2); statusOf(err) != 431 {
		t.Errorf("one byte over MaxHeaderBytes: %v", err)
	}
	// An incomplete head one byte short of the limit still fits.
	if n, err := Parse([]byte(in[:len(in)-1]), &req, lim); n != 0 || err != nil {
		t.Errorf("incomplete at limit-1: %d, %v", n, err)
	}
}

func TestParseErrorMessage(t *testing.T) {
	t.Parallel()
	var req Request
	_, err := Parse([]byte("GET / HTTP/9.9\r\n\r\n"), &req, nil)
	var pe *ParseError
	if !errors.As(err, &pe) || pe.Status != 505 || !bytes.Contains([]byte(err.Error()), []byte("505")) {
		t.Fatalf("err = %v", err)
	}
}

func TestStringers(t *testing.T) {
	t.Parallel()
	tests := []struct{ got, want string }{
		{Version10.String(), "HTTP/1.0"},
		{Version11.String(), "HTTP/1.1"},
		{Version(0).String(), "Version(0)"},
		{MethodGet.String(), "GET"},
		{MethodPatch.String(), "PATCH"},
		{MethodUnknown.String(), "UNKNOWN"},
		{Method(200).String(), "UNKNOWN"},
	}
	for _, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}
