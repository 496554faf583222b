//go:build unix

package child

import (
	"errors"
	"os"
	"syscall"
)

// terminateGroup sends SIGTERM to the child's process group.
func terminateGroup(pid int) error { return signalGroup(pid, syscall.SIGTERM) }

// releaseGroup frees what the process layer holds for a reaped child:
// nothing on Unix.
func releaseGroup(int) {}

// killGroup sends SIGKILL to the child's process group.
func killGroup(pid int) error { return signalGroup(pid, syscall.SIGKILL) }

// signalGroup signals every process in the group led by pid. A group that
// is already gone counts as success.
func signalGroup(pid int, sig syscall.Signal) error {
	if pid <= 0 {
		return nil
	}
	err := syscall.Kill(-pid, sig)
	if err == nil || errors.Is(err, syscall.ESRCH) || errors.Is(err, os.ErrProcessDone) {
		return nil
	}
	return err
}

func signalOf(ps *os.ProcessState) string {
	if ps == nil {
		return ""
	}
	ws, ok := ps.Sys().(syscall.WaitStatus)
	if !ok || !ws.Signaled() {
		return ""
	}
	return signalName(ws.Signal())
}

func signalName(s syscall.Signal) string {
	switch s {
	case syscall.SIGKILL:
		return "SIGKILL"
	case syscall.SIGTERM:
		return "SIGTERM"
	case syscall.SIGINT:
		return "SIGINT"
	case syscall.SIGSEGV:
		return "SIGSEGV"
	case syscall.SIGABRT:
		return "SIGABRT"
	case syscall.SIGHUP:
		return "SIGHUP"
	case syscall.SIGPIPE:
		return "SIGPIPE"
	case syscall.SIGBUS:
		return "SIGBUS"
	}
	return s.String()
}

// Alive says whether a process with this pid exists (a zombie counts: it
// has not been reaped yet).
func Alive(pid int) bool {
	return pid > 0 && !errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
}
