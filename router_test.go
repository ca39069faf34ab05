package gibbon

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"gibbon/http1"
	"gibbon/stage"
)

// TestRouterMatchesServeMux routes a table of requests through the router
// and through net/http.ServeMux with the same patterns, and compares the
// pattern chosen, the wildcard values, and the 404/405/301 answers.
func TestRouterMatchesServeMux(t *testing.T) {
	patterns := []string{
		"/",
		"/{$}",
		"/a",
		"/a/",
		"/a/b",
		"/a/{x}",
		"/a/{x}/c",
		"/a/{x}/{rest...}",
		"/b/{name}",
		"GET /b/{name}/edit",
		"POST /b/{name}/edit",
		"GET /c/",
		"GET /c/d/{$}",
		"example.com/",
		"example.com/a/b",
		"GET example.com/e/{id}",
		"/files/{path...}",
		"DELETE /only/delete",
		"/dir/",
	}
	var rr router
	rr.init()
	mux := http.NewServeMux()
	for _, p := range patterns {
		if err := rr.add(p, nil, false); err != nil {
			t.Fatal(err)
		}
		mux.HandleFunc(p, func(http.ResponseWriter, *http.Request) {})
	}
	requests := []struct{ method, host, path string }{
		{"GET", "x", "/"},
		{"GET", "x", "/zzz"},
		{"GET", "x", "/a"},
		{"GET", "x", "/a/"},
		{"GET", "x", "/a/b"},
		{"GET", "x", "/a/q"},
		{"GET", "x", "/a/q/c"},
		{"GET", "x", "/a/q/c/d"},
		{"GET", "x", "/a/q/z/y"},
		{"GET", "x", "/b/joe"},
		{"GET", "x", "/b/joe/edit"},
		{"HEAD", "x", "/b/joe/edit"},
		{"POST", "x", "/b/joe/edit"},
		{"PUT", "x", "/b/joe/edit"},
		{"GET", "x", "/b"},
		{"GET", "x", "/c/"},
		{"POST", "x", "/c/x"},
		{"GET", "x", "/c/d/"},
		{"GET", "x", "/c/d"},
		{"GET", "example.com", "/"},
		{"GET", "example.com:8080", "/a/b"},
		{"GET", "example.com", "/a/q"},
		{"GET", "example.com", "/e/5"},
		{"POST", "example.com", "/e/5"},
		{"GET", "x", "/files/"},
		{"GET", "x", "/files/a/b/c.txt"},
		{"GET", "x", "/files"},
		{"GET", "x", "/only/delete"},
		{"DELETE", "x", "/only/delete"},
		{"GET", "x", "/dir"},
	}
	for _, tc := range requests {
		name := tc.method + " " + tc.host + tc.path
		hr := httptest.NewRequest(tc.method, "http://"+tc.host+tc.path, nil)
		_, want := mux.Handler(hr)
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, hr)
		sr := &stage.Request{MethodName: []byte(tc.method), Host: []byte(tc.host), Path: tc.path, Target: []byte(tc.path)}
		if tc.method == "HEAD" {
			sr.Method = http1.MethodHead
		}
		rule := rr.Route(sr)
		var got string
		switch {
		case rule == nil:
			got = ""
		case rule == &rr.redirect.rule:
			got = "redirect"
		case rule == &rr.refuse.rule:
			got = "405"
		default:
			got = rule.Handler.(*route).pattern
		}
		switch rec.Code {
		case 404:
			want = ""
		case 405:
			want = "405"
			w := stage.NewRecorder()
			rr.refuse.h.serve(w, sr, nil)
			if a := w.Fields.Get("Allow"); a != rec.Header().Get("Allow") {
				t.Errorf("%s: Allow %q, ServeMux %q", name, a, rec.Header().Get("Allow"))
			}
		case 301, 307:
			want = "redirect"
			w := stage.NewRecorder()
			rr.redirect.h.serve(w, sr, nil)
			if l := w.Fields.Get("Location"); l != rec.Header().Get("Location") {
				t.Errorf("%s: Location %q, ServeMux %q", name, l, rec.Header().Get("Location"))
			}
		}
		if got != want {
			t.Errorf("%s: router %q, ServeMux %q", name, got, want)
			continue
		}
		if rule == nil || got == "405" || got == "redirect" {
			continue
		}
		var p params
		rule.Handler.(*route).params(tc.path, &p)
		for _, s := range rule.Handler.(*route).segs {
			if (s.wild || s.multi) && s.s != "" {
				if v, w := p.get(s.s), hr.PathValue(s.s); v != w {
					t.Errorf("%s: {%s} = %q, ServeMux %q", name, s.s, v, w)
				}
			}
		}
	}
}

func TestPatternErrors(t *testing.T) {
	for _, p := range []string{"", "GET", "a", "/{x", "/{x}/{x}", "/{x...}/a", "/a{x}", "/{1x}", "/a/{$}/b", "G@T /a"} {
		if _, err := parsePattern(p); err == nil {
			t.Errorf("parsePattern(%q): no error", p)
		}
	}
	var rr router
	rr.init()
	if err := rr.add("/a/{x}", nil, false); err != nil {
		t.Fatal(err)
	}
	if err := rr.add("/a/{y}", nil, false); err == nil || !strings.Contains(err.Error(), "conflicts") {
		t.Errorf("duplicate: %v", err)
	}
}
