package child

import (
	"errors"
	"fmt"
	"strings"
)

var (
	// ErrChildExited is matched by every error caused by the child process
	// having exited (see ExitError).
	ErrChildExited = errors.New("child process exited")
	// ErrTimeout is returned when a call's deadline passes first.
	ErrTimeout = errors.New("timed out")
	// ErrCancelled is returned when a call's context is cancelled.
	ErrCancelled = errors.New("cancelled")
	// ErrClosed is returned for calls made after Close.
	ErrClosed = errors.New("connection closed")
	// ErrProtocol is returned when the child breaks the MCP protocol.
	ErrProtocol = errors.New("protocol error")
	// ErrNotSent is matched by the error of a request that never reached
	// the child (it had exited, or its stdin could not be written): it may
	// be sent again, to the next child.
	ErrNotSent = errors.New("request not sent to the child")
)

// ExitError reports that the child exited while a call was in flight.
type ExitError struct{ Exit Exit }

func (e *ExitError) Error() string {
	msg := "child " + e.Exit.String()
	if last := e.Exit.LastStderr(); last != "" {
		msg += "; last stderr: " + last
	}
	return msg
}

// Is makes errors.Is(err, ErrChildExited) true.
func (e *ExitError) Is(target error) bool { return target == ErrChildExited }

// RPCError is a JSON-RPC error answered by the child.
type RPCError struct {
	Code    int
	Message string
	Data    any
}

func (e *RPCError) Error() string {
	return fmt.Sprintf("child answered error %d: %s", e.Code, e.Message)
}

// StartError is returned by Start and Initialize with the child's last
// stderr lines, which usually say why it failed.
type StartError struct {
	Err    error
	Stderr []string
}

func (e *StartError) Error() string {
	msg := e.Err.Error()
	if len(e.Stderr) == 0 {
		return msg
	}
	var exit *ExitError
	if errors.As(e.Err, &exit) && len(e.Stderr) == 1 && exit.Exit.LastStderr() == e.Stderr[0] {
		return msg // the exit already quotes it
	}
	return msg + "; stderr: " + strings.Join(e.Stderr, " | ")
}

func (e *StartError) Unwrap() error { return e.Err }
