package e2e_test

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// startH2Plugins starts gibbon with an h2c listener (HTTP/1.x and HTTP/2
// with prior knowledge or Upgrade), plugins.load naming load, site lines
// in the default host and files, as pluginConf does. It returns the
// process, the config directory and the document root.
func startH2Plugins(t *testing.T, load []string, site string, files map[string]string) (*proc, string, string) {
	t.Helper()
	dir, root := pluginConf(t, load, site, files)
	writeFiles(t, dir, map[string]string{"gibbon.conf": strings.Replace(serverConf(), "Listen 127.0.0.1:2001", "Listen 127.0.0.1:2001 h2c", 1)})
	return start(t, t.TempDir(), "-c", dir), dir, root
}

// The plugins run per HTTP/2 stream on the real binary: auth (401, then
// 200 with credentials), rewrite, dirlisting, CGI (a shell script reading
// its body, through curl --http2-prior-knowledge) and the logger, one
// line per request.
func TestH2Plugins(t *testing.T) {
	t.Parallel()
	curlBin := needCurl(t)
	users := filepath.Join(t.TempDir(), "users")
	gibbonPasswd(t, "", "-c", "-s", users, "sha", "sha-secret")
	site := "[AUTH]\n    Location /dir/\n    Title \"Private\"\n    Users " + users + "\n" +
		"[REWRITE]\n    Rule ^/greeting$ /hello.txt last\n" +
		"[LOGGER]\n    AccessLog access.log\n    Format combined\n" +
		"[HANDLERS]\n    Match ^/cgi-bin/ cgi\n"
	script := "#!/bin/sh\nprintf 'Content-Type: text/plain\\r\\n\\r\\n'\n" +
		"echo \"$SERVER_PROTOCOL $REQUEST_METHOD $CONTENT_LENGTH $QUERY_STRING\"\ncat\n"
	p, dir, root := startH2Plugins(t, []string{"auth", "rewrite", "dirlisting", "logger", "cgi"}, site, nil)
	writeFiles(t, root, map[string]string{"cgi-bin/echo.cgi": script})
	if err := os.Chmod(filepath.Join(root, "cgi-bin", "echo.cgi"), 0o755); err != nil {
		t.Fatal(err)
	}
	c := h2Client(nil)
	defer c.CloseIdleConnections()
	check := func(path string, status int, body string, auth bool) *http.Response {
		t.Helper()
		req, _ := http.NewRequest("GET", p.base()+path, nil)
		if auth {
			req.SetBasicAuth("sha", "sha-secret")
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		bb, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatalf("GET %s: reading body: %v", path, err)
		}
		b := string(bb)
		if resp.ProtoMajor != 2 || resp.StatusCode != status || !strings.Contains(b, body) {
			t.Errorf("GET %s: %s %d %q, want %d %q", path, resp.Proto, resp.StatusCode, clipText(b), status, body)
		}
		return resp
	}
	if resp := check("/dir/index.html", 401, "", false); !strings.Contains(resp.Header.Get("WWW-Authenticate"), "Private") {
		t.Errorf("401 without WWW-Authenticate: %v", resp.Header)
	}
	check("/dir/index.html", 200, siteFiles["dir/index.html"], true)
	check("/greeting", 200, siteFiles["hello.txt"], false)
	check("/nodir/", 200, "file.txt", false)
	got := curl(t, "--http2-prior-knowledge", "-w", " %{http_version} %{http_code}", "--data-binary", "hello over h2",
		p.base()+"/cgi-bin/echo.cgi?q=1")
	want := "HTTP/2.0 POST 13 q=1\nhello over h2 2 200"
	if got != want {
		t.Errorf("CGI over h2 (%s): %q, want %q", curlBin, got, want)
	}
	stop(t, p)
	log := lines(t, filepath.Join(dir, "access.log"))
	sizes := []int64{-1, int64(len(siteFiles["dir/index.html"])), int64(len(siteFiles["hello.txt"])), -1, int64(len(want) - len(" 2 200"))}
	if len(log) != len(sizes)+1 { // the startup probe (HTTP/1.1) and one line per stream
		t.Fatalf("access log: %d lines, want %d:\n%s", len(log), len(sizes)+1, strings.Join(log, "\n"))
	}
	// The probe's line is written once its response is sent, so it may
	// come after the first streams' lines: it is taken out wherever it is.
	streams := slices.DeleteFunc(slices.Clone(log), func(l string) bool { return strings.Contains(l, " HTTP/1.1\" ") })
	if len(streams) != len(sizes) {
		t.Fatalf("access log: %d HTTP/2 lines, want %d:\n%s", len(streams), len(sizes), strings.Join(log, "\n"))
	}
	for i, l := range streams {
		status, n := parseLogLine(t, "combined", l)
		if !strings.Contains(l, " HTTP/2.0\" ") || status == 401 && n == 0 || sizes[i] >= 0 && n != sizes[i] {
			t.Errorf("access log line %q, want HTTP/2.0 and %d bytes", l, sizes[i])
		}
	}
}

// h2spec passes on an h2c listener with plugins hooking stages 20 and 40.
func TestH2SpecPlugins(t *testing.T) {
	t.Parallel()
	bin := needTool(t, "h2spec", "go install github.com/summerwind/h2spec/cmd/h2spec@v2.2.1+incompatible")
	p, _, _ := startH2Plugins(t, []string{"rewrite", "logger"}, "[REWRITE]\n    Rule ^/greeting$ /hello.txt last\n[LOGGER]\n    AccessLog access.log\n", nil)
	runH2Spec(t, bin, p.addr, false)
}
