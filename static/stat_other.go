//go:build !linux

package static

import (
	"io/fs"
	"os"
	"syscall"
)

// oNoATime is the open flag that keeps reads from updating the access
// time (0 where there is none).
const oNoATime = 0

// fstatFile fills st from f.Stat.
func fstatFile(f *os.File, st *fileStat) error {
	info, err := f.Stat()
	if err != nil {
		return err
	}
	st.set(info)
	return nil
}

// statPath fills st from os.Stat on name, or os.Lstat when follow is
// false.
func statPath(name string, follow bool, st *fileStat) error {
	stat := os.Lstat
	if follow {
		stat = os.Stat
	}
	info, err := stat(name)
	if err != nil {
		return err
	}
	st.set(info)
	return nil
}

func (s *fileStat) set(info fs.FileInfo) {
	switch mode := info.Mode(); {
	case mode.IsRegular():
		s.kind = kindRegular
	case mode.IsDir():
		s.kind = kindDir
	case mode&fs.ModeSymlink != 0:
		s.kind = kindLink
	default:
		s.kind = kindOther
	}
	s.dev, s.ino = 0, 0
	if sys, ok := info.Sys().(*syscall.Stat_t); ok {
		s.dev, s.ino = uint64(sys.Dev), uint64(sys.Ino)
	}
	s.size = info.Size()
	s.mtime = info.ModTime()
	s.ctime = 0 // not portable: a chmod alone is not seen
}
