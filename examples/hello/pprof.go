//go:build pprof

package main

import (
	"os"
	"runtime/pprof"
	"strconv"
	"time"
)

// Built with -tags pprof, hello writes a CPU profile of its first
// HELLO_CPUPROFILE_SECONDS seconds (default 10) to $HELLO_CPUPROFILE,
// for `go tool pprof` (as cmd/gibbon does with GIBBON_CPUPROFILE).
func init() {
	path := os.Getenv("HELLO_CPUPROFILE")
	if path == "" {
		return
	}
	f, err := os.Create(path)
	if err != nil || pprof.StartCPUProfile(f) != nil {
		return
	}
	secs, err := strconv.Atoi(os.Getenv("HELLO_CPUPROFILE_SECONDS"))
	if err != nil || secs <= 0 {
		secs = 10
	}
	go func() {
		time.Sleep(time.Duration(secs) * time.Second)
		pprof.StopCPUProfile()
		f.Close()
	}()
}
