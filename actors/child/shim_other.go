//go:build !linux

package child

import (
	"os"
	"os/exec"
)

const shimSupported = false

func prepareShim(cmd *exec.Cmd) { prepare(cmd) }

func shimKill(int) error { return nil }

// RunShim is Linux-only for now: elsewhere children are started directly
// (see proc_*.go), so nothing ever runs "metamcp shim".
func RunShim(args []string) {
	os.Stderr.WriteString("metamcp shim: not supported on this platform\n")
	os.Exit(125)
}
