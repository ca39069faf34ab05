package gibbon_test

import (
	"context"
	"io"
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
	for _, d := range []gibbon.Driver{gibbon.DriverEpoll, gibbon.DriverGoroutine} {
		t.Run(d.String(), func(t *testing.T) {
			t.Parallel()
			root1, root2 := t.TempDir(), t.TempDir()
			os.WriteFile(filepath.Join(root1, "f.txt"), []byte("one"), 0o644)
			os.WriteFile(filepath.Join(root2, "f.txt"), []byte("two"), 0o644)
			cfg := gibbon.Config{Listen: []string{"127.0.0.1:0"}, Workers: 2, Driver: d, DocumentRoot: root1}
			srv, err := gibbon.New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			srv.HandleFunc("GET /api", func(c *gibbon.Ctx) { c.String(200, "api") })
			if err := srv.Start(context.Background()); err != nil {
				t.Fatal(err)
			}
			defer srv.Shutdown(context.Background())
			base := "http://" + srv.Addr().String()
			fetch := func(path, want string) {
				t.Helper()
				resp, err := http.Get(base + path)
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if string(b) != want {
					t.Fatalf("GET %s = %q, want %q", path, b, want)
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
}
