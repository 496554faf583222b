package actors

import (
	"errors"

	"github.com/metamcp/metamcp/actors/child"
)

// Sentinel errors. Every reply that is an error wraps one of these, so the
// front end can tell a person what to do about it.
var (
	ErrUnknownServer     = errors.New("unknown server")
	ErrUnknownTemplate   = errors.New("unknown template")
	ErrTooManyServers    = errors.New("max_concurrent_servers reached")
	ErrCommandNotAllowed = errors.New("command not in allowed_commands")
	ErrPathNotAllowed    = errors.New("path outside allowed_directories")
	ErrBadRequest        = errors.New("bad request")
	ErrStartFailed       = errors.New("server failed to start")
	ErrStopping          = errors.New("server is stopping")
	ErrNotRunning        = errors.New("server is not running")
	ErrCallTimeout       = errors.New("call timed out")
	ErrCrashed           = errors.New("server crashed during the call")
	ErrShuttingDown      = errors.New("metamcp is shutting down")
)

// crash is the panic value with which a server actor fails when its child
// exits unexpectedly; the root supervisor decides what happens next.
type crash struct {
	reason string
	exit   *child.Exit
	gen    uint64 // the connection that failed
}

func (c *crash) Error() string { return c.reason }
