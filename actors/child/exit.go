package child

import (
	"errors"
	"fmt"
	"os/exec"
	"time"
)

// Exit describes how a child process ended.
type Exit struct {
	// Code is the exit status, or -1 when the process was killed by a signal.
	Code int `json:"code"`
	// Signal names the signal that killed it ("SIGKILL"), or "".
	Signal string `json:"signal,omitempty"`
	// At is when the exit was observed.
	At time.Time `json:"at"`
	// Requested is true when metamcp asked the process to stop (Close).
	Requested bool `json:"requested"`
	// Stderr holds the last lines the child wrote to stderr.
	Stderr []string `json:"stderr,omitempty"`
}

// String reads "exited with code 1" or "killed by signal SIGKILL".
func (e Exit) String() string {
	if e.Signal != "" {
		return "killed by signal " + e.Signal
	}
	return fmt.Sprintf("exited with code %d", e.Code)
}

// LastStderr returns the last stderr line, or "".
func (e Exit) LastStderr() string {
	if len(e.Stderr) == 0 {
		return ""
	}
	return e.Stderr[len(e.Stderr)-1]
}

func exitFromWait(err error, requested bool, tail []string) Exit {
	ex := Exit{At: time.Now(), Requested: requested, Stderr: tail}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		ex.Code = ee.ExitCode()
		ex.Signal = signalOf(ee.ProcessState)
	default:
		ex.Code = -1
	}
	return ex
}
