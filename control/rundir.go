package control

import (
	"fmt"
	"os"
	"path/filepath"
)

// RuntimeDir is where instances keep their sockets and records:
// $XDG_RUNTIME_DIR/metamcp when XDG_RUNTIME_DIR is set and absolute, else
// os.UserCacheDir()/metamcp/run. It does not create it.
func RuntimeDir() (string, error) {
	if d := os.Getenv("XDG_RUNTIME_DIR"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "metamcp"), nil
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("finding the runtime directory: %w", err)
	}
	return filepath.Join(cache, "metamcp", "run"), nil
}

// ensureDir creates dir with mode 0700 if needed and checks that it is a
// directory of this user that no one else can enter.
func ensureDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("creating runtime directory: %w", err)
	}
	return checkPrivate(dir)
}

// checkPrivate refuses a directory that others could reach.
func checkPrivate(dir string) error {
	fi, err := os.Lstat(dir)
	if err != nil {
		return fmt.Errorf("runtime directory: %w", err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("%w: %s is not a directory", ErrUnsafeDir, dir)
	}
	if err := checkOwner(fi); err != nil {
		return fmt.Errorf("%w: %s: %v", ErrUnsafeDir, dir, err)
	}
	if perm := fi.Mode().Perm(); perm != 0o700 && !noModes {
		return fmt.Errorf("%w: %s has mode %#o, want 0700 (chmod 700 it)", ErrUnsafeDir, dir, perm)
	}
	return nil
}
