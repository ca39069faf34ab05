//go:build pprof

package main

import "gibbon/internal/cpuprofile"

// Built with -tags pprof, hello writes a CPU profile of its first
// HELLO_CPUPROFILE_SECONDS seconds (default 10) to $HELLO_CPUPROFILE,
// for `go tool pprof` (as cmd/gibbon does with GIBBON_CPUPROFILE).
func init() { cpuprofile.FromEnv("HELLO") }
