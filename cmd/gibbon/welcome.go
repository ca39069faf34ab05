package main

import (
	"embed"
	"io/fs"
	"os"
	"sync"
)

// welcomeFiles is the built-in site served when there is neither a config
// directory nor ./htdocs.
//
//go:embed welcome
var welcomeFiles embed.FS

// materializeWelcome copies the built-in site to a new temporary directory,
// readable by everyone so that it still serves after a privilege drop, and
// returns its path. The caller removes it at exit.
func materializeWelcome() (string, error) {
	site, err := fs.Sub(welcomeFiles, "welcome")
	if err != nil {
		return "", err
	}
	dir, err := os.MkdirTemp("", "gibbon-welcome-")
	if err != nil {
		return "", err
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		os.RemoveAll(dir)
		return "", err
	}
	if err := os.CopyFS(dir, site); err != nil {
		os.RemoveAll(dir)
		return "", err
	}
	return dir, nil
}

// welcomeDir is the temporary directory the built-in welcome site was
// written to, if any: at start-up, or by a reload that found no
// ./htdocs any more. It is removed when the command exits. Reloads run
// beside the exit, hence the lock.
type welcomeDir struct {
	mu  sync.Mutex
	dir string // guarded by mu
}

// path returns the directory, or "" when none was made.
func (w *welcomeDir) path() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.dir
}

// keep records dir, a directory loadConfig made ("" for none).
func (w *welcomeDir) keep(dir string) {
	if dir == "" {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.dir = dir
}

// remove removes the directory, if one was made.
func (w *welcomeDir) remove() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.dir != "" {
		os.RemoveAll(w.dir)
		w.dir = ""
	}
}
