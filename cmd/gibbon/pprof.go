//go:build pprof

package main

import "gibbon/internal/cpuprofile"

// Built with -tags pprof, gibbon writes a CPU profile of its first
// GIBBON_CPUPROFILE_SECONDS seconds (default 10) to $GIBBON_CPUPROFILE,
// for `go tool pprof` (see BENCHMARKS.md).
func init() { cpuprofile.FromEnv("GIBBON") }
