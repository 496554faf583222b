//go:build linux || darwin

package child

import (
	"errors"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"strconv"
	"syscall"
)

// The shim is metamcp re-executing itself between metamcp and a child
// ("metamcp shim -- CMD ARGS..."), so that no descendant of the child can
// outlive metamcp, whatever it does:
//
//   - metamcp forks the shim as a process-group leader that learns of
//     metamcp's death: by a parent-death signal on Linux (shimParentGone),
//     by watching its parent pid on macOS. The real child runs in the same group, with
//     the same stdin, stdout and stderr (inherited descriptors, no copying).
//   - On Linux the shim is a child subreaper: a grandchild that escapes the
//     group (setsid, double fork) and loses its parent is re-parented to the
//     shim, not to init, so the shim can still find it. macOS has no
//     subreaper: there the shim covers the process group only.
//   - When metamcp dies, the kernel sends the shim shimParentGone; the shim
//     kills its group and every descendant, then exits.
//   - When the real child exits, the shim kills what it left behind and
//     exits with the child's status (re-raising the signal that killed it).
//   - SIGTERM, SIGINT and SIGHUP reach the real child through the group;
//     the shim ignores them and waits for the child.
const (
	shimParentGone = syscall.SIGUSR1
	// shimKillNow makes the shim kill its whole tree at once (the last rung
	// of the stop ladder before SIGKILL).
	shimKillNow = syscall.SIGUSR2
)

// shimSupported says whether Options.Shim is used on this platform.
const shimSupported = true

// shimKill asks the shim to kill its whole tree now. Through the process
// handle (a pidfd where the kernel has them): never a reused pid.
func shimKill(p *os.Process) error { return p.Signal(shimKillNow) }

// RunShim runs the shim. args are "--ppid", PID, "--", CMD, ARGS...; it
// never returns.
func RunShim(args []string) {
	ppid, argv, err := parseShimArgs(args)
	if err != nil {
		os.Stderr.WriteString("metamcp shim: " + err.Error() + "\n")
		os.Exit(125)
	}
	runtime.LockOSThread() // the child's parent-death signal follows this thread
	report := os.NewFile(3, "pid")
	syscall.CloseOnExec(3) // the child must not inherit it
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, shimParentGone, shimKillNow, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP, syscall.SIGCHLD)
	shimSetup(ppid)
	if os.Getppid() != ppid { // metamcp died before the parent-death signal was armed
		os.Exit(125)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	// The child stays in the shim's group.
	cmd.SysProcAttr = shimChildAttr()
	if err := cmd.Start(); err != nil {
		os.Stderr.WriteString("metamcp shim: " + err.Error() + "\n")
		os.Exit(126)
	}
	if report != nil {
		_, _ = report.WriteString("pid " + strconv.Itoa(cmd.Process.Pid) + "\n")
	}
	done := make(chan *os.ProcessState, 1)
	go func() {
		st, _ := cmd.Process.Wait()
		done <- st
	}()
	for {
		select {
		case st := <-done:
			afterChild()
			exitLike(st, report)
		case s := <-sigs:
			if s == syscall.SIGCHLD {
				reapAdopted(cmd.Process.Pid)
				continue
			}
			if s == shimParentGone || s == shimKillNow {
				// The child was killed: the shim ends the same way, so
				// metamcp reports the SIGKILL it asked for.
				killAll()
				_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
			}
		}
	}
}

func parseShimArgs(args []string) (int, []string, error) {
	if len(args) < 4 || args[0] != "--ppid" || args[2] != "--" {
		return 0, nil, errors.New("usage: shim --ppid PID -- CMD [ARGS...]")
	}
	ppid, err := strconv.Atoi(args[1])
	if err != nil {
		return 0, nil, err
	}
	return ppid, args[3:], nil
}

// exitLike reports the child's raw wait status to metamcp on fd 3 — which
// takes it as the exit, whatever the signal — and ends the shim with a
// matching code (128+signal when killed).
func exitLike(st *os.ProcessState, report *os.File) {
	ws, _ := st.Sys().(syscall.WaitStatus)
	if report != nil {
		_, _ = report.WriteString("status " + strconv.FormatUint(uint64(ws), 10) + "\n")
	}
	if ws.Signaled() {
		os.Exit(128 + int(ws.Signal()))
	}
	os.Exit(st.ExitCode())
}

// shimStatus reads a status line of the shim's report.
func shimStatus(v uint64) (code int, sig string) {
	ws := syscall.WaitStatus(v)
	if ws.Signaled() {
		return -1, signalName(ws.Signal())
	}
	return ws.ExitStatus(), ""
}
