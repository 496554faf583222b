package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
)

// setting describes one scalar or list key: its JSON key (also its flag
// key), its environment variable, where it lives in Config and which values
// it accepts. Defaults are not here: they live in Defaults.
type setting struct {
	key      string
	env      string                       // "" = no environment variable
	field    func(*Config) any            // *int, *int64, *bool, *string or *[]string
	min, max int64                        // numbers: inclusive range
	nonEmpty bool                         // strings and lists: "" or [] is rejected
	path     bool                         // strings: relative paths are made absolute
	norm     func(string) (string, error) // strings: check and normalise
	entry    func(string) error           // lists: check one entry
}

// settings lists every key of Config that the file, the environment and the
// flags can set, in the order of the doc.go table.
var settings = []setting{
	{key: "default_timeout_seconds", env: "MCP_TIMEOUT_SECONDS", min: 1, max: 3600,
		field: func(c *Config) any { return &c.DefaultTimeoutSeconds }},
	{key: "start_timeout_seconds", min: 1, max: 600,
		field: func(c *Config) any { return &c.StartTimeoutSeconds }},
	{key: "default_max_memory_mb", env: "MCP_MAX_MEMORY_MB", min: 16, max: 1048576,
		field: func(c *Config) any { return &c.DefaultMaxMemoryMB }},
	{key: "max_concurrent_servers", env: "MCP_MAX_SERVERS", min: 1, max: 1000,
		field: func(c *Config) any { return &c.MaxConcurrentServers }},
	{key: "pool_idle_ttl_seconds", min: 1, max: 86400,
		field: func(c *Config) any { return &c.PoolIdleTTLSeconds }},
	{key: "pool_max_per_template", min: 1, max: 100,
		field: func(c *Config) any { return &c.PoolMaxPerTemplate }},
	{key: "event_history_size", min: 100, max: 10000000,
		field: func(c *Config) any { return &c.EventHistorySize }},
	{key: "event_retention_count", min: 100, max: 100000000,
		field: func(c *Config) any { return &c.EventRetentionCount }},
	{key: "event_retention_days", min: 1, max: 3650,
		field: func(c *Config) any { return &c.EventRetentionDays }},
	{key: "http_timeout_seconds", min: 1, max: 3600,
		field: func(c *Config) any { return &c.HTTPTimeoutSeconds }},
	{key: "http_max_body_bytes", min: 1024, max: 1 << 30,
		field: func(c *Config) any { return &c.HTTPMaxBodyBytes }},
	{key: "log_level", env: "MCP_LOG_LEVEL", norm: normLogLevel,
		field: func(c *Config) any { return &c.LogLevel }},
	{key: "log_file", path: true,
		field: func(c *Config) any { return &c.LogFile }},
	{key: "allowed_commands", env: "MCP_ALLOWED_COMMANDS", nonEmpty: true, entry: checkCommand,
		field: func(c *Config) any { return &c.AllowedCommands }},
	{key: "temp_directory", env: "MCP_TEMP_DIR", nonEmpty: true, path: true,
		field: func(c *Config) any { return &c.TempDirectory }},
	{key: "state_directory", path: true,
		field: func(c *Config) any { return &c.StateDirectory }},
	{key: "session", norm: normSession,
		field: func(c *Config) any { return &c.Session }},
	{key: "restore_servers",
		field: func(c *Config) any { return &c.RestoreServers }},
	{key: "file_base_directory", path: true,
		field: func(c *Config) any { return &c.FileBaseDirectory }},
	{key: "env_passthrough", entry: checkEnvName,
		field: func(c *Config) any { return &c.EnvPassthrough }},
	{key: "allowed_directories", entry: checkAbsPath,
		field: func(c *Config) any { return &c.AllowedDirectories }},
	{key: "restart_policy", norm: normRestartPolicy,
		field: func(c *Config) any { return &c.RestartPolicy }},
	{key: "restart_initial_backoff_ms", min: 1, max: 600000,
		field: func(c *Config) any { return &c.RestartInitialBackoffMS }},
	{key: "restart_max_backoff_ms", min: 1, max: 3600000,
		field: func(c *Config) any { return &c.RestartMaxBackoffMS }},
	{key: "restart_backoff_factor", min: 1, max: 10,
		field: func(c *Config) any { return &c.RestartBackoffFactor }},
	{key: "restart_max_restarts", min: 1, max: 1000,
		field: func(c *Config) any { return &c.RestartMaxRestarts }},
	{key: "restart_window_seconds", min: 1, max: 86400,
		field: func(c *Config) any { return &c.RestartWindowSeconds }},
	{key: "restart_stable_seconds", min: 1, max: 86400,
		field: func(c *Config) any { return &c.RestartStableSeconds }},
	{key: "memory_check_interval_ms", min: 50, max: 60000,
		field: func(c *Config) any { return &c.MemoryCheckIntervalMS }},
	{key: "process_shim", norm: normShim,
		field: func(c *Config) any { return &c.ProcessShim }},
	{key: "mode", env: "METAMCP_MODE", norm: normMode,
		field: func(c *Config) any { return &c.Mode }},
	{key: "expose_tools",
		field: func(c *Config) any { return &c.ExposeTools }},
	{key: "start_servers", entry: checkStartServer,
		field: func(c *Config) any { return &c.StartServers }},
}

