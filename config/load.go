package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
)

// Options says where Load looks for settings besides the defaults.
type Options struct {
	// File is the --config flag; "" = not given.
	File string
	// Flags are command-line overrides keyed by the JSON key, e.g.
	// "max_concurrent_servers": "20"; only the keys the caller set. Numbers
	// are base 10, lists comma-separated. See Keys.
	Flags map[string]string
	// Getenv reads the environment; nil = os.Getenv.
	Getenv func(string) string
}

// Load merges defaults, the config file, the environment and opts.Flags
// (later wins), validates the result and returns it. Every problem in every
// layer is reported, joined, each naming its file, variable or flag and key;
// see the package documentation for the rules.
func Load(opts Options) (*Config, error) {
	getenv := opts.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	cfg := Defaults()
	var errs []error

	path, err := findFile(opts.File, getenv)
	if err != nil {
		return nil, err
	}
	if path != "" {
		cfg.Source = path
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("config %s: %w", path, err)
		}
		errs = append(errs, parseFile(&cfg, path, data)...)
	}
	errs = append(errs, applyEnv(&cfg, getenv)...)
	errs = append(errs, applyFlags(&cfg, opts.Flags)...)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &cfg, nil
}

// findFile returns the absolute path of the config file to read, or "".
func findFile(flag string, getenv func(string) string) (string, error) {
	if flag != "" {
		return mustExist(flag, "--config")
	}
	if env := strings.TrimSpace(getenv("MCP_CONFIG_FILE")); env != "" {
		return mustExist(env, "MCP_CONFIG_FILE")
	}
	path := userConfigFile(getenv)
	if path == "" {
		return "", nil
	}
	if _, err := os.Stat(path); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "", nil
		}
		return "", fmt.Errorf("config %s: %w", path, err)
	}
	return path, nil
}

func mustExist(path, from string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", fmt.Errorf("config %s (from %s): %w", path, from, err)
	}
	if _, err := os.Stat(abs); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			err = newProblem(ErrFileNotFound, "no such file")
		}
		return "", fmt.Errorf("config %s (from %s): %w", abs, from, err)
	}
	return abs, nil
}

// userConfigFile is $XDG_CONFIG_HOME/metamcp/meta_mcp_config.json, else the
// same under os.UserConfigDir, computed with getenv so tests stay hermetic.
func userConfigFile(getenv func(string) string) string {
	dir := getenv("XDG_CONFIG_HOME")
	if !filepath.IsAbs(dir) { // os.UserConfigDir ignores a relative one too
		dir = ""
		switch runtime.GOOS {
		case "windows":
			dir = getenv("AppData")
		case "darwin", "ios":
			if home := getenv("HOME"); home != "" {
				dir = filepath.Join(home, "Library", "Application Support")
			}
		case "plan9":
			if home := getenv("home"); home != "" {
				dir = filepath.Join(home, "lib")
			}
		default:
			if home := getenv("HOME"); home != "" {
				dir = filepath.Join(home, ".config")
			}
		}
	}
	if dir == "" {
		return ""
	}
	return filepath.Join(dir, "metamcp", "meta_mcp_config.json")
}

// applyEnv applies the MCP_* variables; empty values are ignored and
// relative paths resolve against the working directory.
func applyEnv(c *Config, getenv func(string) string) []error {
	var errs []error
	for _, s := range settings {
		if s.env == "" {
			continue
		}
		text := strings.TrimSpace(getenv(s.env))
		if text == "" {
			continue
		}
		v, err := s.fromText(text)
		if err == nil {
			err = s.apply(c, v, "")
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("environment %s: %w", s.env, err))
		}
	}
	return errs
}

// applyFlags applies the command-line overrides in key order; relative
// paths resolve against the working directory.
func applyFlags(c *Config, flags map[string]string) []error {
	keys := make([]string, 0, len(flags))
	for k := range flags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var errs []error
	for _, k := range keys {
		s, ok := settingFor(k)
		if !ok {
			errs = append(errs, fmt.Errorf("flags: %w", newProblem(ErrUnknownKey, "unknown key %q", k)))
			continue
		}
		v, err := s.fromText(flags[k])
		if err == nil {
			err = s.apply(c, v, "")
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("flag %q: %w", k, err))
		}
	}
	return errs
}
