package child

import (
	"errors"
	"time"
)

// ProcUsage is one process's resource use, from one scan of the process
// table.
type ProcUsage struct {
	PID      int
	RSSBytes int64
	CPU      time.Duration // user + system time since the process started
}

// Usage is one scan of the process table: every process, by process group.
// A server's group holds it, its shim (the leader, when there is one) and
// whatever it started that did not leave the group.
type Usage struct {
	At     time.Time
	Groups map[int][]ProcUsage
}

// ErrNoUsage says the platform's process table is not sampled (yet).
var ErrNoUsage = errors.New("process usage is not sampled on this platform")

// Kill ends the child and its group now (the last rung of the stop ladder,
// without the ones before). The exit is reported as usual.
func (c *Conn) Kill() { c.kill() }
