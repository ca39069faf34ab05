package e2e_test

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestMalformedRequests sends each malformed request on its own connection and
// expects the exact status, then the connection closed by the server, then a
// normal request on a new connection to succeed.
func TestMalformedRequests(t *testing.T) {
	t.Parallel()
	p, _ := startSite(t)
	const h = "Host: localhost\r\n"
	bigHeader := "X-Big: " + strings.Repeat("a", 64<<10) + "\r\n"
	longURI := "/" + strings.Repeat("b", 12000)
	tests := []struct {
		name   string
		req    string
		status []int // accepted statuses; 0 means "closed without a response"
	}{
		{"CL and TE", "POST / HTTP/1.1\r\n" + h + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", []int{400}},
		{"TE and CL", "POST / HTTP/1.1\r\n" + h + "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n", []int{400}},
		{"duplicate differing CL", "POST / HTTP/1.1\r\n" + h + "Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!", []int{400}},
		{"CL list differing", "POST / HTTP/1.1\r\n" + h + "Content-Length: 5, 6\r\n\r\nhello!", []int{400}},
		{"CL not a number", "POST / HTTP/1.1\r\n" + h + "Content-Length: abc\r\n\r\n", []int{400}},
		{"CL negative", "POST / HTTP/1.1\r\n" + h + "Content-Length: -1\r\n\r\n", []int{400}},
		{"CL plus sign", "POST / HTTP/1.1\r\n" + h + "Content-Length: +5\r\n\r\nhello", []int{400}},
		{"CL overflow", "POST / HTTP/1.1\r\n" + h + "Content-Length: 99999999999999999999999\r\n\r\n", []int{400}},
		{"TE not chunked", "POST / HTTP/1.1\r\n" + h + "Transfer-Encoding: gzip\r\n\r\n", []int{400, 501}},
		{"obs-fold", "GET / HTTP/1.1\r\n" + h + "X-A: b\r\n  folded\r\n\r\n", []int{400}},
		{"bare CR in value", "GET / HTTP/1.1\r\n" + h + "X-A: b\rc\r\n\r\n", []int{400}},
		{"bare CR line end", "GET / HTTP/1.1\r" + h + "\r\n", []int{400}},
		{"NUL in value", "GET / HTTP/1.1\r\n" + h + "X-A: b\x00c\r\n\r\n", []int{400}},
		{"NUL in target", "GET /a\x00b HTTP/1.1\r\n" + h + "\r\n", []int{400}},
		{"control char in value", "GET / HTTP/1.1\r\n" + h + "X-A: b\x01c\r\n\r\n", []int{400}},
		{"space in header name", "GET / HTTP/1.1\r\n" + h + "X A: b\r\n\r\n", []int{400}},
		{"space before colon", "GET / HTTP/1.1\r\n" + h + "X-A : b\r\n\r\n", []int{400}},
		{"bad char in header name", "GET / HTTP/1.1\r\n" + h + "X(A): b\r\n\r\n", []int{400}},
		{"empty header name", "GET / HTTP/1.1\r\n" + h + ": b\r\n\r\n", []int{400}},
		{"two Host headers", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", []int{400}},
		{"HTTP/1.1 without Host", "GET / HTTP/1.1\r\nAccept: */*\r\n\r\n", []int{400}},
		{"header block over limit", "GET / HTTP/1.1\r\n" + h + bigHeader + "\r\n", []int{431}},
		{"URI over limit", "GET " + longURI + " HTTP/1.1\r\n" + h + "\r\n", []int{414}},
		{"HTTP/2.0", "GET / HTTP/2.0\r\n" + h + "\r\n", []int{505}},
		{"HTTP/1.2", "GET / HTTP/1.2\r\n" + h + "\r\n", []int{505}},
		{"HTTP/3", "GET / HTTP/3\r\n" + h + "\r\n", []int{505}},
		{"malformed version", "GET / HTPT/1.1\r\n" + h + "\r\n", []int{400}},
		{"unknown method", "FOO / HTTP/1.1\r\n" + h + "\r\n", []int{501}},
		{"bad char in method", "G(T / HTTP/1.1\r\n" + h + "\r\n", []int{400}},
		{"asterisk with GET", "GET * HTTP/1.1\r\n" + h + "\r\n", []int{400}},
		{"HTTP/0.9", "GET /\r\n", []int{400, 0}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := raw(t, p.addr, tc.req, 8*time.Second)
			got := r.status()
			ok := false
			for _, s := range tc.status {
				ok = ok || got == s
			}
			if !ok {
				t.Errorf("status %d, want one of %v; response %q (read error %v)", got, tc.status, clip(r.data), r.err)
			}
			if !r.closed {
				t.Errorf("connection still open after the error response %q (read error %v)", clip(r.data), r.err)
			}
			checkServing(t, p)
		})
	}
}

func clip(s string) string {
	if len(s) > 300 {
		return s[:300] + "..."
	}
	return s
}

// TestPathTraversal asks for files outside the document root in many
// spellings; none may return them.
func TestPathTraversal(t *testing.T) {
	t.Parallel()
	base := t.TempDir()
	root := filepath.Join(base, "htdocs")
	writeFiles(t, root, siteFiles)
	const secret = "TOP-SECRET-0xdeadbeef"
	writeFiles(t, base, map[string]string{"secret.txt": secret})
	if err := os.Symlink(filepath.Join(base, "secret.txt"), filepath.Join(root, "link.txt")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(base, filepath.Join(root, "linkdir")); err != nil {
		t.Fatal(err)
	}
	conf := newConf(t, serverConf("    SymLink off"), map[string]string{"default": hostConf(root, "localhost")})
	p := start(t, t.TempDir(), "-c", conf)

	tests := []struct {
		path   string
		status []int
	}{
		{"/../secret.txt", []int{400, 403, 404}},
		{"/../../../../../../etc/passwd", []int{400, 403, 404}},
		{"/dir/../../secret.txt", []int{400, 403, 404}},
		{"/%2e%2e/secret.txt", []int{400, 403, 404}},
		{"/%2E%2E/secret.txt", []int{400, 403, 404}},
		{"/.%2e/secret.txt", []int{400, 403, 404}},
		{"/..%2fsecret.txt", []int{400, 403, 404}},
		{"/%2e%2e%2fsecret.txt", []int{400, 403, 404}},
		{"/dir%2f..%2f..%2fsecret.txt", []int{400, 403, 404}},
		{"/%2fetc%2fpasswd", []int{400, 403, 404}},
		{"/..\\secret.txt", []int{400, 403, 404}},
		{"/..%5csecret.txt", []int{400, 403, 404}},
		{"/hello.txt%00.html", []int{400, 403, 404}},
		{"/%00", []int{400, 403, 404}},
		{"/%252e%252e/secret.txt", []int{400, 403, 404}},
		{"/link.txt", []int{403}},
		{"/linkdir/secret.txt", []int{403}},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			t.Parallel()
			r := raw(t, p.addr, "GET "+tc.path+" HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n", 5*time.Second)
			if strings.Contains(r.data, secret) || strings.Contains(r.data, "root:x:0:0") {
				t.Fatalf("GET %s returned a file outside the document root: %q", tc.path, clip(r.data))
			}
			got := r.status()
			ok := false
			for _, s := range tc.status {
				ok = ok || got == s
			}
			if !ok {
				t.Errorf("GET %s = %d, want one of %v; response %q", tc.path, got, tc.status, clip(r.data))
			}
		})
	}
	t.Run("curl --path-as-is", func(t *testing.T) {
		t.Parallel()
		out := curl(t, "--path-as-is", "-o", "-", "-w", "|%{http_code}", p.base()+"/../secret.txt")
		if strings.Contains(out, secret) || strings.HasSuffix(out, "|200") {
			t.Errorf("curl --path-as-is /../secret.txt = %q", clip(out))
		}
	})
}

