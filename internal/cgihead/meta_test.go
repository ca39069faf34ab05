package cgihead

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestMetaAppend(t *testing.T) {
	t.Parallel()
	m := &Meta{
		Method: "POST", RequestURI: "/cgi/x.cgi/a%20b?q=1", Query: "q=1",
		ScriptName: "/cgi/x.cgi", ScriptFilename: "/srv/cgi/x.cgi", PathInfo: "/a b",
		DocumentRoot: "/srv/", ServerName: "example.org", ServerPort: "8080", ServerProtocol: "HTTP/1.1",
		ServerSoftware: "gibbon", RemoteAddr: "192.0.2.1", RemotePort: "1234", RemoteUser: "alice",
		HTTPS: true, ContentLength: 5,
		Headers: []Header{
			{[]byte("User-Agent"), []byte("t")},
			{[]byte("Proxy"), []byte("http://evil")},
			{[]byte("Content-Type"), []byte("text/plain")},
			{[]byte("Content-Length"), []byte("99")},
			{[]byte("Authorization"), []byte("Basic YTpi")},
			{[]byte("X_Spoof"), []byte("1")},
			{[]byte("Accept"), []byte("a")},
			{[]byte("accept"), []byte("b")},
			{[]byte("Cookie"), []byte("a=1")},
			{[]byte("Cookie"), []byte("b=2")},
		},
	}
	env := map[string]string{}
	for _, v := range m.Append(nil) {
		if _, dup := env[v.Name]; dup {
			t.Errorf("%s twice", v.Name)
		}
		env[v.Name] = v.Value
	}
	for k, want := range map[string]string{
		"GATEWAY_INTERFACE": "CGI/1.1", "REQUEST_METHOD": "POST", "QUERY_STRING": "q=1",
		"PATH_INFO": "/a b", "PATH_TRANSLATED": "/srv/a b", "SCRIPT_NAME": "/cgi/x.cgi",
		"HTTPS": "on", "REMOTE_USER": "alice", "AUTH_TYPE": "Basic", "CONTENT_LENGTH": "5",
		"CONTENT_TYPE": "text/plain", "HTTP_USER_AGENT": "t", "HTTP_ACCEPT": "a, b",
		"HTTP_COOKIE": "a=1; b=2", "REDIRECT_STATUS": "200", "SERVER_PORT": "8080",
	} {
		if env[k] != want {
			t.Errorf("%s = %q, want %q", k, env[k], want)
		}
	}
	for _, k := range []string{"HTTP_PROXY", "HTTP_CONTENT_LENGTH", "HTTP_CONTENT_TYPE", "HTTP_X_SPOOF"} {
		if _, ok := env[k]; ok {
			t.Errorf("%s is set", k)
		}
	}
	if e := Environ([]Var{{"A", "b=c"}}); len(e) != 1 || e[0] != "A=b=c" {
		t.Errorf("Environ = %q", e)
	}
}

func TestLocate(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(root, "app", "sub"), 0o755))
	must(os.WriteFile(filepath.Join(root, "app", "index.php"), nil, 0o644))
	must(os.WriteFile(filepath.Join(root, "app", "x.cgi"), nil, 0o755))
	must(os.Symlink("x.cgi", filepath.Join(root, "app", "link.cgi")))
	for _, tc := range []struct {
		path     string
		links    bool
		name     string
		pathInfo string
		status   int
	}{
		{path: "/app/x.cgi", name: "/app/x.cgi"},
		{path: "/app/x.cgi/", name: "/app/x.cgi", pathInfo: "/"},
		{path: "/app/index.php/some/route", name: "/app/index.php", pathInfo: "/some/route"},
		{path: "/app/", name: "/app/index.php"},
		{path: "/app", status: 301},
		{path: "/app/sub/", status: 404},
		{path: "/app/nope.cgi", status: 404},
		{path: "/app/link.cgi", status: 403},
		{path: "/app/link.cgi/x", links: true, name: "/app/link.cgi", pathInfo: "/x"},
	} {
		// Uncached, then cached twice: the second answer is the
		// remembered one.
		uncached, cached := &Locator{Validity: -1}, &Locator{Validity: time.Hour}
		for _, l := range []*Locator{uncached, cached, cached} {
			s, err := l.Locate(root, tc.path, []string{"index.html", "index.php"}, tc.links)
			var se *StatusError
			switch {
			case tc.status != 0:
				if !errors.As(err, &se) || se.Status != tc.status {
					t.Errorf("%s: err %v, want status %d", tc.path, err, tc.status)
				}
			case err != nil:
				t.Errorf("%s: %v", tc.path, err)
			case s.Name != tc.name || s.PathInfo != tc.pathInfo || s.Filename != root+tc.name:
				t.Errorf("%s: %+v, want %s %s", tc.path, s, tc.name, tc.pathInfo)
			}
		}
	}
}

func TestBody(t *testing.T) {
	t.Parallel()
	h := func(kv ...string) []Header {
		var out []Header
		for i := 0; i < len(kv); i += 2 {
			out = append(out, Header{[]byte(kv[i]), []byte(kv[i+1])})
		}
		return out
	}
	if n, ok := ContentLength(h("content-length", "12")); !ok || n != 12 {
		t.Errorf("ContentLength = %d %v", n, ok)
	}
	for _, hs := range [][]Header{nil, h("Content-Length", "x"), h("Content-Length", "3", "Transfer-Encoding", "chunked")} {
		if _, ok := ContentLength(hs); ok {
			t.Errorf("ContentLength(%q) ok", hs)
		}
	}
	f, n, err := Spool(strings.NewReader("hello"), 10)
	if err != nil || n != 5 {
		t.Fatalf("Spool = %d, %v", n, err)
	}
	b := make([]byte, 10)
	k, _ := f.Read(b)
	f.Close()
	if string(b[:k]) != "hello" {
		t.Errorf("spooled %q", b[:k])
	}
	var se *StatusError
	if _, _, err := Spool(strings.NewReader("hello world"), 10); !errors.As(err, &se) || se.Status != 413 {
		t.Errorf("Spool over limit: %v", err)
	}
}
