package eventstore

import "errors"

var (
	// ErrLocked: another process (another metamcp instance of the same
	// session) has the database open.
	ErrLocked = errors.New("event store in use by another process")
	// ErrClosed: the store was closed.
	ErrClosed = errors.New("event store closed")
	// ErrCorrupt: a record that does not decode.
	ErrCorrupt = errors.New("corrupt event record")
)
