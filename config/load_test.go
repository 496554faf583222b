package config

import (
	"errors"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
)

func TestLoadNoFileGivesDefaults(t *testing.T) {
	cfg, err := Load(Options{Getenv: fakeEnv(t, nil)})
	if err != nil {
		t.Fatal(err)
	}
	if want := Defaults(); !reflect.DeepEqual(*cfg, want) {
		t.Errorf("Load() = %+v, want %+v", *cfg, want)
	}
	if cfg.Source != "" {
		t.Errorf("Source = %q, want none", cfg.Source)
	}
}

// TestLoadPrecedence: flags > environment > file > defaults.
func TestLoadPrecedence(t *testing.T) {
	tests := []struct {
		name  string
		file  string // "" = no file
		env   map[string]string
		flags map[string]string
		want  int // max_concurrent_servers
	}{
		{name: "defaults", want: 10},
		{name: "file over defaults", file: `{"max_concurrent_servers": 20}`, want: 20},
		{name: "env over defaults", env: map[string]string{"MCP_MAX_SERVERS": "30"}, want: 30},
		{name: "env over file", file: `{"max_concurrent_servers": 20}`,
			env: map[string]string{"MCP_MAX_SERVERS": "30"}, want: 30},
		{name: "flag over env and file", file: `{"max_concurrent_servers": 20}`,
			env:   map[string]string{"MCP_MAX_SERVERS": "30"},
			flags: map[string]string{"max_concurrent_servers": "40"}, want: 40},
		{name: "flag over defaults", flags: map[string]string{"max_concurrent_servers": "40"}, want: 40},
		{name: "empty env ignored", file: `{"max_concurrent_servers": 20}`,
			env: map[string]string{"MCP_MAX_SERVERS": " "}, want: 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := Options{Getenv: fakeEnv(t, tt.env), Flags: tt.flags}
			if tt.file != "" {
				opts.File = writeConfig(t, t.TempDir(), "c.json", tt.file)
			}
			cfg, err := Load(opts)
			if err != nil {
				t.Fatal(err)
			}
			if cfg.MaxConcurrentServers != tt.want {
				t.Errorf("max_concurrent_servers = %d, want %d", cfg.MaxConcurrentServers, tt.want)
			}
			if cfg.Source != opts.File {
				t.Errorf("Source = %q, want %q", cfg.Source, opts.File)
			}
		})
	}
}

func TestLoadFileValues(t *testing.T) {
	dir := t.TempDir()
	path := writeConfig(t, dir, "c.json", `{
		"default_timeout_seconds": 60, "default_max_memory_mb": 1024, "max_concurrent_servers": 5,
		"log_level": "debug", "log_file": "logs/metamcp.log", "allowed_commands": ["uv", "/usr/bin/python3"],
		"temp_directory": "/var/tmp/mm", "start_timeout_seconds": 20, "pool_idle_ttl_seconds": 60,
		"pool_max_per_template": 3, "event_history_size": 500, "file_base_directory": "files",
		"env_passthrough": ["PATH", "HOME"], "http_timeout_seconds": 5, "http_max_body_bytes": 2048,
		"allowed_directories": ["/srv/mcp"], "restart_policy": "Transient", "restart_initial_backoff_ms": 50,
		"restart_max_backoff_ms": 5000, "restart_backoff_factor": 3, "restart_max_restarts": 7,
		"restart_window_seconds": 30, "restart_stable_seconds": 20, "memory_check_interval_ms": 500,
		"process_shim": "OFF", "state_directory": "state", "event_retention_count": 500,
		"event_retention_days": 7, "session": "work-2", "restore_servers": false,
		"mode": " Gateway", "expose_tools": false, "start_servers": ["*", "basic_calculator"]
	}`)
	cfg, err := Load(Options{File: path, Getenv: fakeEnv(t, nil)})
	if err != nil {
		t.Fatal(err)
	}
	want := Config{
		DefaultTimeoutSeconds: 60, DefaultMaxMemoryMB: 1024, MaxConcurrentServers: 5,
		LogLevel: "DEBUG", LogFile: filepath.Join(dir, "logs", "metamcp.log"),
		AllowedCommands: []string{"uv", "/usr/bin/python3"}, TempDirectory: "/var/tmp/mm",
		StartTimeoutSeconds: 20, PoolIdleTTLSeconds: 60, PoolMaxPerTemplate: 3, EventHistorySize: 500,
		FileBaseDirectory: filepath.Join(dir, "files"), EnvPassthrough: []string{"PATH", "HOME"},
		HTTPTimeoutSeconds: 5, HTTPMaxBodyBytes: 2048, Source: path,
		AllowedDirectories: []string{"/srv/mcp"}, RestartPolicy: "transient", RestartInitialBackoffMS: 50,
		RestartMaxBackoffMS: 5000, RestartBackoffFactor: 3, RestartMaxRestarts: 7,
		RestartWindowSeconds: 30, RestartStableSeconds: 20, MemoryCheckIntervalMS: 500, ProcessShim: "off",
		StateDirectory: filepath.Join(dir, "state"), EventRetentionCount: 500, EventRetentionDays: 7,
		Session: "work-2", RestoreServers: false, Mode: "gateway", ExposeTools: false,
		StartServers: []string{"*", "basic_calculator"},
	}
	if !reflect.DeepEqual(*cfg, want) {
		t.Errorf("Load() =\n%+v\nwant\n%+v", *cfg, want)
	}
}

