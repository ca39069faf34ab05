package main

import (
	"embed"
	"io/fs"
	"os"
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
