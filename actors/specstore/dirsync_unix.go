//go:build !windows

package specstore

import (
	"errors"
	"syscall"
)

// isUnsupported: file systems that cannot fsync a directory.
func isUnsupported(err error) bool {
	return errors.Is(err, syscall.EINVAL) || errors.Is(err, syscall.ENOTSUP)
}
