package main

import (
	"os"
	"runtime/pprof"

	"github.com/rs/zerolog"
)

// profileEnv names a file to which `metamcp serve` writes a CPU profile of
// its whole run (cmd/bench uses it for the relay profile in
// docs/benchmarks.md). Unset: no profiling.
const profileEnv = "METAMCP_CPUPROFILE"

// startProfile starts the CPU profile profileEnv asks for and returns what
// stops it and closes the file.
func startProfile(log zerolog.Logger) func() {
	path := os.Getenv(profileEnv)
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err != nil {
		log.Warn().Err(err).Str("file", path).Msg("no CPU profile")
		return func() {}
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		log.Warn().Err(err).Str("file", path).Msg("no CPU profile")
		_ = f.Close()
		return func() {}
	}
	return func() {
		pprof.StopCPUProfile()
		_ = f.Close()
	}
}
