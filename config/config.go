// Package config loads metamcp's configuration: defaults, the JSON file,
// environment variables and command-line flags, in that order of precedence
// (flags win). See doc.go for the contract.
package config

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

	// Templates holds the configured templates from both "templates" and
	// "mcpServers", sorted by name.
	Templates []Template `json:"-"`
	// Source is the config file that was read, or "" when none was.
	Source string `json:"-"`
}
