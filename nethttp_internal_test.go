package gibbon

import (
	"bufio"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"gibbon/stage"
	"gibbon/stage/stagetest"
)

// TestParseRequestURI compares parseRequestURI with url.ParseRequestURI
// for every byte in a path and in a query, and for targets of each form.
func TestParseRequestURI(t *testing.T) {
	targets := []string{
		"/", "/hello.txt", "/a/b?x=1&y=2", "/a?", "/a??", "/a?b?", "?", "/?#", "/a#frag",
		"//double", "/a%20b", "/a%2Fb", "/a%zz", "/caf\u00e9", "/a b", "/a\x7fb", "/q?\x01",
		"*", "http://example.com/x?y", "example.com:80", "/a;b=c,d:e@f$g&h+i~j", "",
	}
	for c := range 256 {
		targets = append(targets, "/a"+string(rune(c))+"b", "/a"+string([]byte{byte(c)})+"b", "/a?"+string([]byte{byte(c)}))
	}
	for _, target := range targets {
		want, werr := url.ParseRequestURI(target)
		var got url.URL
		gerr := parseRequestURI(&got, target)
		if (werr != nil) != (gerr != nil) || werr == nil && !reflect.DeepEqual(got, *want) {
			t.Errorf("%q: got %#v, %v; url.ParseRequestURI: %#v, %v", target, got, gerr, want, werr)
		}
	}
}

// FuzzParseRequestURI checks parseRequestURI against url.ParseRequestURI.
func FuzzParseRequestURI(f *testing.F) {
	for _, s := range []string{"/", "/a/b?c=d", "/a?", "/%41", "//x", "*", "http://h/p"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, target string) {
		want, werr := url.ParseRequestURI(target)
		var got url.URL
		gerr := parseRequestURI(&got, target)
		if (werr != nil) != (gerr != nil) || werr == nil && !reflect.DeepEqual(got, *want) {
			t.Errorf("%q: got %#v, %v; url.ParseRequestURI: %#v, %v", target, got, gerr, want, werr)
		}
	})
}

// TestAppendCanonicalKey compares appendCanonicalKey with
// http.CanonicalHeaderKey.
func TestAppendCanonicalKey(t *testing.T) {
	names := []string{"host", "HOST", "content-type", "X-FORWARDED-FOR", "x-a-b", "-x", "x-", "a--b",
		"accept-encoding", "sec-ch-ua", "x_y", "1-a", "with space", "bad\"quote", "caf\u00e9", "", "ÿ-a", "a:b"}
	for _, name := range names {
		got := string(appendCanonicalKey(nil, []byte(name)))
		if want := http.CanonicalHeaderKey(name); got != want {
			t.Errorf("%q: got %q, want %q", name, got, want)
		}
	}
}

// browserHeaders are the header lines a browser sends with a page
// request.
var browserHeaders = []string{
	"Host: example.com:8080",
	"Connection: keep-alive",
	"sec-ch-ua: \"Chromium\";v=\"124\"",
	"sec-ch-ua-mobile: ?0",
	"User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/124.0 Safari/537.36",
	"Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
	"Sec-Fetch-Site: none",
	"Accept-Encoding: gzip, deflate, br",
	"Accept-Language: en-US,en;q=0.9",
	"Cookie: a=1",
	"cookie: b=2",
}

// TestHTTPRequest compares the request the adapter builds with the one
// net/http's http.ReadRequest reads from the same bytes.
func TestHTTPRequest(t *testing.T) {
	cases := []struct {
		method, target string
		headers        []string
	}{
		{"GET", "/hello.txt", []string{"Host: x"}},
		{"GET", "/items/9?sort=asc&x=%20y", browserHeaders},
		{"POST", "/form", []string{"Host: x", "Content-Type: text/plain", "Content-Length: 3"}},
		{"PUT", "/chunks", []string{"Host: x", "Transfer-Encoding: chunked", "x-trace: a", "X-Trace: b"}},
		{"PROPFIND", "/a%2Fb/c", []string{"Host: x", "Depth: 1"}},
	}
	for _, tc := range cases {
		raw := tc.method + " " + tc.target + " HTTP/1.1\r\n" + strings.Join(tc.headers, "\r\n") + "\r\n\r\n"
		want, err := http.ReadRequest(bufio.NewReader(strings.NewReader(raw)))
		if err != nil {
			t.Fatal(err)
		}
		r := stagetest.NewRequest(nil, tc.method, tc.target, tc.headers...)
		r.Body = strings.NewReader("abc")
		got, err := new(httpExchange).request(r)
		if err != nil {
			t.Fatalf("%s %s: %v", tc.method, tc.target, err)
		}
		if got.Method != want.Method || got.RequestURI != want.RequestURI || got.Host != want.Host ||
			got.Proto != want.Proto || got.ContentLength != want.ContentLength ||
			!reflect.DeepEqual(got.TransferEncoding, want.TransferEncoding) {
			t.Errorf("%s %s: got %s %q %q %s %d %q; net/http: %s %q %q %s %d %q", tc.method, tc.target,
				got.Method, got.RequestURI, got.Host, got.Proto, got.ContentLength, got.TransferEncoding,
				want.Method, want.RequestURI, want.Host, want.Proto, want.ContentLength, want.TransferEncoding)
		}
		want.URL.Host = want.Host // net/http's server sets it too
		if !reflect.DeepEqual(got.URL, want.URL) {
			t.Errorf("%s %s: URL %#v; net/http: %#v", tc.method, tc.target, got.URL, want.URL)
		}
		if !reflect.DeepEqual(got.Header, want.Header) {
			t.Errorf("%s %s: Header %v; net/http: %v", tc.method, tc.target, got.Header, want.Header)
		}
		if b, _ := io.ReadAll(got.Body); (want.ContentLength != 0) != (string(b) == "abc") {
			t.Errorf("%s %s: body %q for length %d", tc.method, tc.target, b, want.ContentLength)
		}
	}
}

// helloHTTPRoute is the route "/" to a net/http hello-world handler
// through the adapter.
func helloHTTPRoute() *route {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, "Hello, World!")
	})
	rt := &route{pattern: "/"}
	rt.init(&httpHandler{h: h})
	return rt
}

// BenchmarkServeHTTP measures the adapter alone: building the
// *http.Request, the ResponseWriter and the context around a hello-world
// handler, over a stage.ResponseRecorder (no socket). "wrk" sends only a
// Host header, as the benchmark's load generator does; "browser" the
// headers of a page request.
func BenchmarkServeHTTP(b *testing.B) {
	rt := helloHTTPRoute()
	for _, bc := range []struct {
		name    string
		headers []string
	}{{"wrk", []string{"Host: 127.0.0.1:8080"}}, {"browser", browserHeaders}} {
		b.Run(bc.name, func(b *testing.B) {
			r := stagetest.NewRequest(nil, "GET", "/hello.txt", bc.headers...)
			w := stage.NewRecorder()
			b.ReportAllocs()
			for b.Loop() {
				w.Reset()
				if err := rt.ServeGibbon(w, r); err != nil || w.Code != 200 {
					b.Fatal(w.Code, err)
				}
			}
		})
	}
}
