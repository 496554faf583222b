package specstore

import "errors"

var (
	// ErrCorrupt: a record file that is not a valid record.
	ErrCorrupt = errors.New("server record unreadable")
	// ErrSealed: a record's sealed env cannot be opened (servers.key is
	// missing or is not the key it was sealed with).
	ErrSealed = errors.New("server env cannot be unsealed")
)
