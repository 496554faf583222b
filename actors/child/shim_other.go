//go:build !linux && !darwin

package child

import (
	"os"
	"os/exec"
)

// No shim here: on Windows a Job Object does its work (proc_windows.go).
const shimSupported = false

func prepareShim(cmd *exec.Cmd) { prepare(cmd) }

func shimKill(*os.Process) error { return nil }

func shimStatus(uint64) (int, string) { return 0, "" }

// RunShim is not used on this platform: children are started directly.
func RunShim([]string) {
	os.Stderr.WriteString("metamcp shim: not supported on this platform\n")
	os.Exit(125)
}
