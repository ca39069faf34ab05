//go:build !unix

package main

import "fmt"

// dropPrivileges is not supported outside Unix.
func dropPrivileges(name string) error {
	return fmt.Errorf("user %s: switching users is not supported on this system", name)
}
