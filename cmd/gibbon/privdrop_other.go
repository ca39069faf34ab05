//go:build !unix

package main

import "fmt"

// dropPrivileges is not supported outside Unix.
func dropPrivileges(name string) error {
	return fmt.Errorf("user %s: switching users is not supported on this system", name)
}

// giveFile is not supported outside Unix.
func giveFile(path, name string) error {
	return fmt.Errorf("user %s: changing owners is not supported on this system", name)
}
