package mandril

import (
	"strings"
	"testing"

	"gibbon/http1"
	"gibbon/stage"
)

// FuzzOnRequest feeds arbitrary paths, hosts and referers (all from the
// client) to the request rules: no panic, and the URL rule agrees with a
// plain lower-case search.
func FuzzOnRequest(f *testing.F) {
	f.Add("/private/x", "example.com", "http://example.com/")
	f.Add("/img/a", "[::1]:80", "http://[::1/")
	f.Add("/IMG/", "", "%zz")
	m := &Mandril{urls: []string{"/private"}, hotlink: []string{"/img/"}}
	f.Fuzz(func(t *testing.T, path, host, referer string) {
		r := &stage.Request{Path: path, Host: []byte(host),
			Headers: []http1.Header{{Name: []byte("Referer"), Value: []byte(referer)}}}
		w := stage.NewRecorder()
		v := m.OnRequest(w, r)
		if strings.Contains(asciiLower(path), "/private") && v != stage.Handled {
			t.Errorf("path %q passed the URL rule", path)
		}
	})
}

func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