// TestTimeout stalls a request half way; the server must close it within
// Timeout and keep serving others meanwhile.
func TestTimeout(t *testing.T) {
	t.Parallel()
	root := newSite(t)
	conf := newConf(t, "[SERVER]\n    Listen 127.0.0.1:2001\n    Workers 1\n    Timeout 1\n    KeepAlive on\n    KeepAliveTimeout 1\n",
		map[string]string{"default": hostConf(root, "localhost")})
	p := start(t, t.TempDir(), "-c", conf)

	stalled, err := net.Dial("tcp", p.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer stalled.Close()
	began := time.Now()
	if _, err := stalled.Write([]byte("GET /hello.txt HTTP/1.1\r\nHost: loc")); err != nil {
		t.Fatal(err)
	}
	// Another client is served while the first one stalls.
	checkServing(t, p)
	if resp, body := get(t, p, "", "/a.txt"); resp.StatusCode != 200 || body != "A" {
		t.Errorf("GET /a.txt beside a stalled client = %d %q", resp.StatusCode, body)
	}

	r := readAll(stalled, 5*time.Second)
	elapsed := time.Since(began)
	if !r.closed {
		t.Fatalf("stalled connection still open after %v (Timeout 1), read %q", elapsed, r.data)
	}
	if elapsed > 3*time.Second {
		t.Errorf("stalled connection closed after %v, want about 1s (Timeout 1)", elapsed)
	}
	if s := r.status(); s != 0 && s != 408 {
		t.Errorf("stalled connection got %q, want nothing or 408", r.data)
	}

	idle, err := net.Dial("tcp", p.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	began = time.Now()
	if r := readAll(idle, 5*time.Second); !r.closed || time.Since(began) > 3*time.Second {
		t.Errorf("silent connection: closed %v after %v, want closed within about 1s", r.closed, time.Since(began))
	}
	checkServing(t, p)
}
