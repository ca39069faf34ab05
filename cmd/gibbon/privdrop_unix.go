//go:build unix

package main

import (
	"fmt"
	"os"
	"os/user"
	"strconv"
	"syscall"
)

// dropPrivileges switches the process to the user name: its supplementary
// groups, its primary group, then its user id. Go applies each call to every
// thread of the process.
func dropPrivileges(name string) error {
	u, err := user.Lookup(name)
	if err != nil {
		return fmt.Errorf("user %s: %w", name, err)
	}
	uid, err := strconv.Atoi(u.Uid)
	if err != nil {
		return fmt.Errorf("user %s: uid %q: %w", name, u.Uid, err)
	}
	gid, err := strconv.Atoi(u.Gid)
	if err != nil {
		return fmt.Errorf("user %s: gid %q: %w", name, u.Gid, err)
	}
	groups := []int{gid}
	if ids, err := u.GroupIds(); err == nil {
		groups = groups[:0]
		for _, s := range ids {
			g, err := strconv.Atoi(s)
			if err != nil {
				return fmt.Errorf("user %s: group id %q: %w", name, s, err)
			}
			groups = append(groups, g)
		}
	}
	if err := syscall.Setgroups(groups); err != nil {
		return fmt.Errorf("user %s: setgroups: %w", name, err)
	}
	if err := syscall.Setgid(gid); err != nil {
		return fmt.Errorf("user %s: setgid: %w", name, err)
	}
	if err := syscall.Setuid(uid); err != nil {
		return fmt.Errorf("user %s: setuid: %w", name, err)
	}
	if os.Geteuid() != uid || os.Getegid() != gid {
		return fmt.Errorf("user %s: still running as uid %d gid %d", name, os.Geteuid(), os.Getegid())
	}
	return nil
}
