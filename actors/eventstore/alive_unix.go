//go:build unix

package eventstore

import (
	"errors"
	"syscall"
)

// processAlive says whether a process with this pid exists.
func processAlive(pid int) bool { return !errors.Is(syscall.Kill(pid, 0), syscall.ESRCH) }
