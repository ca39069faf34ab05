package auth_test

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gibbon/plugins/auth"
	"gibbon/stage"
	"gibbon/stage/stagetest"
)

func basic(user, pass string) string {
	return "Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

// setup writes a users file with alice (bcrypt, cost 4) and bob ({SHA})
// and protects /admin on the default host.
func setup(t *testing.T) *stage.Pipeline {
	t.Helper()
	dir := t.TempDir()
	users := filepath.Join(dir, "users")
	if err := auth.Passwd(users, "alice", "wonderland", auth.PasswdOptions{Create: true, Cost: 4}); err != nil {
		t.Fatal(err)
	}
	if err := auth.Passwd(users, "bob", "builder", auth.PasswdOptions{SHA1: true}); err != nil {
		t.Fatal(err)
	}
	return stagetest.Load(t, map[string]string{
		"plugins.load":  "[PLUGINS]\n    Load auth\n",
		"sites/default": "[HOST]\n    DocumentRoot htdocs\n[AUTH]\n    Location /admin\n    Title \"Admin area\"\n    Users " + users + "\n",
	})
}

func TestRequest(t *testing.T) {
	t.Parallel()
	p := setup(t)
	tests := []struct {
		name, target, header string
		wantUser             string // "" and not open: 401
		open                 bool
	}{
		{"unprotected", "/index.html", "", "", true},
		{"no credentials", "/admin/", "", "", false},
		{"bcrypt ok", "/admin/x", basic("alice", "wonderland"), "alice", true},
		{"bcrypt wrong", "/admin/x", basic("alice", "nope"), "", false},
		{"sha ok", "/admin", basic("bob", "builder"), "bob", true},
		{"sha wrong", "/admin", basic("bob", "Builder"), "", false},
		{"unknown user", "/admin", basic("eve", "builder"), "", false},
		{"dot-dot", "/x/../admin/", "", "", false},
		{"encoded", "/%61dmin/", "", "", false},
		{"bad scheme", "/admin", "Authorization: Bearer abc", "", false},
		{"bad base64", "/admin", "Authorization: Basic !!!", "", false},
		{"scheme any case", "/admin", strings.Replace(basic("bob", "builder"), "Basic", "bAsIc", 1), "bob", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var hs []string
			if tc.header != "" {
				hs = append(hs, tc.header)
			}
			r := stagetest.NewRequest(p.Hosts()[0].VHost, "GET", tc.target, hs...)
			w := stage.NewRecorder()
			v := p.Request(w, r)
			if tc.open {
				if v != stage.Continue || r.User != tc.wantUser {
					t.Errorf("verdict %v user %q, want continue as %q", v, r.User, tc.wantUser)
				}
				return
			}
			if v != stage.Handled || w.Code != 401 || !w.Standard {
				t.Fatalf("verdict %v status %d, want handled 401", v, w.Code)
			}
			if got := w.Fields.Get("WWW-Authenticate"); got != `Basic realm="Admin area", charset="UTF-8"` {
				t.Errorf("WWW-Authenticate = %q", got)
			}
		})
	}
}

func TestBlocks(t *testing.T) {
	t.Parallel()
	p := setup(t)
	vh := p.Hosts()[0].VHost
	for _, tc := range []struct {
		target, header string
		want           bool
	}{
		{"/index.html", basic("alice", "x"), false},
		{"/admin", "", false},
		{"/admin", basic("alice", "x"), true},
		{"/admin", basic("bob", "x"), false},
		{"/admin", basic("nobody", "x"), true}, // the dummy is bcrypt: same cost as a real user
	} {
		var hs []string
		if tc.header != "" {
			hs = append(hs, tc.header)
		}
		if got := p.RequestBlocks(stagetest.NewRequest(vh, "GET", tc.target, hs...)); got != tc.want {
			t.Errorf("RequestBlocks(%s, %q) = %v, want %v", tc.target, tc.header, got, tc.want)
		}
	}
	if !strings.Contains(p.Describe(), "stage 20 request: auth(may block)") {
		t.Errorf("Describe:\n%s", p.Describe())
	}
}

func TestPasswd(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "users")
	opts := auth.PasswdOptions{Cost: 4}
	if err := auth.Passwd(file, "a", "1", opts); err != nil {
		t.Fatal(err) // a missing file is created without -c
	}
	if st, err := os.Stat(file); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("new file mode: %v %v", st.Mode(), err)
	}
	os.WriteFile(file, append(must(os.ReadFile(file)), "# comment\n"...), 0o600)
	must0(t, auth.Passwd(file, "b", "2", opts))
	must0(t, auth.Passwd(file, "a", "3", auth.PasswdOptions{SHA1: true}))
	lines := strings.Split(strings.TrimSpace(string(must(os.ReadFile(file)))), "\n")
	if len(lines) != 3 || lines[0] != "a:{SHA}d95o2uzYI7q7tY7bHI4U1xBug7s=" || lines[1] != "# comment" || !strings.HasPrefix(lines[2], "b:$2a$04$") {
		t.Errorf("file:\n%s", strings.Join(lines, "\n"))
	}
	must0(t, auth.Passwd(file, "a", "", auth.PasswdOptions{Delete: true}))
	if err := auth.Passwd(file, "a", "", auth.PasswdOptions{Delete: true}); err != auth.ErrNoUser {
		t.Errorf("deleting a missing user: %v, want ErrNoUser", err)
	}
	must0(t, auth.Passwd(file, "c", "4", auth.PasswdOptions{Create: true, SHA1: true}))
	if got := string(must(os.ReadFile(file))); got != "c:{SHA}G2RTiSRzpGfQc3LUXrBavCAxZHo=\n" {
		t.Errorf("after -c: %q", got)
	}
	for _, bad := range []string{"", "a:b", "a\nb"} {
		if auth.Passwd(file, bad, "x", opts) == nil {
			t.Errorf("user %q accepted", bad)
		}
	}
	if auth.Passwd(filepath.Join(t.TempDir(), "none"), "a", "", auth.PasswdOptions{Delete: true}) == nil {
		t.Error("-D on a missing file succeeded")
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func must0(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
