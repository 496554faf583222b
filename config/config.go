package config

import "time"

// Template is a configured (non built-in) template: any MCP server started as
// a child process. Entries of the Claude Desktop "mcpServers" map become
// Templates too.
type Template struct {
	Name         string            `json:"-"`
	Command      string            `json:"command"`
	Args         []string          `json:"args,omitempty"`
	Env          map[string]string `json:"env,omitempty"`
	Cwd          string            `json:"cwd,omitempty"`
	Capabilities []string          `json:"capabilities,omitempty"`
	Description  string            `json:"description,omitempty"`
	// Tools filters the tools gateway mode lists for servers of this
	// template that have no filter of their own.
	Tools ToolFilter `json:"tools,omitzero"`
}

// Config is the validated, merged configuration.
type Config struct {
	DefaultTimeoutSeconds int      `json:"default_timeout_seconds"`
	DefaultMaxMemoryMB    int      `json:"default_max_memory_mb"`
	MaxConcurrentServers  int      `json:"max_concurrent_servers"`
	LogLevel              string   `json:"log_level"`
	LogFile               string   `json:"log_file"`
	AllowedCommands       []string `json:"allowed_commands"`
	TempDirectory         string   `json:"temp_directory"`
	StartTimeoutSeconds   int      `json:"start_timeout_seconds"`
	PoolIdleTTLSeconds    int      `json:"pool_idle_ttl_seconds"`
	PoolMaxPerTemplate    int      `json:"pool_max_per_template"`
	EventHistorySize      int      `json:"event_history_size"`
	FileBaseDirectory     string   `json:"file_base_directory"`
	EnvPassthrough        []string `json:"env_passthrough"`
	HTTPTimeoutSeconds    int      `json:"http_timeout_seconds"`
	HTTPMaxBodyBytes      int64    `json:"http_max_body_bytes"`
	AllowedDirectories    []string `json:"allowed_directories"`

	// Persistence: where a session's state lives, how long events stay,
	// and whether the servers of the session's last run are started again.
	StateDirectory      string `json:"state_directory"`
	Session             string `json:"session"`
	RestoreServers      bool   `json:"restore_servers"`
	EventRetentionCount int    `json:"event_retention_count"`
	EventRetentionDays  int    `json:"event_retention_days"`

	// Supervision: the default restart policy and its backoff and intensity.
	RestartPolicy           string `json:"restart_policy"`
	RestartInitialBackoffMS int    `json:"restart_initial_backoff_ms"`
	RestartMaxBackoffMS     int    `json:"restart_max_backoff_ms"`
	RestartBackoffFactor    int    `json:"restart_backoff_factor"`
	RestartMaxRestarts      int    `json:"restart_max_restarts"`
	RestartWindowSeconds    int    `json:"restart_window_seconds"`
	RestartStableSeconds    int    `json:"restart_stable_seconds"`
	MemoryCheckIntervalMS   int    `json:"memory_check_interval_ms"`
	ProcessShim             string `json:"process_shim"`

	// Gateway mode: what the client is offered (docs/gateway.md).
	Mode        string `json:"mode"`
	ExposeTools bool   `json:"expose_tools"`
	// StartServers are the templates started as servers at start-up, each
	// named after its template; "*" is every configured template.
	StartServers []string `json:"start_servers"`

	// Templates holds the configured templates from both "templates" and
	// "mcpServers", sorted by name.
	Templates []Template `json:"-"`
	// Skipped names the "mcpServers" entries left out by the recursion
	// guard (entries that would start metamcp itself), sorted.
	Skipped []string `json:"-"`
	// Source is the config file that was read, or "" when none was.
	Source string `json:"-"`
}

// DefaultTimeout is default_timeout_seconds as a duration.
func (c *Config) DefaultTimeout() time.Duration { return seconds(c.DefaultTimeoutSeconds) }

// StartTimeout is start_timeout_seconds as a duration.
func (c *Config) StartTimeout() time.Duration { return seconds(c.StartTimeoutSeconds) }

// PoolIdleTTL is pool_idle_ttl_seconds as a duration.
func (c *Config) PoolIdleTTL() time.Duration { return seconds(c.PoolIdleTTLSeconds) }

// EventRetention is event_retention_days as a duration.
func (c *Config) EventRetention() time.Duration {
	return time.Duration(c.EventRetentionDays) * 24 * time.Hour
}

// HTTPTimeout is http_timeout_seconds as a duration.
func (c *Config) HTTPTimeout() time.Duration { return seconds(c.HTTPTimeoutSeconds) }

func seconds(n int) time.Duration { return time.Duration(n) * time.Second }
