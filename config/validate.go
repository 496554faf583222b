package config

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Validate checks every key against the ranges in the package
// documentation and normalises c in place: log_level upper case (WARNING
// becomes WARN), relative paths made absolute against the working
// directory, Templates sorted by name. It returns all problems found,
// joined; each matches ErrBadValue or ErrDuplicateTemplate under errors.Is.
// Load calls it last; call it yourself on a Config you build by hand.
func (c *Config) Validate() error {
	var errs []error
	for _, s := range settings {
		if err := s.apply(c, s.get(c), ""); err != nil {
			errs = append(errs, fmt.Errorf("config: %q: %w", s.key, err))
		}
	}

	if c.RestartMaxBackoffMS < c.RestartInitialBackoffMS {
		errs = append(errs, fmt.Errorf("config: %q: %w", "restart_max_backoff_ms", badValue(
			"must not be below restart_initial_backoff_ms (%d), got %d", c.RestartInitialBackoffMS, c.RestartMaxBackoffMS)))
	}

	sort.SliceStable(c.Templates, func(i, j int) bool { return c.Templates[i].Name < c.Templates[j].Name })
	for i := range c.Templates {
		t := &c.Templates[i]
		if i > 0 && c.Templates[i-1].Name == t.Name {
			errs = append(errs, fmt.Errorf("config: %w", newProblem(ErrDuplicateTemplate, "template %q is defined twice", t.Name)))
			continue
		}
		err := checkTemplate(t)
		if err == nil && t.Cwd != "" {
			if t.Cwd, err = resolvePath(t.Cwd, ""); err != nil {
				err = fmt.Errorf("%q: %w", "cwd", err)
			}
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("config: template %q: %w", t.Name, err))
		}
	}
	return errors.Join(errs...)
}

// checkTemplate checks one template's name, command, capabilities, tool
// filter and env names, returning the first problem.
func checkTemplate(t *Template) error {
	if !validName(t.Name) {
		return badValue("name must be 1 to 64 characters from A-Z a-z 0-9 _ . -")
	}
	if strings.TrimSpace(t.Command) == "" {
		return badValue("%q: must not be empty", "command")
	}
	for _, c := range t.Capabilities {
		if strings.TrimSpace(c) == "" {
			return badValue("%q: entries must not be empty", "capabilities")
		}
	}
	if err := t.Tools.Validate(); err != nil {
		return badValue("%q: %v", "tools", err)
	}
	names := make([]string, 0, len(t.Env))
	for k := range t.Env {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if k == "" || strings.ContainsAny(k, "=\x00") {
			return badValue("%q: %q is not a valid variable name", "env", k)
		}
	}
	return nil
}

// validName: 1..64 characters of [A-Za-z0-9_.-].
func validName(name string) bool {
	if len(name) < 1 || len(name) > 64 {
		return false
	}
	for _, r := range name {
		ok := r == '_' || r == '.' || r == '-' ||
			(r >= 'A' && r <= 'Z') || (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9')
		if !ok {
			return false
		}
	}
	return true
}