// Keys returns the keys Options.Flags accepts: every file key except
// "templates" and "mcpServers".
func Keys() []string {
	keys := make([]string, len(settings))
	for i, s := range settings {
		keys[i] = s.key
	}
	return keys
}

func settingFor(key string) (setting, bool) {
	for _, s := range settings {
		if s.key == key {
			return s, true
		}
	}
	return setting{}, false
}

type kind int

const (
	kindNumber kind = iota
	kindString
	kindList
	kindBool
)

func (s setting) kind() kind {
	switch s.field(&Config{}).(type) {
	case *int, *int64:
		return kindNumber
	case *string:
		return kindString
	case *[]string:
		return kindList
	case *bool:
		return kindBool
	}
	panic("config: setting " + s.key + " has an unsupported field type")
}

// get returns the current value as int64, bool, string or []string.
func (s setting) get(c *Config) any {
	switch p := s.field(c).(type) {
	case *bool:
		return *p
	case *int:
		return int64(*p)
	case *int64:
		return *p
	case *string:
		return *p
	case *[]string:
		return *p
	}
	panic("unreachable")
}

// put stores a value that check accepted.
func (s setting) put(c *Config, v any) {
	switch p := s.field(c).(type) {
	case *int:
		*p = int(v.(int64))
	case *int64:
		*p = v.(int64)
	case *bool:
		*p = v.(bool)
	case *string:
		*p = v.(string)
	case *[]string:
		*p = v.([]string)
	}
}

// fromText parses an environment or flag value: numbers in base 10, lists
// comma-separated with spaces trimmed and empty items dropped.
func (s setting) fromText(text string) (any, error) {
	switch s.kind() {
	case kindNumber:
		n, err := strconv.ParseInt(strings.TrimSpace(text), 10, 64)
		if err != nil {
			return nil, badValue("must be a whole number, got %q", text)
		}
		return n, nil
	case kindString:
		return text, nil
	case kindBool:
		b, err := strconv.ParseBool(strings.TrimSpace(text))
		if err != nil {
			return nil, badValue("must be true or false, got %q", text)
		}
		return b, nil
	default:
		list := []string{}
		for _, item := range strings.Split(text, ",") {
			if item = strings.TrimSpace(item); item != "" {
				list = append(list, item)
			}
		}
		return list, nil
	}
}

