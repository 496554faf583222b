package config

import (
	"errors"
	"fmt"
)

// Every error returned by Load and Validate matches one of these under
// errors.Is; its text names the file, environment variable or flag and the
// key that was rejected.
var (
	// ErrFileNotFound: the file named by --config or MCP_CONFIG_FILE does
	// not exist.
	ErrFileNotFound = errors.New("config file not found")
	// ErrMalformed: the file is not one JSON object (syntax error, another
	// JSON type, a key given twice, data after the object).
	ErrMalformed = errors.New("malformed config file")
	// ErrUnknownKey: a key (or flag) that metamcp does not know.
	ErrUnknownKey = errors.New("unknown key")
	// ErrBadValue: a known key with a value of the wrong type or out of range.
	ErrBadValue = errors.New("bad value")
	// ErrDuplicateTemplate: two templates with the same name.
	ErrDuplicateTemplate = errors.New("duplicate template")
)

// problem is an error whose text is specific ("must be between 1 and 1000,
// got 0") and which matches one sentinel under errors.Is without repeating
// the sentinel's text.
type problem struct {
	kind error
	msg  string
}

func (p *problem) Error() string { return p.msg }
func (p *problem) Unwrap() error { return p.kind }

func newProblem(kind error, format string, args ...any) error {
	return &problem{kind: kind, msg: fmt.Sprintf(format, args...)}
}

func badValue(format string, args ...any) error {
	return newProblem(ErrBadValue, format, args...)
}
