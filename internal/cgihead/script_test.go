package cgihead

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// status is the status of a Locate error, 0 for none.
func status(err error) int {
	var se *StatusError
	if errors.As(err, &se) {
		return se.Status
	}
	if err != nil {
		return -1
	}
	return 0
}

// TestLocatorSeesChanges: a Locator answers from what it saw until
// Validity has passed, then sees a script removed or created and a
// directory replaced by a symbolic link (refused with links off, even to a
// directory outside the root).
func TestLocatorSeesChanges(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	root, outside := filepath.Join(dir, "root"), filepath.Join(dir, "outside")
	for _, d := range []string{filepath.Join(root, "app"), outside} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, "index.php"), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	const validity = 20 * time.Millisecond
	fresh, stale := &Locator{Validity: validity}, &Locator{Validity: time.Hour}
	expect := func(l *Locator, path string, links bool, want int) {
		t.Helper()
		s, err := l.Locate(root, path, []string{"index.php"}, links)
		if status(err) != want {
			t.Errorf("%s (links %v): %+v %v, want status %d", path, links, s, err, want)
		}
	}
	for _, l := range []*Locator{fresh, stale} {
		expect(l, "/app/index.php/route", false, 0)
		expect(l, "/app/new.php", false, 404)
		expect(l, "/app/", false, 0)
	}

	if err := os.Remove(filepath.Join(root, "app", "index.php")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "app", "new.php"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	expect(stale, "/app/index.php/route", false, 0) // as it was
	expect(stale, "/app/new.php", false, 404)
	time.Sleep(2 * validity)
	expect(fresh, "/app/index.php/route", false, 404)
	expect(fresh, "/app/", false, 404)
	expect(fresh, "/app/new.php", false, 0)

	// /app becomes a link to a directory outside the root.
	if err := os.RemoveAll(filepath.Join(root, "app")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(root, "app")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * validity)
	expect(fresh, "/app/index.php", false, 403)
	expect(fresh, "/app/", false, 403)
	s, err := fresh.Locate(root, "/app/index.php/x", nil, true)
	if err != nil || s.Filename != root+"/app/index.php" || s.Name != "/app/index.php" || s.PathInfo != "/x" {
		t.Errorf("links followed: %+v %v", s, err)
	}
	expect(fresh, "/app/index.php", false, 403) // the two modes are remembered apart
}

// TestLocatorBound: a Locator remembers at most MaxEntries paths; past
// them it still answers.
func TestLocatorBound(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "x.php"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	l := &Locator{MaxEntries: 8, Validity: time.Hour}
	for i := range 100 {
		if _, err := l.Locate(root, fmt.Sprintf("/missing%d.php", i), nil, i%2 == 0); status(err) != 404 {
			t.Fatalf("missing%d: %v", i, err)
		}
	}
	if n := len(l.seen[0]) + len(l.seen[1]); n > 8 {
		t.Errorf("%d entries, MaxEntries is 8", n)
	}
	if s, err := l.Locate(root, "/x.php", nil, false); err != nil || s.Name != "/x.php" {
		t.Errorf("with the cache full: %+v %v", s, err)
	}
}

// TestLocatorConcurrent: goroutines locate while a script comes and goes
// (run with -race).
func TestLocatorConcurrent(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	file := filepath.Join(root, "x.php")
	l := &Locator{Validity: time.Millisecond, MaxEntries: 4}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			os.WriteFile(file, nil, 0o644)
			os.Remove(file)
		}
	})
	var failed sync.Once
	for g := range 8 {
		wg.Go(func() {
			for i := range 2000 {
				s, err := l.Locate(root, fmt.Sprintf("/x.php/%d", i%3), nil, g%2 == 0)
				if st := status(err); st != 404 && (st != 0 || s.Filename != file) {
					failed.Do(func() { t.Errorf("got %+v %v", s, err) })
				}
			}
		})
	}
	time.Sleep(50 * time.Millisecond)
	close(stop)
	wg.Wait()
}

// BenchmarkLocate: a front controller's path and a directory's index
// file, as remembered (go test -run XXX -bench Locate -benchmem
// ./internal/cgihead).
func BenchmarkLocate(b *testing.B) {
	root := appTree(b)
	for _, path := range []string{"/app/index.php/users/42", "/app/"} {
		b.Run(path, func(b *testing.B) {
			var l Locator
			b.ReportAllocs()
			for range b.N {
				if _, err := l.Locate(root, path, []string{"index.php"}, false); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// appTree makes a document root with one script, /app/index.php.
func appTree(tb testing.TB) string {
	tb.Helper()
	root := tb.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "app"), 0o755); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "app", "index.php"), nil, 0o644); err != nil {
		tb.Fatal(err)
	}
	return root
}
