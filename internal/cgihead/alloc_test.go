//go:build !race

package cgihead

import "testing"

// TestLocateAllocs: a remembered script is found without an allocation.
func TestLocateAllocs(t *testing.T) {
	root := appTree(t)
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
