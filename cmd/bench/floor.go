//go:build linux

package main

import (
	"io"
	"os"
	"os/exec"
	"syscall"
)

// copyRelayArg runs the harness binary as the floor of any relay: a
// process between client and child that only copies bytes both ways — no
// JSON, no lines. What it adds to a call is what a process in the middle
// costs on this machine (pipe wake-ups, scheduling), whatever it does.
const copyRelayArg = "copy-relay"

// copyRelay runs argv as its child and copies stdin to the child's stdin
// and the child's stdout to stdout until stdin ends; it returns the exit
// code.
func copyRelay(argv []string) int {
	c := exec.Command(argv[0], argv[1:]...)
	c.Stderr = os.Stderr
	c.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	in, err := c.StdinPipe()
	if err != nil {
		return 1
	}
	out, err := c.StdoutPipe()
	if err != nil {
		return 1
	}
	if err := c.Start(); err != nil {
		return 1
	}
	go func() {
		_, _ = io.CopyBuffer(struct{ io.Writer }{os.Stdout}, struct{ io.Reader }{out}, make([]byte, 64<<10))
	}()
	_, _ = io.CopyBuffer(struct{ io.Writer }{in}, struct{ io.Reader }{os.Stdin}, make([]byte, 64<<10))
	_ = in.Close()
	_ = c.Wait()
	return 0
}
