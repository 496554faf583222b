package config

import (
	"errors"
	"fmt"
	"path"
)

// ToolFilter says which of a server's tools gateway mode lists: the
// "tools" object of a configured template and of create_server's config.
// Patterns are path.Match globs ("*" does not cross "/") on the tool's name
// as the child lists it, before any renaming. The zero value allows every
// tool.
type ToolFilter struct {
	Allow []string `json:"allow,omitempty"` // empty: every tool
	Deny  []string `json:"deny,omitempty"`  // wins over Allow
}

// Validate returns an error naming the first pattern that is empty or
// malformed (it then wraps path.ErrBadPattern), and its list.
func (f ToolFilter) Validate() error {
	if err := checkGlobs(f.Allow); err != nil {
		return fmt.Errorf("allow: %w", err)
	}
	if err := checkGlobs(f.Deny); err != nil {
		return fmt.Errorf("deny: %w", err)
	}
	return nil
}

func checkGlobs(globs []string) error {
	for _, g := range globs {
		if g == "" {
			return errors.New("a pattern must not be empty")
		}
		if _, err := path.Match(g, ""); err != nil {
			return fmt.Errorf("pattern %q: %w", g, err)
		}
	}
	return nil
}

// Allows says whether the tool named name is listed: no Deny pattern
// matches it, and Allow is empty or one of its patterns does. A malformed
// pattern matches nothing.
func (f ToolFilter) Allows(name string) bool {
	return !matchAny(f.Deny, name) && (len(f.Allow) == 0 || matchAny(f.Allow, name))
}

func matchAny(globs []string, name string) bool {
	for _, g := range globs {
		if ok, _ := path.Match(g, name); ok {
			return true
		}
	}
	return false
}