// fromJSON parses a file value. null is rejected like any other wrong type.
func (s setting) fromJSON(raw json.RawMessage) (any, error) {
	raw = bytes.TrimSpace(raw)
	switch s.kind() {
	case kindNumber:
		n, err := strconv.ParseInt(string(raw), 10, 64)
		if err != nil {
			return nil, badValue("must be a whole number, got %s", show(raw))
		}
		return n, nil
	case kindString:
		var str string
		if err := decodeString(raw, &str); err != nil {
			return nil, err
		}
		return str, nil
	case kindBool:
		switch string(raw) {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
		return nil, badValue("must be true or false, got %s", show(raw))
	default:
		var list []string
		if err := decodeStrings(raw, &list); err != nil {
			return nil, err
		}
		if list == nil {
			list = []string{}
		}
		return list, nil
	}
}

// check validates a parsed value and returns it normalised.
func (s setting) check(v any) (any, error) {
	switch v := v.(type) {
	case int64:
		if v < s.min || v > s.max {
			return nil, badValue("must be between %d and %d, got %d", s.min, s.max, v)
		}
	case string:
		if s.nonEmpty && strings.TrimSpace(v) == "" {
			return nil, badValue("must not be empty")
		}
		if s.norm != nil {
			n, err := s.norm(v)
			if err != nil {
				return nil, badValue("%s", err)
			}
			return n, nil
		}
	case []string:
		if s.nonEmpty && len(v) == 0 {
			return nil, badValue("must not be empty")
		}
		if s.entry != nil {
			for _, e := range v {
				if err := s.entry(e); err != nil {
					return nil, badValue("entry %q: %s", e, err)
				}
			}
		}
	}
	return v, nil
}

// apply checks v and stores it in c. A relative path is resolved against
// base, or against the working directory when base is "".
func (s setting) apply(c *Config, v any, base string) error {
	v, err := s.check(v)
	if err != nil {
		return err
	}
	if p, ok := v.(string); ok && s.path && p != "" {
		if v, err = resolvePath(p, base); err != nil {
			return err
		}
	}
	s.put(c, v)
	return nil
}

// resolvePath makes p absolute: against base, or the working directory when
// base is "".
func resolvePath(p, base string) (string, error) {
	switch {
	case filepath.IsAbs(p):
		return filepath.Clean(p), nil
	case base != "":
		return filepath.Join(base, p), nil
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", badValue("cannot make %q absolute: %v", p, err)
	}
	return abs, nil
}

// RestartPolicies are the values of restart_policy (and of create_server's
// config.restart.policy), as in Erlang/OTP.
var RestartPolicies = []string{"permanent", "transient", "temporary"}

func normRestartPolicy(s string) (string, error) {
	p := strings.ToLower(strings.TrimSpace(s))
	for _, ok := range RestartPolicies {
		if p == ok {
			return p, nil
		}
	}
	return "", fmt.Errorf("must be one of %s, got %q", strings.Join(RestartPolicies, ", "), s)
}

// The values of mode: what metamcp offers the client.
const (
	ModeMeta    = "meta"    // the meta tools only
	ModeGateway = "gateway" // the servers' own tools, resources and prompts only
	ModeBoth    = "both"    // both
)

// Modes are the values of mode, in the order messages name them.
var Modes = []string{ModeMeta, ModeGateway, ModeBoth}

func normMode(s string) (string, error) {
	m := strings.ToLower(strings.TrimSpace(s))
	for _, ok := range Modes {
		if m == ok {
			return m, nil
		}
	}
	return "", fmt.Errorf("must be one of %s, got %q", strings.Join(Modes, ", "), s)
}

func normSession(s string) (string, error) {
	v := strings.TrimSpace(s)
	if err := CheckSession(v); err != nil {
		return "", err
	}
	return v, nil
}

func normShim(s string) (string, error) {
	switch v := strings.ToLower(strings.TrimSpace(s)); v {
	case "auto", "on", "off":
		return v, nil
	}
	return "", fmt.Errorf(`must be "auto", "on" or "off", got %q`, s)
}

// checkAbsPath accepts an absolute path.
func checkAbsPath(p string) error {
	if !filepath.IsAbs(p) {
		return errors.New("must be an absolute path")
	}
	return nil
}

func normLogLevel(s string) (string, error) {
	level := strings.ToUpper(strings.TrimSpace(s))
	switch level {
	case "WARNING":
		return "WARN", nil
	case "DEBUG", "INFO", "WARN", "ERROR":
		return level, nil
	}
	return "", fmt.Errorf("must be one of DEBUG, INFO, WARN (or WARNING), ERROR, got %q", s)
}

// checkCommand accepts a plain command name ("python") or an absolute path.
func checkCommand(c string) error {
	switch {
	case strings.TrimSpace(c) == "":
		return errors.New("must not be empty or only spaces")
	case strings.TrimSpace(c) != c:
		return errors.New("must not start or end with spaces")
	case c == "." || c == "..":
		return errors.New("must be a command name or an absolute path")
	case strings.ContainsRune(c, '/') || strings.ContainsRune(c, filepath.Separator):
		if !filepath.IsAbs(c) {
			return errors.New("must be a plain command name or an absolute path, not a relative path")
		}
	}
	return nil
}

// checkEnvName accepts POSIX environment variable names: a letter or
// underscore, then letters, digits and underscores.
func checkEnvName(name string) error {
	if name == "" {
		return errors.New("must be an environment variable name, got an empty string")
	}
	for i, r := range name {
		letter := r == '_' || (r >= 'A' && r <= 'Z') || (r >= 'a' && r <= 'z')
		if !letter && (i == 0 || r < '0' || r > '9') {
			return errors.New("must be an environment variable name ([A-Za-z_][A-Za-z0-9_]*)")
		}
	}
	return nil
}

// checkStartServer checks one entry of start_servers: a template's name or
// "*". That the template exists is checked at start, against the catalog.
func checkStartServer(name string) error {
	if strings.TrimSpace(name) == "" {
		return errors.New("must be a template name or \"*\", got an empty string")
	}
	return nil
}