func TestLoadEnvVars(t *testing.T) {
	wd := cwd(t)
	tests := []struct {
		env, value string
		got        func(*Config) any
		want       any
	}{
		{"MCP_TIMEOUT_SECONDS", "45", func(c *Config) any { return c.DefaultTimeoutSeconds }, 45},
		{"MCP_MAX_SERVERS", " 7 ", func(c *Config) any { return c.MaxConcurrentServers }, 7},
		{"MCP_MAX_MEMORY_MB", "2048", func(c *Config) any { return c.DefaultMaxMemoryMB }, 2048},
		{"MCP_LOG_LEVEL", "warning", func(c *Config) any { return c.LogLevel }, "WARN"},
		{"MCP_LOG_LEVEL", "Error", func(c *Config) any { return c.LogLevel }, "ERROR"},
		{"MCP_TEMP_DIR", "/srv/tmp", func(c *Config) any { return c.TempDirectory }, "/srv/tmp"},
		{"MCP_TEMP_DIR", "rel/tmp", func(c *Config) any { return c.TempDirectory }, filepath.Join(wd, "rel", "tmp")},
		{"METAMCP_MODE", " META ", func(c *Config) any { return c.Mode }, "meta"},
		{"MCP_ALLOWED_COMMANDS", " python , node,,/opt/bin/deno ", func(c *Config) any { return c.AllowedCommands },
			[]string{"python", "node", "/opt/bin/deno"}},
	}
	for _, tt := range tests {
		t.Run(tt.env+"="+tt.value, func(t *testing.T) {
			cfg, err := Load(Options{Getenv: fakeEnv(t, map[string]string{tt.env: tt.value})})
			if err != nil {
				t.Fatal(err)
			}
			if got := tt.got(cfg); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("%s=%q gives %#v, want %#v", tt.env, tt.value, got, tt.want)
			}
		})
	}
}

func TestLoadFlags(t *testing.T) {
	wd := cwd(t)
	tests := []struct {
		key, value string
		got        func(*Config) any
		want       any
	}{
		{"start_timeout_seconds", "15", func(c *Config) any { return c.StartTimeoutSeconds }, 15},
		{"http_max_body_bytes", "1073741824", func(c *Config) any { return c.HTTPMaxBodyBytes }, int64(1 << 30)},
		{"log_level", "debug", func(c *Config) any { return c.LogLevel }, "DEBUG"},
		{"log_file", "", func(c *Config) any { return c.LogFile }, ""},
		{"log_file", "m.log", func(c *Config) any { return c.LogFile }, filepath.Join(wd, "m.log")},
		{"env_passthrough", "PATH, LANG", func(c *Config) any { return c.EnvPassthrough }, []string{"PATH", "LANG"}},
		{"env_passthrough", "", func(c *Config) any { return c.EnvPassthrough }, []string{}},
		{"file_base_directory", "/data", func(c *Config) any { return c.FileBaseDirectory }, "/data"},
		{"restore_servers", "false", func(c *Config) any { return c.RestoreServers }, false},
		{"session", " work ", func(c *Config) any { return c.Session }, "work"},
		{"mode", "gateway", func(c *Config) any { return c.Mode }, "gateway"},
		{"mode", "Both", func(c *Config) any { return c.Mode }, "both"},
		{"expose_tools", "false", func(c *Config) any { return c.ExposeTools }, false},
	}
	for _, tt := range tests {
		t.Run(tt.key+"="+tt.value, func(t *testing.T) {
			cfg, err := Load(Options{Getenv: fakeEnv(t, nil), Flags: map[string]string{tt.key: tt.value}})
			if err != nil {
				t.Fatal(err)
			}
			if got := tt.got(cfg); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("flag %s=%q gives %#v, want %#v", tt.key, tt.value, got, tt.want)
			}
		})
	}
}

