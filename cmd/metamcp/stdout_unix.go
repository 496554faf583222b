//go:build unix

package main

import (
	"os"

	"golang.org/x/sys/unix"
)

// claimStdout takes the process's stdout for the MCP protocol alone: it
// returns a private duplicate of fd 1 and points fd 1 (and os.Stdout) at
// stderr, so a stray print anywhere in the process cannot corrupt the
// protocol stream.
func claimStdout() (*os.File, error) {
	fd, err := unix.Dup(1)
	if err != nil {
		return nil, err
	}
	unix.CloseOnExec(fd)
	if err := unix.Dup2(2, 1); err != nil {
		unix.Close(fd)
		return nil, err
	}
	os.Stdout = os.Stderr
	return os.NewFile(uintptr(fd), "mcp-stdout"), nil
}
