//go:build linux

package child

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"strconv"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// The shim is metamcp re-executing itself between metamcp and a child
// ("metamcp shim -- CMD ARGS..."), so that no descendant of the child can
// outlive metamcp, whatever it does:
//
//   - metamcp forks the shim as a process-group leader with a parent-death
//     signal (shimParentGone). The real child runs in the same group, with
//     the same stdin, stdout and stderr (inherited descriptors, no copying).
//   - The shim is a child subreaper: a grandchild that escapes the group
//     (setsid, double fork) and loses its parent is re-parented to the shim,
//     not to init, so the shim can still find it.
//   - When metamcp dies, the kernel sends the shim shimParentGone; the shim
//     kills its group and every descendant, then exits.
//   - When the real child exits, the shim kills what it left behind and
//     exits with the child's status (re-raising the signal that killed it).
//   - SIGTERM, SIGINT and SIGHUP reach the real child through the group;
//     the shim ignores them and waits for the child.
const shimParentGone = syscall.SIGUSR1

// shimKillNow makes the shim kill its whole tree at once (the last rung of
// the stop ladder before SIGKILL).
const shimKillNow = syscall.SIGUSR2

// shimSupported says whether Options.Shim is used on this platform.
const shimSupported = true

// prepareShim makes the shim a process-group leader that the kernel tells
// (shimParentGone) when the thread that forked it, metamcp's forker, dies.
func prepareShim(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: shimParentGone}
}

// shimKill asks the shim to kill its whole tree now.
func shimKill(pid int) error { return syscall.Kill(pid, shimKillNow) }

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
	signal.Notify(sigs, shimParentGone, shimKillNow, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	_ = unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
	if os.Getppid() != ppid { // metamcp died before the parent-death signal was armed
		os.Exit(125)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	// The child stays in the shim's group; if the shim is killed, so is it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		os.Stderr.WriteString("metamcp shim: " + err.Error() + "\n")
		os.Exit(126)
	}
	if report != nil {
		_, _ = report.WriteString(strconv.Itoa(cmd.Process.Pid) + "\n")
		report.Close()
	}
	done := make(chan *os.ProcessState, 1)
	go func() {
		st, _ := cmd.Process.Wait()
		done <- st
	}()
	for {
		select {
		case st := <-done:
			killTree(0)
			exitLike(st)
		case s := <-sigs:
			if s == shimParentGone || s == shimKillNow {
				os.Exit(killTree(137))
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

// treeOf lists the live processes, other than root, that are in root's
// process group or whose chain of parents leads to root. Zombies are left
// out: they are dead already and reaped by reapAll.
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
		if p.state == 'Z' {
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

// exitLike ends the shim the way the child ended.
func exitLike(st *os.ProcessState) {
	if ws, ok := st.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		signal.Reset(ws.Signal())
		_ = syscall.Kill(os.Getpid(), ws.Signal())
		time.Sleep(time.Second) // the signal ends us
	}
	os.Exit(st.ExitCode())
}
