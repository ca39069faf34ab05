package all_test

import (
	"os"
	"slices"
	"strings"
	"testing"

	_ "gibbon/plugins/all"
	"gibbon/stage"
)

// TestAllRegistered checks that every plugin directory is imported here
// and registered under its directory name.
func TestAllRegistered(t *testing.T) {
	ents, err := os.ReadDir("..")
	if err != nil {
		t.Fatal(err)
	}
	reg := stage.Registered()
	for _, e := range ents {
		if !e.IsDir() || e.Name() == "all" || e.Name() == "internal" || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		if !slices.Contains(reg, e.Name()) {
			t.Errorf("plugin %s is not registered (missing from all.go?)", e.Name())
		}
	}
}
