package mcpbridge

import "errors"

var errInternal = errors.New("internal error in metamcp (logged); the session continues — please report it")
