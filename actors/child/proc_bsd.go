//go:build unix && !linux

package child

import (
	"errors"
	"os/exec"
	"syscall"
)

// prepare puts the child in its own process group. These systems have no
// parent-death signal; a parent watchdog is the crash-tolerance issue's work.
func prepare(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

func startCmd(cmd *exec.Cmd) error { return cmd.Start() }

var errNoRSS = errors.New("resident memory is not sampled on this platform yet")

func residentBytes(int) (int64, error) { return 0, errNoRSS }