// TestLoadErrors: every rejected setting stops Load with a message that
// names it, and matches the right sentinel.
func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name  string
		file  string
		env   map[string]string
		flags map[string]string
		is    error
		want  []string // substrings of the message; "FILE" is replaced by the file's path
	}{
		{name: "unknown key", file: `{"max_servers": 5}`, is: ErrUnknownKey,
			want: []string{`config FILE: unknown key "max_servers"`}},
		{name: "zero servers", file: `{"max_concurrent_servers": 0}`, is: ErrBadValue,
			want: []string{`config FILE: "max_concurrent_servers": must be between 1 and 1000, got 0`}},
		{name: "negative memory", file: `{"default_max_memory_mb": -5}`, is: ErrBadValue,
			want: []string{`"default_max_memory_mb": must be between 16 and 1048576, got -5`}},
		{name: "string for number", file: `{"default_timeout_seconds": "30"}`, is: ErrBadValue,
			want: []string{`"default_timeout_seconds": must be a whole number, got "30"`}},
		{name: "fraction", file: `{"event_history_size": 100.5}`, is: ErrBadValue,
			want: []string{`"event_history_size": must be a whole number, got 100.5`}},
		{name: "null", file: `{"log_level": null}`, is: ErrBadValue,
			want: []string{`"log_level": must be a string, got null`}},
		{name: "bad log level in file", file: `{"log_level": "loud"}`, is: ErrBadValue,
			want: []string{`"log_level": must be one of DEBUG, INFO, WARN (or WARNING), ERROR, got "loud"`}},
		{name: "body too small", file: `{"http_max_body_bytes": 1023}`, is: ErrBadValue,
			want: []string{`"http_max_body_bytes": must be between 1024 and 1073741824, got 1023`}},
		{name: "empty allowed_commands", file: `{"allowed_commands": []}`, is: ErrBadValue,
			want: []string{`"allowed_commands": must not be empty`}},
		{name: "spaces-only command", file: `{"allowed_commands": ["python", "  "]}`, is: ErrBadValue,
			want: []string{`"allowed_commands": entry "  ": must not be empty or only spaces`}},
		{name: "relative command path", file: `{"allowed_commands": ["bin/tool"]}`, is: ErrBadValue,
			want: []string{`"allowed_commands": entry "bin/tool": must be a plain command name or an absolute path`}},
		{name: "commands not a list", file: `{"allowed_commands": "python"}`, is: ErrBadValue,
			want: []string{`"allowed_commands": must be an array of strings, got "python"`}},
		{name: "bad env name", file: `{"env_passthrough": ["1PATH"]}`, is: ErrBadValue,
			want: []string{`"env_passthrough": entry "1PATH"`}},
		{name: "restore not a bool", file: `{"restore_servers": "no"}`, is: ErrBadValue,
			want: []string{`"restore_servers": must be true or false, got "no"`}},
		{name: "restore flag not a bool", flags: map[string]string{"restore_servers": "maybe"}, is: ErrBadValue,
			want: []string{`must be true or false, got "maybe"`}},
		{name: "bad mode", file: `{"mode": "proxy"}`, is: ErrBadValue,
			want: []string{`config FILE: "mode": must be one of meta, gateway, both, got "proxy"`}},
		{name: "empty mode", file: `{"mode": ""}`, is: ErrBadValue,
			want: []string{`"mode": must be one of meta, gateway, both, got ""`}},
		{name: "env bad mode", env: map[string]string{"METAMCP_MODE": "all"}, is: ErrBadValue,
			want: []string{`environment METAMCP_MODE: must be one of meta, gateway, both, got "all"`}},
		{name: "flag bad mode", flags: map[string]string{"mode": "tools"}, is: ErrBadValue,
			want: []string{`flag "mode": must be one of meta, gateway, both, got "tools"`}},
		{name: "expose_tools not a bool", file: `{"expose_tools": "yes"}`, is: ErrBadValue,
			want: []string{`"expose_tools": must be true or false, got "yes"`}},
		{name: "expose_tools flag not a bool", flags: map[string]string{"expose_tools": "sometimes"}, is: ErrBadValue,
			want: []string{`flag "expose_tools": must be true or false, got "sometimes"`}},
		{name: "session with a slash", file: `{"session": "../x"}`, is: ErrBadValue,
			want: []string{`"session": `, `only A-Z a-z 0-9 _ . - are allowed`}},
		{name: "empty temp dir", file: `{"temp_directory": ""}`, is: ErrBadValue,
			want: []string{`"temp_directory": must not be empty`}},
		{name: "all problems reported", file: `{"max_servers": 5, "start_timeout_seconds": 601}`,
			env: map[string]string{"MCP_MAX_MEMORY_MB": "8"}, flags: map[string]string{"nope": "1"}, is: ErrBadValue,
			want: []string{`unknown key "max_servers"`, `"start_timeout_seconds": must be between 1 and 600, got 601`,
				`environment MCP_MAX_MEMORY_MB: must be between 16 and 1048576, got 8`, `flags: unknown key "nope"`}},

		{name: "not an object", file: "\n  [1, 2]", is: ErrMalformed,
			want: []string{`config FILE: line 2, column 3: must be a JSON object, got array`}},
		{name: "syntax error", file: "{\n  \"log_level\": \"INFO\",\n}", is: ErrMalformed,
			want: []string{`config FILE: line 3, column 1: invalid character '}'`}},
		{name: "truncated", file: `{"log_level": "INFO"`, is: ErrMalformed, want: []string{`unexpected end of file`}},
		{name: "trailing data", file: `{} {}`, is: ErrMalformed, want: []string{`line 1, column 4: invalid character '{' after top-level value`}},
		{name: "empty file", file: " \n", is: ErrMalformed, want: []string{`the file is empty`}},
		{name: "key twice", file: `{"log_level": "INFO", "log_level": "DEBUG"}`, is: ErrMalformed,
			want: []string{`key "log_level" is given twice`}},

		{name: "env abc timeout", env: map[string]string{"MCP_TIMEOUT_SECONDS": "abc"}, is: ErrBadValue,
			want: []string{`environment MCP_TIMEOUT_SECONDS: must be a whole number, got "abc"`}},
		{name: "env abc servers", env: map[string]string{"MCP_MAX_SERVERS": "abc"}, is: ErrBadValue,
			want: []string{`environment MCP_MAX_SERVERS: must be a whole number, got "abc"`}},
		{name: "env zero servers", env: map[string]string{"MCP_MAX_SERVERS": "0"}, is: ErrBadValue,
			want: []string{`environment MCP_MAX_SERVERS: must be between 1 and 1000, got 0`}},
		{name: "env negative memory", env: map[string]string{"MCP_MAX_MEMORY_MB": "-1"}, is: ErrBadValue,
			want: []string{`environment MCP_MAX_MEMORY_MB: must be between 16 and 1048576, got -1`}},
		{name: "env bad log level", env: map[string]string{"MCP_LOG_LEVEL": "verbose"}, is: ErrBadValue,
			want: []string{`environment MCP_LOG_LEVEL: must be one of`, `got "verbose"`}},
		{name: "env relative command", env: map[string]string{"MCP_ALLOWED_COMMANDS": "python,./x"}, is: ErrBadValue,
			want: []string{`environment MCP_ALLOWED_COMMANDS: entry "./x"`}},
		{name: "env only commas", env: map[string]string{"MCP_ALLOWED_COMMANDS": ", ,"}, is: ErrBadValue,
			want: []string{`environment MCP_ALLOWED_COMMANDS: must not be empty`}},
		{name: "bad file value even if env overrides", file: `{"max_concurrent_servers": 0}`,
			env: map[string]string{"MCP_MAX_SERVERS": "5"}, is: ErrBadValue,
			want: []string{`"max_concurrent_servers": must be between 1 and 1000, got 0`}},

		{name: "unknown flag", flags: map[string]string{"max_servers": "5"}, is: ErrUnknownKey,
			want: []string{`flags: unknown key "max_servers"`}},
		{name: "templates is not a flag", flags: map[string]string{"templates": "x"}, is: ErrUnknownKey,
			want: []string{`flags: unknown key "templates"`}},
		{name: "bad flag number", flags: map[string]string{"pool_max_per_template": "many"}, is: ErrBadValue,
			want: []string{`flag "pool_max_per_template": must be a whole number, got "many"`}},
		{name: "flag out of range", flags: map[string]string{"pool_idle_ttl_seconds": "86401"}, is: ErrBadValue,
			want: []string{`flag "pool_idle_ttl_seconds": must be between 1 and 86400, got 86401`}},

		{name: "template unknown key", file: `{"templates": {"db": {"command": "python", "comand": "x"}}}`,
			is: ErrUnknownKey, want: []string{`config FILE: template "db": unknown key "comand"`}},
		{name: "template without command", file: `{"templates": {"db": {"args": ["x"]}}}`,
			is: ErrBadValue, want: []string{`template "db": "command": must not be empty`}},
		{name: "template bad name", file: `{"templates": {"my db": {"command": "python"}}}`,
			is: ErrBadValue, want: []string{`template "my db": name must be 1 to 64 characters`}},
		{name: "template name too long", file: `{"templates": {"` + strings.Repeat("a", 65) + `": {"command": "python"}}}`,
			is: ErrBadValue, want: []string{`name must be 1 to 64 characters`}},
		{name: "template empty capability", file: `{"templates": {"db": {"command": "python", "capabilities": ["sql", ""]}}}`,
			is: ErrBadValue, want: []string{`template "db": "capabilities": entries must not be empty`}},
		{name: "template args not strings", file: `{"templates": {"db": {"command": "python", "args": [1]}}}`,
			is: ErrBadValue, want: []string{`template "db": "args": must be an array of strings, got [1]`}},
		{name: "template bad glob", file: `{"templates": {"db": {"command": "python", "tools": {"deny": ["drop_*", "[a-"]}}}}`,
			is: ErrBadValue, want: []string{`template "db": "tools": deny: pattern "[a-": syntax error in pattern`}},
		{name: "template empty glob", file: `{"templates": {"db": {"command": "python", "tools": {"allow": [""]}}}}`,
			is: ErrBadValue, want: []string{`template "db": "tools": allow: a pattern must not be empty`}},
		{name: "template tools unknown key", file: `{"templates": {"db": {"command": "python", "tools": {"only": ["x"]}}}}`,
			is: ErrUnknownKey, want: []string{`template "db": "tools": unknown key "only"`}},
		{name: "template tools not an object", file: `{"templates": {"db": {"command": "python", "tools": ["x"]}}}`,
			is: ErrBadValue, want: []string{`template "db": "tools": must be an object, got ["x"]`}},
		{name: "template allow not a list", file: `{"templates": {"db": {"command": "python", "tools": {"allow": "x*"}}}}`,
			is: ErrBadValue, want: []string{`template "db": "tools": "allow": must be an array of strings, got "x*"`}},
		{name: "template allow twice", file: `{"templates": {"db": {"command": "python", "tools": {"allow": [], "allow": []}}}}`,
			is: ErrMalformed, want: []string{`template "db": "tools": key "allow" is given twice`}},
		{name: "template not an object", file: `{"templates": {"db": "python"}}`,
			is: ErrBadValue, want: []string{`template "db": must be an object, got "python"`}},
		{name: "templates not an object", file: `{"templates": []}`,
			is: ErrBadValue, want: []string{`"templates": must be an object, got []`}},
		{name: "template twice", file: `{"templates": {"db": {"command": "a"}, "db": {"command": "b"}}}`,
			is: ErrDuplicateTemplate, want: []string{`template "db" is defined twice in "templates"`}},
		{name: "template in both maps",
			file: `{"templates": {"db": {"command": "python"}}, "mcpServers": {"db": {"command": "node"}}}`,
			is:   ErrDuplicateTemplate, want: []string{`config FILE: template "db" is defined in both "templates" and "mcpServers"`}},
		{name: "claude keys without mcpServers", file: `{"globalShortcut": "Ctrl+Space"}`,
			is: ErrUnknownKey, want: []string{`unknown key "globalShortcut"`}},
		{name: "other unknown key with mcpServers", file: `{"mcpServers": {}, "globalShortcut": "", "theme": "dark"}`,
			is: ErrUnknownKey, want: []string{`unknown key "theme"`}},
		{name: "server without command", file: `{"mcpServers": {"remote": {"type": "http", "url": "https://x"}}}`,
			is: ErrBadValue, want: []string{`mcpServers "remote": "command": must not be empty (add "disabled": true`}},
		{name: "server args wrong type", file: `{"mcpServers": {"fs": {"command": "npx", "args": "-y"}}}`,
			is: ErrBadValue, want: []string{`mcpServers "fs": "args": must be an array of strings, got "-y"`}},
		{name: "server disabled not bool", file: `{"mcpServers": {"fs": {"command": "npx", "disabled": "yes"}}}`,
			is: ErrBadValue, want: []string{`mcpServers "fs": "disabled": must be true or false, got "yes"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := Options{Getenv: fakeEnv(t, tt.env), Flags: tt.flags}
			if tt.file != "" {
				opts.File = writeConfig(t, t.TempDir(), "meta_mcp_config.json", tt.file)
			}
			cfg, err := Load(opts)
			if err == nil {
				t.Fatalf("Load() = %+v, want an error", cfg)
			}
			if !errors.Is(err, tt.is) {
				t.Errorf("error %q does not match %v", err, tt.is)
			}
			for _, w := range tt.want {
				if w = strings.ReplaceAll(w, "FILE", opts.File); !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\ndoes not contain %q", err, w)
				}
			}
		})
	}
}

func TestLoadClaudeDesktop(t *testing.T) {
	dir := t.TempDir()
	path := writeConfig(t, dir, "claude_desktop_config.json", "\uFEFF"+`{
	  "globalShortcut": "Ctrl+Space",
	  "preferences": {"menuBarEnabled": false},
	  "isDxtAutoUpdatesEnabled": true,
	  "dxt": {}, "extensions": [],
	  "mcpServers": {
	    "filesystem": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-filesystem", "/tmp"],
	                   "env": {"DEBUG": "1"}, "type": "stdio", "description": 7},
	    "metamcp": {"command": "metamcp", "args": ["serve", "--config", "x.json"]},
	    "meta-abs": {"command": "/usr/local/bin/metamcp", "args": ["serve"]},
	    "meta win": {"command": "C:\\Tools\\MetaMCP.exe", "args": ["serve"]},
	    "meta-version": {"command": "metamcp", "args": ["version"]},
	    "off": {"command": "node", "disabled": true},
	    "off-broken": {"disabled": true, "args": 3},
	    "on": {"command": "node", "disabled": false, "args": null, "cwd": "srv", "tools": {"allow": 3}}
	  },
	  "templates": {"mine": {"command": "python3", "capabilities": ["sql"], "description": "d",
	                         "tools": {"allow": ["query_*", "list_?"], "deny": ["query_drop"]}}}
	}`)
	cfg, err := Load(Options{File: path, Getenv: fakeEnv(t, nil)})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := names(cfg.Templates), []string{"filesystem", "meta-version", "mine", "on"}; !reflect.DeepEqual(got, want) {
		t.Errorf("templates = %v, want %v", got, want)
	}
	if want := []string{"meta win", "meta-abs", "metamcp"}; !reflect.DeepEqual(cfg.Skipped, want) {
		t.Errorf("Skipped = %v, want %v", cfg.Skipped, want)
	}
	fs := cfg.Templates[0]
	if fs.Command != "npx" || len(fs.Args) != 3 || fs.Env["DEBUG"] != "1" || fs.Description != "" {
		t.Errorf("filesystem = %+v", fs)
	}
	if on := cfg.Templates[3]; on.Cwd != filepath.Join(dir, "srv") || on.Args != nil {
		t.Errorf("on = %+v, want cwd %s and no args", on, filepath.Join(dir, "srv"))
	}
	if mine := cfg.Templates[2]; mine.Description != "d" || !reflect.DeepEqual(mine.Capabilities, []string{"sql"}) ||
		!reflect.DeepEqual(mine.Tools, ToolFilter{Allow: []string{"query_*", "list_?"}, Deny: []string{"query_drop"}}) {
		t.Errorf("mine = %+v", mine)
	}
	if on := cfg.Templates[3]; !reflect.DeepEqual(on.Tools, ToolFilter{}) {
		t.Errorf("on: tools %+v from mcpServers, want none (only metamcp's templates have them)", on.Tools)
	}
}

func TestLoadRelativePaths(t *testing.T) {
	dir := t.TempDir()
	path := writeConfig(t, dir, "sub/c.json", `{"temp_directory": "tmp", "file_base_directory": "../files",
		"templates": {"t": {"command": "python", "cwd": "work"}}}`)
	cfg, err := Load(Options{File: path, Getenv: fakeEnv(t, nil)})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ what, got, want string }{
		{"temp_directory", cfg.TempDirectory, filepath.Join(dir, "sub", "tmp")},
		{"file_base_directory", cfg.FileBaseDirectory, filepath.Join(dir, "files")},
		{"template cwd", cfg.Templates[0].Cwd, filepath.Join(dir, "sub", "work")},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s = %q, want %q", tt.what, tt.got, tt.want)
		}
	}
}

func TestLoadFindsFile(t *testing.T) {
	type setup struct{ flag, envFile, xdg, home string }
	tests := []struct {
		name   string
		setup  func(t *testing.T, dir string) setup
		source func(dir string) string // "" = no file read
		is     error
	}{
		{name: "--config", source: func(d string) string { return filepath.Join(d, "flag.json") },
			setup: func(t *testing.T, d string) setup {
				writeConfig(t, d, "env.json", `{}`)
				return setup{flag: writeConfig(t, d, "flag.json", `{}`), envFile: filepath.Join(d, "env.json")}
			}},
		{name: "--config missing", is: ErrFileNotFound,
			setup: func(t *testing.T, d string) setup { return setup{flag: filepath.Join(d, "nope.json")} }},
		{name: "MCP_CONFIG_FILE", source: func(d string) string { return filepath.Join(d, "env.json") },
			setup: func(t *testing.T, d string) setup {
				writeConfig(t, d, "xdg/metamcp/meta_mcp_config.json", `{}`)
				return setup{envFile: writeConfig(t, d, "env.json", `{}`), xdg: filepath.Join(d, "xdg")}
			}},
		{name: "MCP_CONFIG_FILE missing", is: ErrFileNotFound,
			setup: func(t *testing.T, d string) setup {
				writeConfig(t, d, "xdg/metamcp/meta_mcp_config.json", `{}`)
				return setup{envFile: filepath.Join(d, "nope.json"), xdg: filepath.Join(d, "xdg")}
			}},
		{name: "XDG_CONFIG_HOME", source: func(d string) string { return filepath.Join(d, "xdg", "metamcp", "meta_mcp_config.json") },
			setup: func(t *testing.T, d string) setup {
				writeConfig(t, d, "xdg/metamcp/meta_mcp_config.json", `{}`)
				return setup{xdg: filepath.Join(d, "xdg"), home: d}
			}},
		{name: "no file anywhere", source: func(string) string { return "" },
			setup: func(t *testing.T, d string) setup { return setup{xdg: filepath.Join(d, "xdg"), home: d} }},
	}
	if runtime.GOOS != "windows" && runtime.GOOS != "darwin" && runtime.GOOS != "ios" && runtime.GOOS != "plan9" {
		tests = append(tests, struct {
			name   string
			setup  func(t *testing.T, dir string) setup
			source func(dir string) string
			is     error
		}{name: "HOME/.config when XDG unset", source: func(d string) string { return filepath.Join(d, ".config", "metamcp", "meta_mcp_config.json") },
			setup: func(t *testing.T, d string) setup {
				writeConfig(t, d, ".config/metamcp/meta_mcp_config.json", `{}`)
				return setup{home: d}
			}})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			s := tt.setup(t, dir)
			env := map[string]string{"MCP_CONFIG_FILE": s.envFile, "XDG_CONFIG_HOME": s.xdg, "HOME": s.home}
			cfg, err := Load(Options{File: s.flag, Getenv: func(k string) string { return env[k] }})
			if tt.is != nil {
				if !errors.Is(err, tt.is) {
					t.Fatalf("Load() error = %v, want %v", err, tt.is)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if want := tt.source(dir); cfg.Source != want {
				t.Errorf("Source = %q, want %q", cfg.Source, want)
			}
		})
	}
}

func TestMissingConfigFileMessage(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "gone.json")
	_, err := Load(Options{Getenv: fakeEnv(t, map[string]string{"MCP_CONFIG_FILE": missing})})
	want := "config " + missing + " (from MCP_CONFIG_FILE): no such file"
	if err == nil || err.Error() != want {
		t.Errorf("error = %v, want %q", err, want)
	}
}
