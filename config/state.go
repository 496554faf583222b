package config

import (
	"fmt"
	"os"
	"path/filepath"
)

// DefaultSession names the session whose state an instance uses when none
// is chosen.
const DefaultSession = "default"

// SessionDir returns the directory that holds a session's state:
// state_directory/SESSION when state_directory is set, else
// $XDG_STATE_HOME/metamcp/SESSION when XDG_STATE_HOME is set and absolute,
// else ~/.local/state/metamcp/SESSION. session "" is DefaultSession. It
// reads the environment, creates nothing and checks the session name.
func (c *Config) SessionDir(session string) (string, error) {
	if session == "" {
		session = DefaultSession
	}
	if err := CheckSession(session); err != nil {
		return "", err
	}
	base := c.StateDirectory
	if base == "" {
		if x := os.Getenv("XDG_STATE_HOME"); filepath.IsAbs(x) {
			base = filepath.Join(x, "metamcp")
		} else {
			home, err := os.UserHomeDir()
			if err != nil {
				return "", fmt.Errorf("no state directory: set state_directory (%w)", err)
			}
			base = filepath.Join(home, ".local", "state", "metamcp")
		}
	}
	return filepath.Join(base, session), nil
}

// CheckSession accepts a session name: 1 to 64 characters from A-Z a-z 0-9
// _ . -, not "." or "..". A session name is a directory name.
func CheckSession(name string) error {
	if name == "" || len(name) > 64 || name == "." || name == ".." {
		return badValue("session %q: must be 1 to 64 characters, not . or ..", name)
	}
	for _, r := range name {
		if !(r == '_' || r == '.' || r == '-' || (r >= 'A' && r <= 'Z') || (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9')) {
			return badValue("session %q: only A-Z a-z 0-9 _ . - are allowed", name)
		}
	}
	return nil
}
