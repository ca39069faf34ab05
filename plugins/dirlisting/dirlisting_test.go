package dirlisting_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "gibbon/plugins/dirlisting"
	"gibbon/stage"
	"gibbon/stage/stagetest"
)

// site builds a document root:
//
//	htdocs/sub/ (dir)  htdocs/a b#?.txt (3 bytes)  htdocs/<b>&"x.txt (2048 bytes)
//	htdocs/.hidden     htdocs/link -> sub          htdocs/c:d
func site(t *testing.T, files map[string]string) (*stage.Pipeline, string) {
	t.Helper()
	files["plugins.load"] = "[PLUGINS]\n    Load dirlisting\n"
	cfg := stagetest.Config(t, files)
	root := cfg.Hosts[0].DocumentRoot
	must(t, os.MkdirAll(filepath.Join(root, "sub", "deep"), 0o755))
	must(t, os.WriteFile(filepath.Join(root, "a b#?.txt"), []byte("abc"), 0o644))
	must(t, os.WriteFile(filepath.Join(root, `<b>&"x.txt`), make([]byte, 2048), 0o644))
	must(t, os.WriteFile(filepath.Join(root, ".hidden"), nil, 0o644))
	must(t, os.WriteFile(filepath.Join(root, "c:d"), nil, 0o644))
	must(t, os.Symlink("sub", filepath.Join(root, "link")))
	mtime := time.Date(2024, 3, 5, 7, 9, 0, 0, time.Local)
	must(t, os.Chtimes(filepath.Join(root, "a b#?.txt"), mtime, mtime))
	p, err := stage.Load(cfg, stage.Env{})
	must(t, err)
	t.Cleanup(func() { p.Cleanup() })
	return p, root
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func serve(t *testing.T, p *stage.Pipeline, method, target string) (*stage.ResponseRecorder, error) {
	t.Helper()
	w := stage.NewRecorder()
	r := stagetest.NewRequest(p.Hosts()[0].VHost, method, target)
	ok, err := p.ServeDirectory(w, r)
	if !ok {
		t.Fatal("no directory lister loaded")
	}
	return w, err
}

func TestHTML(t *testing.T) {
	t.Parallel()
	p, _ := site(t, map[string]string{})
	w, err := serve(t, p, "GET", "/")
	must(t, err)
	body := w.Body.String()
	if w.Code != 200 || w.Fields.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Fatalf("status %d type %q", w.Code, w.Fields.Get("Content-Type"))
	}
	for _, want := range []string{
		"<title>Index of /</title>",
		`<a href="sub/" title="sub/">sub/</a></td><td>`,
		`<a href="a%20b%23%3F.txt" title="a b#?.txt">a b#?.txt</a></td><td>05-Mar-2024 07:09</td><td class="size">3b</td>`,
		`<a href="%3Cb%3E&amp;%22x.txt" title="&lt;b&gt;&amp;&#34;x.txt">&lt;b&gt;&amp;&#34;x.txt</a>`,
		`<td class="size">2.0K</td>`,
		`<a href="./c:d"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("listing lacks %q:\n%s", want, body)
		}
	}
	for _, bad := range []string{".hidden", "link", `href="../"`} {
		if strings.Contains(body, bad) {
			t.Errorf("listing shows %q", bad)
		}
	}
	// Directories first, then files by name.
	if i, j := strings.Index(body, ">sub/<"), strings.Index(body, ">a b#?.txt<"); i < 0 || j < i {
		t.Errorf("sub/ must come before the files")
	}
	if i, j := strings.Index(body, `>&lt;b&gt;`), strings.Index(body, ">a b#?.txt<"); i > j {
		t.Errorf("files must be sorted by name (\"<\" < \"a\")")
	}
}

func TestSubdirAndParent(t *testing.T) {
	t.Parallel()
	p, _ := site(t, map[string]string{})
	w, err := serve(t, p, "GET", "/sub/")
	must(t, err)
	body := w.Body.String()
	if !strings.Contains(body, `<a href="../" title="../">../</a>`) || !strings.Contains(body, `href="deep/"`) {
		t.Errorf("listing of /sub/:\n%s", body)
	}
}

func TestRefusals(t *testing.T) {
	t.Parallel()
	p, _ := site(t, map[string]string{})
	for _, tc := range []struct {
		method, target string
		status         int
	}{
		{"GET", "/link/", 403},   // SymLink off: a link on the way
		{"GET", "/nosuch/", 404}, // missing
		{"GET", "/c:d/", 404},    // a file
		{"POST", "/", 405},
	} {
		_, err := serve(t, p, tc.method, tc.target)
		if got := stage.StatusOf(err); got != tc.status {
			t.Errorf("%s %s: status %d (%v), want %d", tc.method, tc.target, got, err, tc.status)
		}
	}
	// A request without a clean path (Path ""): the raw target is cleaned.
	r := stagetest.NewRequest(p.Hosts()[0].VHost, "GET", "/%2e%2e/")
	r.Path = ""
	if _, err := p.ServeDirectory(stage.NewRecorder(), r); stage.StatusOf(err) != 400 {
		t.Errorf("/%%2e%%2e/: %v, want 400", err)
	}
	w, err := serve(t, p, "GET", "/sub")
	if err != nil || w.Code != 301 || w.Fields.Get("Location") != "/sub/" {
		t.Errorf("/sub: %d %q %v, want 301 to /sub/", w.Code, w.Fields.Get("Location"), err)
	}
}

func TestSymlinksAllowed(t *testing.T) {
	t.Parallel()
	p, _ := site(t, map[string]string{"gibbon.conf": "[SERVER]\n    Listen 0\n    SymLink on\n"})
	w, err := serve(t, p, "GET", "/")
	must(t, err)
	if !strings.Contains(w.Body.String(), `href="link/"`) {
		t.Errorf("link to a directory not listed with SymLink on")
	}
	if _, err := serve(t, p, "GET", "/link/"); err != nil {
		t.Errorf("/link/ with SymLink on: %v", err)
	}
}

func TestJSON(t *testing.T) {
	t.Parallel()
	p, _ := site(t, map[string]string{})
	w, err := serve(t, p, "GET", "/?format=json")
	must(t, err)
	var got struct {
		Path    string
		Entries []struct {
			Name, URL string
			Dir       bool
			Size      int64
		}
	}
	must(t, json.Unmarshal(w.Body.Bytes(), &got))
	if got.Path != "/" || len(got.Entries) != 4 || got.Entries[0].Name != "sub" || !got.Entries[0].Dir || got.Entries[0].URL != "sub/" {
		t.Fatalf("json: %+v", got)
	}
	if e := got.Entries[2]; e.Name != "a b#?.txt" || e.Size != 3 || e.URL != "a%20b%23%3F.txt" {
		t.Errorf("entry %+v", e)
	}
}

func TestTheme(t *testing.T) {
	t.Parallel()
	p, _ := site(t, map[string]string{
		"plugins/dirlisting/dirlisting.conf":           "[DIRLISTING]\n    Theme plain\n    JSON off\n",
		"plugins/dirlisting/themes/plain/header.theme": "H[%_html_title_%]\n",
		"plugins/dirlisting/themes/plain/entry.theme":  "%_target_name_%|%_target_size_%\n",
		"plugins/dirlisting/themes/plain/footer.theme": "F%_theme_path_%\n",
	})
	w, err := serve(t, p, "GET", "/sub/?format=json")
	must(t, err)
	if got, want := w.Body.String(), "H[/sub/]\n../|-\ndeep/|-\nF\n"; got != want {
		t.Errorf("themed listing %q, want %q (JSON off)", got, want)
	}
}
