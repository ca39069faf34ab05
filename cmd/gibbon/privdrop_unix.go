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
	u, uid, gid, err := lookupUser(name)
	if err != nil {
		return err
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

// giveFile makes the user name, with its primary group, the owner of
// path: the admin socket, made before the switch to that user.
func giveFile(path, name string) error {
	_, uid, gid, err := lookupUser(name)
	if err != nil {
		return err
	}
	return os.Lchown(path, uid, gid)
}

// lookupUser finds the user name with its user and primary group ids.
func lookupUser(name string) (u *user.User, uid, gid int, err error) {
	u, err = user.Lookup(name)
	if err != nil {
		return nil, 0, 0, fmt.Errorf("user %s: %w", name, err)
	}
	if uid, err = strconv.Atoi(u.Uid); err != nil {
		return nil, 0, 0, fmt.Errorf("user %s: uid %q: %w", name, u.Uid, err)
	}
	if gid, err = strconv.Atoi(u.Gid); err != nil {
		return nil, 0, 0, fmt.Errorf("user %s: gid %q: %w", name, u.Gid, err)
	}
	return u, uid, gid, nil
}
