package main

import (
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"strconv"
)

// writePidFile writes the process id and a newline to path.
func writePidFile(path string) error {
	return os.WriteFile(path, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644)
}

// removePidFile removes path; a file that is already gone is not an error.
func removePidFile(path string, logger *slog.Logger) {
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		logger.Warn("remove pid file", "err", err)
	}
}
