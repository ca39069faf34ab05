package static

import (
	"os"
	"syscall"
	"time"
)

// oNoATime is the open flag that keeps reads from updating the access
// time (0 where there is none).
const oNoATime = syscall.O_NOATIME

// fstatFile fills st from fstat(2) on f.
func fstatFile(f *os.File, st *fileStat) error {
	var sys syscall.Stat_t
	for {
		err := syscall.Fstat(int(f.Fd()), &sys)
		if err == nil {
			st.set(&sys)
			return nil
		}
		if err != syscall.EINTR {
			return err
		}
	}
}

// statPath fills st from stat(2) on name, or lstat(2) when follow is false.
func statPath(name string, follow bool, st *fileStat) error {
	var sys syscall.Stat_t
	var err error
	if follow {
		err = syscall.Stat(name, &sys)
	} else {
		err = syscall.Lstat(name, &sys)
	}
	if err != nil {
		return err
	}
	st.set(&sys)
	return nil
}

func (s *fileStat) set(sys *syscall.Stat_t) {
	switch sys.Mode & syscall.S_IFMT {
	case syscall.S_IFREG:
		s.kind = kindRegular
	case syscall.S_IFDIR:
		s.kind = kindDir
	case syscall.S_IFLNK:
		s.kind = kindLink
	default:
		s.kind = kindOther
	}
	s.dev, s.ino = uint64(sys.Dev), uint64(sys.Ino)
	s.size = sys.Size
	s.mtime = time.Unix(sys.Mtim.Unix())
	s.ctime = sys.Ctim.Nano()
}
