package templates

import "errors"

// ErrNameTaken and ErrUnknownTemplate live in builtin.go, next to the names
// they are about.

var (
	// ErrBaseDirRequired is returned by NewServer for file_handler_template
	// when Options.BaseDir is empty.
	ErrBaseDirRequired = errors.New("file_handler_template needs a base directory (Options.BaseDir)")

	// The errors below never leave the package as Go errors: tool handlers
	// turn them into tool results with isError set, whose text is the
	// wrapped message.

	errArguments       = errors.New("tool arguments must be a JSON object")
	errMissingArgument = errors.New("missing required argument")
	errArgumentType    = errors.New("wrong argument type")
	errDivideByZero    = errors.New("division by zero: b must not be 0")
	errNotFinite       = errors.New("result is not a finite number (overflow)")
	errInvalidJSON     = errors.New("invalid JSON")
	errURL             = errors.New("invalid URL")
	errMethod          = errors.New("unsupported HTTP method")
	errHeader          = errors.New("invalid header")
	errTimeout         = errors.New("request timed out")
	errRequest         = errors.New("request failed")
	errSelector        = errors.New("invalid CSS selector")
	errPathEscapes     = errors.New("path escapes the base directory")
	errPath            = errors.New("invalid path")
	errNotRegular      = errors.New("not a regular file")
	errTooLarge        = errors.New("file too large")
	errNotArray        = errors.New("data must be a JSON array of objects, or a string containing one")
)
