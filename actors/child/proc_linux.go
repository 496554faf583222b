//go:build linux

package child

import (
	"bytes"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"sync"
	"syscall"
)

// prepare puts the child in its own process group and asks the kernel to
// SIGKILL it when the thread that forked it dies.
func prepare(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// Pdeathsig fires when the forking *thread* exits, not the process. Go may
// end idle threads, so every child is forked from one goroutine locked to its
// OS thread for the life of the process: the forker below. It is started
// once and never stops, on purpose: stopping it would kill every child.
var forker struct {
	once sync.Once
	reqs chan forkRequest
}

type forkRequest struct {
	cmd  *exec.Cmd
	done chan error
}

func startCmd(cmd *exec.Cmd) error {
	forker.once.Do(func() {
		forker.reqs = make(chan forkRequest)
		go forkLoop(forker.reqs)
	})
	req := forkRequest{cmd: cmd, done: make(chan error, 1)}
	forker.reqs <- req
	return <-req.done
}

func forkLoop(reqs <-chan forkRequest) {
	runtime.LockOSThread() // never unlocked: this thread must outlive every child
	for r := range reqs {
		r.done <- r.cmd.Start()
	}
}

var pageSize = int64(os.Getpagesize())

// residentBytes reads the resident set size of pid from /proc.
func residentBytes(pid int) (int64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/statm")
	if err != nil {
		return 0, err
	}
	f := bytes.Fields(b)
	if len(f) < 2 {
		return 0, ErrProtocol
	}
	pages, err := strconv.ParseInt(string(f[1]), 10, 64)
	if err != nil {
		return 0, err
	}
	return pages * pageSize, nil
}
