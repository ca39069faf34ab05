package gibbon_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"gibbon"
)

// TestReload swaps the document root of a running server on both drivers:
// the new one serves, the registered handlers stay, a missing document
// root is refused and changes nothing, and Reload after Shutdown fails.
func TestReload(t *testing.T) {
	t.Parallel()
	forDrivers(t, func(t *testing.T, d gibbon.Driver) {
		root1, root2 := t.TempDir(), t.TempDir()
		os.WriteFile(filepath.Join(root1, "f.txt"), []byte("one"), 0o644)
		os.WriteFile(filepath.Join(root2, "f.txt"), []byte("two"), 0o644)
		cfg := gibbon.Config{Listen: []string{"127.0.0.1:0"}, Workers: 2, Driver: d, DocumentRoot: root1}
		srv := newServer(t, cfg)
		srv.HandleFunc("GET /api", func(c *gibbon.Ctx) { c.String(200, "api") })
		base := start(t, srv)
		fetch := func(path, want string) {
			t.Helper()
			if _, body := get(t, http.DefaultClient, "GET", base+path); body != want {
				t.Fatalf("GET %s = %q, want %q", path, body, want)
			}
		}
		fetch("/f.txt", "one")
		cfg.DocumentRoot = root2
		if err := srv.Reload(cfg); err != nil {
			t.Fatal(err)
		}
		fetch("/f.txt", "two")
		fetch("/api", "api")
		cfg.DocumentRoot = filepath.Join(root2, "missing")
		if err := srv.Reload(cfg); err == nil {
			t.Fatal("Reload accepted a missing document root")
		}
		fetch("/f.txt", "two")
		srv.Shutdown(context.Background())
		if err := srv.Reload(cfg); err != gibbon.ErrStopped {
			t.Fatalf("Reload after Shutdown = %v, want ErrStopped", err)
		}
	})
}
