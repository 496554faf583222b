//go:build darwin

package child

import (
	"os"
	"os/exec"
	"syscall"
	"time"
)

// prepareShim makes the shim a process-group leader. macOS has no
// parent-death signal: the shim watches its parent instead (shimSetup).
func prepareShim(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

// shimSetup starts the parent watchdog: when metamcp is gone the shim is
// re-parented (its parent pid changes), and it signals itself.
func shimSetup(ppid int) {
	go func() {
		for range time.Tick(100 * time.Millisecond) {
			if os.Getppid() != ppid {
				_ = syscall.Kill(os.Getpid(), shimParentGone)
				return
			}
		}
	}()
}

func shimChildAttr() *syscall.SysProcAttr { return nil }

// afterChild leaves the group to metamcp, which kills it once the shim has
// exited with the child's status.
func afterChild() {}

// killAll kills the shim's whole process group, the shim included.
func killAll() { _ = syscall.Kill(-os.Getpid(), syscall.SIGKILL) }

// reapAdopted: without a subreaper the shim adopts nothing.
func reapAdopted(int) {}
