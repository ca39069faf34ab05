package static

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"gibbon/http1"
)

// openFlags returns the file status flags of f.
func openFlags(t *testing.T, f *os.File) int {
	t.Helper()
	flags, _, errno := syscall.Syscall(syscall.SYS_FCNTL, f.Fd(), syscall.F_GETFL, 0)
	if errno != 0 {
		t.Fatal(errno)
	}
	return int(flags)
}

// TestNoATime checks that Serve and a Cache open files with O_NOATIME.
// It does not run in parallel: TestNoATimeFallback changes noatimeDenied.
func TestNoATime(t *testing.T) {
	if noatimeDenied.Load() {
		t.Skip("O_NOATIME was refused earlier in this process")
	}
	_, root := tree(t)
	req := &Request{Method: http1.MethodGet, Path: []byte("/hello.txt")}
	res := Serve(root, req, testOptions())
	defer res.Close()
	if openFlags(t, res.File)&syscall.O_NOATIME == 0 {
		t.Error("Serve: file opened without O_NOATIME")
	}
	c := NewCache(filesOnly)
	defer c.Close()
	cres := c.Serve(root, req, testOptions(), t0)
	defer cres.Close()
	if openFlags(t, cres.File)&syscall.O_NOATIME == 0 {
		t.Error("Cache: file opened without O_NOATIME")
	}
}

// TestNoATimeFallback opens a file the process does not own: without
// CAP_FOWNER the kernel refuses O_NOATIME, and the open must succeed
// without it.
func TestNoATimeFallback(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root may use O_NOATIME on any file")
	}
	var name string
	for _, n := range []string{"/etc/passwd", "/etc/hostname", "/etc/os-release"} {
		var st syscall.Stat_t
		if syscall.Stat(n, &st) == nil && int(st.Uid) != os.Geteuid() && st.Mode&0o004 != 0 {
			name = n
			break
		}
	}
	if name == "" {
		t.Skip("no readable file owned by another user")
	}
	old := noatimeDenied.Load()
	t.Cleanup(func() { noatimeDenied.Store(old) })
	noatimeDenied.Store(false)
	var st fileStat
	f, err := openFile(name, false, &st)
	if err != nil {
		t.Fatalf("open %s: %v", name, err)
	}
	defer f.Close()
	if !noatimeDenied.Load() {
		t.Error("EPERM not remembered")
	}
	if openFlags(t, f)&syscall.O_NOATIME != 0 {
		t.Error("O_NOATIME set on a file the process does not own")
	}
	// An owned file after the refusal: opened, without trying again.
	_, root := tree(t)
	g, err := openFile(filepath.Join(root, "hello.txt"), true, &st)
	if err != nil {
		t.Fatal(err)
	}
	g.Close()
}
