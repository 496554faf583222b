//go:build linux

package child

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"time"
)

// The guardian is one small process per metamcp ("metamcp guard"), started
// with it, that outlives it only to kill what it leaves behind: when
// metamcp dies — even by SIGKILL, with no chance to clean up — the kernel
// closes metamcp's end of a pipe the guardian reads, and the guardian kills
// every process that carries metamcp's METAMCP_OWNER mark in its
// environment (inherited by everything a child starts, also what left its
// process group or was orphaned by a double fork), with its process group,
// until none is left. On a normal exit the same happens and finds nothing.
//
// Unlike a shim per child, it costs one process and one start for the whole
// instance, not one per server; unlike the shim, it misses a descendant that
// clears its own environment (process_shim "on" covers that too).

// Guardian is a running guardian. Stop ends it and reaps it.
type Guardian struct {
	cmd *exec.Cmd
	w   *os.File
}

// StartGuardian starts exe as "exe guard" for the instance with this mark
// (NewOwnerMark; the children get it as Options.Owner).
func StartGuardian(exe, mark string) (*Guardian, error) {
	if mark == "" {
		return nil, ErrNoUsage
	}
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe, "guard", "--owner", mark)
	cmd.ExtraFiles = []*os.File{r} // fd 3
	cmd.Stderr = os.Stderr
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")} // not marked: it must not kill itself
	// Its own group: a signal to metamcp's group (the client's) spares it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	err = cmd.Start()
	r.Close()
	if err != nil {
		w.Close()
		return nil, err
	}
	return &Guardian{cmd: cmd, w: w}, nil
}

// Stop tells the guardian metamcp is done (it kills whatever is still
// marked, normally nothing) and waits for it.
func (g *Guardian) Stop() error {
	g.w.Close()
	done := make(chan error, 1)
	go func() { done <- g.cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(5 * time.Second):
		_ = g.cmd.Process.Kill()
		return <-done
	}
}

// RunGuardian is "metamcp guard --owner MARK": it waits for the end
// of fd 3, then kills every process marked with that owner. It never
// returns.
func RunGuardian(args []string) {
	if len(args) != 2 || args[0] != "--owner" {
		os.Stderr.WriteString("usage: metamcp guard --owner MARK\n")
		os.Exit(2)
	}
	mark := []byte(args[1])
	pipe := os.NewFile(3, "owner")
	_, _ = io.Copy(io.Discard, pipe) // returns when the owner is gone
	deadline := time.Now().Add(2 * time.Second)
	for time.Now().Before(deadline) {
		if killMarked(func(owner []byte) bool { return ofInstance(owner, mark) }) == 0 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	os.Exit(0)
}

// ofInstance says whether a child's mark ("INSTANCE/N") is the instance's.
func ofInstance(owner, instance []byte) bool {
	return bytes.HasPrefix(owner, instance) && (len(owner) == len(instance) || owner[len(instance)] == '/')
}

// killMarked SIGKILLs every live process whose METAMCP_OWNER matches, and
// its process group, and returns how many it found.
func killMarked(match func(owner []byte) bool) int {
	names, err := readDirNames("/proc")
	if err != nil {
		return 0
	}
	self := os.Getpid()
	ns, _ := os.Readlink("/proc/self/ns/pid")
	found := 0
	for _, n := range names {
		pid, err := strconv.Atoi(n)
		if err != nil || pid == self {
			continue
		}
		// A mark names a pid as its owner saw it: from another pid namespace
		// (a container) it means another process. Only our namespace's count.
		if theirs, _ := os.Readlink("/proc/" + n + "/ns/pid"); theirs != ns {
			continue
		}
		env, err := os.ReadFile("/proc/" + n + "/environ")
		if err != nil || len(env) == 0 { // another user's, or a zombie
			continue
		}
		owner, ok := ownerMark(env)
		if !ok || !match(owner) {
			continue
		}
		found++
		if pgid, err := syscall.Getpgid(pid); err == nil && pgid > 1 && pgid != syscall.Getpgrp() {
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
		}
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	return found
}
