//go:build !linux

package child

import "time"

// ScanUsage is not implemented on this platform yet: max_memory_mb is not
// enforced and health_check shows no group memory or CPU.
func ScanUsage() (Usage, error) { return Usage{At: time.Now()}, ErrNoUsage }
