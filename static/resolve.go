package static

import (
	"errors"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
)

// lookupHome returns the home directory of a user. Tests replace it: the
// real one reads the system user database.
var lookupHome = func(name string) (string, error) {
	u, err := user.Lookup(name)
	if err != nil {
		return "", err
	}
	return u.HomeDir, nil
}

// target is the file system path chosen for a request.
type target struct {
	path    string // root + clean path
	rootLen int    // path[:rootLen] is the root; links are checked only below it
}

// dir reports whether the path ends in "/" (names a directory).
func (t *target) dir() bool { return strings.HasSuffix(t.path, "/") }

// locate cleans the raw path and joins it to root, or to a user's
// directory for "/~name/...".
func locate(root string, raw []byte, opts *Options) (target, int) {
	if root == "" {
		return target{}, 500
	}
	root = trimRoot(root)
	var stack [1024]byte
	buf := append(stack[:0], root...)
	buf, status := appendClean(buf, raw)
	if status != 0 {
		return target{}, status
	}
	clean := buf[len(root):]
	if opts.UserDir != "" && len(clean) > 1 && clean[1] == '~' {
		return locateUser(clean, opts.UserDir)
	}
	return target{path: string(buf), rootLen: len(root)}, 0
}

// locateUser maps "/~name/rest" to "<home>/<userDir>/rest". An unknown user
// (or an empty name, or a user without a home) answers 404.
func locateUser(clean []byte, userDir string) (target, int) {
	name, rest := clean[2:], []byte(nil)
	if i := indexByte(name, '/'); i >= 0 {
		name, rest = name[:i], name[i:]
	}
	if len(name) == 0 {
		return target{}, 404
	}
	home, err := lookupHome(string(name))
	if err != nil || home == "" {
		return target{}, 404
	}
	root := strings.TrimSuffix(filepath.Join(home, userDir), "/")
	return target{path: root + string(rest), rootLen: len(root)}, 0
}

func indexByte(b []byte, c byte) int {
	for i, x := range b {
		if x == c {
			return i
		}
	}
	return -1
}

// open opens the target and fstats it into st. For a directory path it
// opens the first index file that exists; name is the path of the file
// opened. st is a directory only for a path without a trailing slash.
func (t *target) open(opts *Options, st *fileStat) (f *os.File, name string, status int) {
	if !opts.SymLink {
		if status := checkLinks(t.path, t.rootLen); status != 0 {
			return nil, "", status
		}
	}
	if t.dir() {
		return t.openIndex(opts, st)
	}
	f, err := openFile(t.path, t.noFollow(opts), st)
	if err != nil {
		return nil, "", errStatus(err)
	}
	return f, t.path, 0
}

// noFollow reports whether a symbolic link as the last component of
// t.path must be refused. Index files (below t.path) are always refused
// when SymLink is off.
func (t *target) noFollow(opts *Options) bool {
	return !opts.SymLink && len(t.path) > t.rootLen
}

// openIndex opens the first index file of the directory t.path. A
// directory without one answers 403; a missing one 404.
func (t *target) openIndex(opts *Options, st *fileStat) (*os.File, string, int) {
	for _, idx := range opts.IndexFiles {
		if !validIndex(idx) {
			continue
		}
		name := t.path + idx
		f, err := openFile(name, !opts.SymLink, st)
		switch {
		case errors.Is(err, syscall.ENOENT):
			continue
		case err != nil:
			// ENOTDIR: t.path names a file, not a directory (404).
			return nil, "", errStatus(err)
		case st.isDir():
			f.Close()
			continue
		}
		return f, name, 0
	}
	return nil, "", t.noIndex()
}

// noIndex is the status for the directory path t.path when none of its
// index files exists: 403 for a directory, 404 for anything else.
func (t *target) noIndex() int {
	var st fileStat
	if err := statPath(t.path, true, &st); err != nil {
		return errStatus(err)
	}
	if !st.isDir() {
		return 404
	}
	return 403
}

// validIndex reports whether an index file name may be tried: not empty,
// not "." or "..", and without "/" or NUL.
func validIndex(idx string) bool {
	return idx != "" && idx != "." && idx != ".." && !strings.ContainsAny(idx, "/\x00")
}

// noatimeDenied is set once an open with O_NOATIME has failed with EPERM:
// the process may use O_NOATIME only on files it owns unless it has
// CAP_FOWNER, and a server whose files belong to another user would
// otherwise pay a failed open(2) for every file. It is a fact about the
// process's credentials, shared by every server in it, and only ever goes
// from false to true.
var noatimeDenied atomic.Bool

// openFile opens name for reading and fstats it into st. O_NONBLOCK keeps
// a FIFO from blocking the open (reads of regular files ignore it); with
// noFollow a symbolic link as the last component answers 403. The file is
// opened with O_NOATIME, so that serving it does not write its access
// time, unless the kernel refuses (see noatimeDenied).
func openFile(name string, noFollow bool, st *fileStat) (*os.File, error) {
	flag := os.O_RDONLY | syscall.O_NONBLOCK
	if noFollow {
		flag |= syscall.O_NOFOLLOW
	}
	f, err := openNoATime(name, flag)
	if err != nil {
		return nil, err
	}
	if err := fstatFile(f, st); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// openNoATime opens name with flag and O_NOATIME, falling back to flag
// alone when O_NOATIME is not permitted.
func openNoATime(name string, flag int) (*os.File, error) {
	if oNoATime != 0 && !noatimeDenied.Load() {
		f, err := os.OpenFile(name, flag|oNoATime, 0)
		if !errors.Is(err, syscall.EPERM) {
			return f, err
		}
		noatimeDenied.Store(true)
	}
	return os.OpenFile(name, flag, 0)
}

// checkLinks answers 403 if a directory between path[:rootLen] and the last
// component of path is a symbolic link, and 404 if one is missing or is not
// a directory. The last component is checked by openFile's O_NOFOLLOW.
//
// This lstat walk and the open that follows are separate steps: someone
// who can rename directories inside the document root while the server runs
// could swap a checked directory for a link in between. Protecting against
// that needs openat2(RESOLVE_NO_SYMLINKS) from an open root descriptor,
// which a later change may bring to both Serve and Cache.
func checkLinks(path string, rootLen int) int {
	var st syscall.Stat_t
	for i := rootLen + 1; i < len(path); i++ {
		if path[i] != '/' {
			continue
		}
		if err := syscall.Lstat(path[:i], &st); err != nil {
			return errStatus(err)
		}
		switch st.Mode & syscall.S_IFMT {
		case syscall.S_IFDIR:
		case syscall.S_IFLNK:
			return 403
		default:
			return 404
		}
	}
	return 0
}

// errStatus maps a file system error to a status.
func errStatus(err error) int {
	var errno syscall.Errno
	if !errors.As(err, &errno) {
		return 500
	}
	switch errno {
	case syscall.ENOENT, syscall.ENOTDIR, syscall.ENAMETOOLONG:
		return 404
	case syscall.EACCES, syscall.EPERM, syscall.ELOOP:
		return 403
	}
	return 500
}
