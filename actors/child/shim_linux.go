//go:build linux

package child

import (
	"bytes"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// prepareShim makes the shim a process-group leader that the kernel tells
// (shimParentGone) when the thread that forked it, metamcp's forker, dies.
func prepareShim(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: shimParentGone}
}

// killTree kills every other member of the shim's process group and every
// descendant of the shim (also those that left the group), reaping them,
// until none is left; it returns code for convenience. The shim is the
// group's leader, so it cannot simply signal the group: it would die first.
func killTree(code int) int {
	self := os.Getpid()
	for range 100 {
		pids := treeOf(self)
		if len(pids) == 0 {
			break
		}
		for _, p := range pids {
			_ = syscall.Kill(p, syscall.SIGKILL)
		}
		reapAll()
		time.Sleep(2 * time.Millisecond)
	}
	reapAll()
	return code
}

func reapAll() {
	for {
		var ws syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil)
		if pid <= 0 || err != nil {
			return
		}
	}
}

// treeOf lists the processes, other than root, that are in root's process
// group or whose chain of parents leads to root: the live ones, and root's
// own zombies (until reapAll has them). Others' zombies are left out.
func treeOf(root int) []int {
	procs := map[int]procEntry{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == root {
			continue
		}
		if p, ok := readProcEntry(pid); ok {
			procs[pid] = p
		}
	}
	var out []int
	for pid, p := range procs {
		// Zombies are dead already — but our own stay listed until reapAll
		// has them: a multi-threaded process shows Z before it can be
		// waited for.
		if p.state == 'Z' && p.ppid != root {
			continue
		}
		if p.pgrp == root || descends(procs, p.ppid, root) {
			out = append(out, pid)
		}
	}
	return out
}

func descends(procs map[int]procEntry, p, root int) bool {
	for hops := 0; p > 1 && hops < 64; hops++ {
		if p == root {
			return true
		}
		p = procs[p].ppid
	}
	return false
}

type procEntry struct {
	state      byte
	ppid, pgrp int
}

// readProcEntry parses state, ppid and pgrp from /proc/PID/stat.
func readProcEntry(pid int) (procEntry, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return procEntry{}, false
	}
	f := bytes.Fields(b[bytes.LastIndexByte(b, ')')+1:])
	if len(f) < 3 || len(f[0]) == 0 {
		return procEntry{}, false
	}
	ppid, err1 := strconv.Atoi(string(f[1]))
	pgrp, err2 := strconv.Atoi(string(f[2]))
	if err1 != nil || err2 != nil {
		return procEntry{}, false
	}
	return procEntry{state: f[0][0], ppid: ppid, pgrp: pgrp}, true
}

// shimSetup makes the shim a child subreaper.
func shimSetup(int) { _ = unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) }

// shimChildAttr: if the shim is killed, so is the child.
func shimChildAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} }

// afterChild kills what the child left behind, in the group or not.
func afterChild() { killTree(0) }

// killAll kills the whole tree but the shim.
func killAll() { killTree(0) }

// reapAdopted reaps the shim's zombie children other than the server: the
// orphans re-parented to it as a subreaper, as they die. The server is left
// to its own waiter.
func reapAdopted(server int) {
	self := os.Getpid()
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == server {
			continue
		}
		if p, ok := readProcEntry(pid); ok && p.ppid == self && p.state == 'Z' {
			var ws syscall.WaitStatus
			_, _ = syscall.Wait4(pid, &ws, syscall.WNOHANG, nil)
		}
	}
}
