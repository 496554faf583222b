package config

import (
	"os"
	"path/filepath"
)

// Defaults returns the configuration used for every key that no flag,
// environment variable or file sets. It is the only place defaults are
// written; each call returns fresh slices.
func Defaults() Config {
	return Config{
		DefaultTimeoutSeconds: 30,
		DefaultMaxMemoryMB:    512,
		MaxConcurrentServers:  10,
		LogLevel:              "INFO",
		LogFile:               "", // stderr
		AllowedCommands:       []string{"python", "python3", "node", "npm", "npx", "metamcp"},
		TempDirectory:         filepath.Join(os.TempDir(), "metamcp"),
		StartTimeoutSeconds:   10,
		PoolIdleTTLSeconds:    300,
		PoolMaxPerTemplate:    1,
		EventHistorySize:      10000,
		FileBaseDirectory:     "", // a per-server directory under TempDirectory
		EnvPassthrough:        []string{},
		HTTPTimeoutSeconds:    30,
		HTTPMaxBodyBytes:      5 << 20,    // 5 MiB
		AllowedDirectories:    []string{}, // temp_directory only

		StateDirectory:      "", // $XDG_STATE_HOME/metamcp, else ~/.local/state/metamcp
		Session:             DefaultSession,
		RestoreServers:      true,
		EventRetentionCount: 100000,
		EventRetentionDays:  30,

		RestartPolicy:           "permanent",
		RestartInitialBackoffMS: 100,
		RestartMaxBackoffMS:     30000,
		RestartBackoffFactor:    2,
		RestartMaxRestarts:      5,
		RestartWindowSeconds:    60,
		RestartStableSeconds:    60,
		MemoryCheckIntervalMS:   1000,
		ProcessShim:             "auto", // on where there is no guardian (macOS)

		Mode:         ModeBoth,
		ExposeTools:  true,
		StartServers: []string{},
	}
}
