//go:build windows

package child

import (
	"errors"
	"os"
	"os/exec"
	"syscall"
)

// prepare starts the child in a new process group. Job Objects with
// kill-on-close are the crash-tolerance issue's work.
func prepare(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{CreationFlags: syscall.CREATE_NEW_PROCESS_GROUP}
}

func startCmd(cmd *exec.Cmd) error { return cmd.Start() }

func terminateGroup(pid int) error { return killGroup(pid) }

func killGroup(pid int) error {
	p, err := os.FindProcess(pid)
	if err != nil {
		return nil
	}
	if err := p.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	return nil
}

func signalOf(*os.ProcessState) string { return "" }

var errNoRSS = errors.New("resident memory is not sampled on this platform yet")

func residentBytes(int) (int64, error) { return 0, errNoRSS }
