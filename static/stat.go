package static

import "time"

// fileKind is the type of a file, from its mode.
type fileKind uint8

const (
	kindOther fileKind = iota
	kindRegular
	kindDir
	kindLink
)

// fileStat is the part of a file's status that static uses: its type,
// identity, size and modification time. stat_linux.go fills it from
// stat(2) without allocating; stat_other.go through the os package.
type fileStat struct {
	kind  fileKind
	dev   uint64
	ino   uint64
	size  int64
	mtime time.Time
	ctime int64 // status change time in nanoseconds; 0 where unknown
}

func (s *fileStat) isDir() bool     { return s.kind == kindDir }
func (s *fileStat) isRegular() bool { return s.kind == kindRegular }

// sameFile reports whether s and o describe the same file with the same
// contents and permissions, as far as status can tell: same type, device
// and inode, size, modification time and status change time. The status
// change time catches what the others miss: a chmod, or contents written
// in place with the size kept and the old modification time restored.
func (s *fileStat) sameFile(o *fileStat) bool {
	return s.kind == o.kind && s.dev == o.dev && s.ino == o.ino &&
		s.size == o.size && s.mtime.Equal(o.mtime) && s.ctime == o.ctime
}
