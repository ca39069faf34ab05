//go:build !linux

package main

import "os"

// isTerminal reports false: without Linux's termios calls the password is
// always read as one line from standard input.
func isTerminal(*os.File) bool { return false }

// readHidden is not reached when isTerminal is false.
func readHidden(*os.File) (string, error) { return "", nil }
