//go:build linux

package child

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"os/signal"
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

// RunShim runs the shim. args are "--ppid", PID, "--", CMD, ARGS...; it
// never returns.
func RunShim(args []string) {
	ppid, argv, err := parseShimArgs(args)
	if err != nil {
		os.Stderr.WriteString("metamcp shim: " + err.Error() + "\n")
		os.Exit(125)
	}
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, shimParentGone, shimKillNow, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	_ = unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
	if os.Getppid() != ppid { // metamcp died before the parent-death signal was armed
		os.Exit(killTree(125))
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	if err := cmd.Start(); err != nil {
		os.Stderr.WriteString("metamcp shim: " + err.Error() + "\n")
		os.Exit(126)
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

// killTree kills the shim's process group and every descendant, reaping
// them, until none is left; it returns code for convenience.
func killTree(code int) int {
	self := os.Getpid()
	_ = syscall.Kill(-self, syscall.SIGKILL) // the group (the shim survives: it is signalled last)
	for range 50 {
		pids := descendants(self)
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

// descendants lists every process whose chain of parents leads to root.
func descendants(root int) []int {
	parent := map[int]int{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if pp, ok := ppidOf(pid); ok {
			parent[pid] = pp
		}
	}
	var out []int
	for pid := range parent {
		for p, hops := parent[pid], 0; p > 1 && hops < 64; p, hops = parent[p], hops+1 {
			if p == root {
				out = append(out, pid)
				break
			}
		}
	}
	return out
}

func ppidOf(pid int) (int, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, false
	}
	f := bytes.Fields(b[bytes.LastIndexByte(b, ')')+1:])
	if len(f) < 2 {
		return 0, false
	}
	pp, err := strconv.Atoi(string(f[1]))
	return pp, err == nil
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
