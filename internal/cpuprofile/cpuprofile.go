// Package cpuprofile starts a CPU profile named by environment variables.
// The binaries that benchmarks profile (cmd/gibbon, examples/hello) call it
// from a file built only with -tags pprof. It is not a profiling API for
// applications: those use runtime/pprof or net/http/pprof directly.
package cpuprofile

import (
	"os"
	"runtime/pprof"
	"strconv"
	"time"
)

// FromEnv writes a CPU profile of the next $<prefix>_CPUPROFILE_SECONDS
// seconds (default 10) to the file $<prefix>_CPUPROFILE, for `go tool
// pprof`. It does nothing when that variable is unset or the file cannot
// be created.
func FromEnv(prefix string) {
	path := os.Getenv(prefix + "_CPUPROFILE")
	if path == "" {
		return
	}
	f, err := os.Create(path)
	if err != nil {
		return
	}
	if pprof.StartCPUProfile(f) != nil {
		f.Close()
		return
	}
	secs, err := strconv.Atoi(os.Getenv(prefix + "_CPUPROFILE_SECONDS"))
	if err != nil || secs <= 0 {
		secs = 10
	}
	go func() {
		time.Sleep(time.Duration(secs) * time.Second)
		pprof.StopCPUProfile()
		f.Close()
	}()
}
