//go:build !race

package cgihead

import (
	"os"
	"path/filepath"
	"testing"
)

// TestLocateAllocs: a remembered script is found without an allocation.
func TestLocateAllocs(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "app"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "app", "index.php"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	var l Locator
	index := []string{"index.php"}
	for _, path := range []string{"/app/index.php/users/42", "/app/"} {
		if _, err := l.Locate(root, path, index, false); err != nil {
			t.Fatal(err)
		}
		if n := testing.AllocsPerRun(100, func() { l.Locate(root, path, index, false) }); n != 0 {
			t.Errorf("%s: %v allocations per hit", path, n)
		}
	}
}
