package config

import (
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestValidate(t *testing.T) {
	wd := cwd(t)
	tests := []struct {
		name   string
		change func(c *Config)
		is     error  // nil = valid
		want   string // substring of the error
		check  func(t *testing.T, c *Config)
	}{
		{name: "defaults", change: func(*Config) {}},
		{name: "log level normalised", change: func(c *Config) { c.LogLevel = " warning" },
			check: func(t *testing.T, c *Config) {
				if c.LogLevel != "WARN" {
					t.Errorf("log_level = %q, want WARN", c.LogLevel)
				}
			}},
		{name: "relative paths made absolute", change: func(c *Config) {
			c.TempDirectory, c.FileBaseDirectory, c.LogFile = "t", "f", "l.log"
			c.Templates = []Template{{Name: "x", Command: "python", Cwd: "w"}}
		}, check: func(t *testing.T, c *Config) {
			got := []string{c.TempDirectory, c.FileBaseDirectory, c.LogFile, c.Templates[0].Cwd}
			want := []string{filepath.Join(wd, "t"), filepath.Join(wd, "f"), filepath.Join(wd, "l.log"), filepath.Join(wd, "w")}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("paths = %v, want %v", got, want)
			}
		}},
		{name: "templates sorted", change: func(c *Config) {
			c.Templates = []Template{{Name: "b", Command: "x"}, {Name: "a", Command: "x"}}
		}, check: func(t *testing.T, c *Config) {
			if got := names(c.Templates); !reflect.DeepEqual(got, []string{"a", "b"}) {
				t.Errorf("templates = %v, want [a b]", got)
			}
		}},
		{name: "zero config", change: func(c *Config) { *c = Config{} }, is: ErrBadValue,
			want: `config: "default_timeout_seconds": must be between 1 and 3600, got 0`},
		{name: "zero servers", change: func(c *Config) { c.MaxConcurrentServers = 0 }, is: ErrBadValue,
			want: `config: "max_concurrent_servers": must be between 1 and 1000, got 0`},
		{name: "history too small", change: func(c *Config) { c.EventHistorySize = 99 }, is: ErrBadValue,
			want: `"event_history_size": must be between 100 and 10000000, got 99`},
		{name: "body too large", change: func(c *Config) { c.HTTPMaxBodyBytes = 1<<30 + 1 }, is: ErrBadValue,
			want: `"http_max_body_bytes": must be between 1024 and 1073741824`},
		{name: "bad log level", change: func(c *Config) { c.LogLevel = "TRACE" }, is: ErrBadValue,
			want: `"log_level": must be one of`},
		{name: "nil allowed commands", change: func(c *Config) { c.AllowedCommands = nil }, is: ErrBadValue,
			want: `"allowed_commands": must not be empty`},
		{name: "empty temp dir", change: func(c *Config) { c.TempDirectory = " " }, is: ErrBadValue,
			want: `"temp_directory": must not be empty`},
		{name: "env passthrough with =", change: func(c *Config) { c.EnvPassthrough = []string{"A=B"} }, is: ErrBadValue,
			want: `"env_passthrough": entry "A=B"`},
		{name: "backoff cap below start", change: func(c *Config) { c.RestartInitialBackoffMS, c.RestartMaxBackoffMS = 500, 100 },
			is: ErrBadValue, want: `"restart_max_backoff_ms": must not be below restart_initial_backoff_ms (500), got 100`},
		{name: "bad restart policy", change: func(c *Config) { c.RestartPolicy = "always" }, is: ErrBadValue,
			want: `"restart_policy": must be one of permanent, transient, temporary`},
		{name: "relative allowed directory", change: func(c *Config) { c.AllowedDirectories = []string{"srv"} }, is: ErrBadValue,
			want: `"allowed_directories": entry "srv": must be an absolute path`},
		{name: "bad shim", change: func(c *Config) { c.ProcessShim = "maybe" }, is: ErrBadValue,
			want: `"process_shim": must be "auto", "on" or "off"`},
		{name: "mode normalised", change: func(c *Config) { c.Mode = "GATEWAY " },
			check: func(t *testing.T, c *Config) {
				if c.Mode != ModeGateway {
					t.Errorf("mode = %q, want gateway", c.Mode)
				}
			}},
		{name: "bad mode", change: func(c *Config) { c.Mode = "both+" }, is: ErrBadValue,
			want: `"mode": must be one of meta, gateway, both, got "both+"`},
		{name: "template bad glob", change: func(c *Config) {
			c.Templates = []Template{{Name: "a", Command: "x", Tools: ToolFilter{Allow: []string{"[x"}}}}
		}, is: ErrBadValue, want: `template "a": "tools": allow: pattern "[x": syntax error in pattern`},
		{name: "duplicate template", change: func(c *Config) {
			c.Templates = []Template{{Name: "a", Command: "x"}, {Name: "a", Command: "y"}}
		}, is: ErrDuplicateTemplate, want: `template "a" is defined twice`},
		{name: "template env name", change: func(c *Config) {
			c.Templates = []Template{{Name: "a", Command: "x", Env: map[string]string{"A=B": "1"}}}
		}, is: ErrBadValue, want: `template "a": "env": "A=B" is not a valid variable name`},
		{name: "template empty name", change: func(c *Config) {
			c.Templates = []Template{{Command: "x"}}
		}, is: ErrBadValue, want: `template "": name must be 1 to 64 characters`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Defaults()
			tt.change(&c)
			err := c.Validate()
			if tt.is == nil {
				if err != nil {
					t.Fatalf("Validate() = %v", err)
				}
				if tt.check != nil {
					tt.check(t, &c)
				}
				return
			}
			if !errors.Is(err, tt.is) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Validate() = %v\nwant %v containing %q", err, tt.is, tt.want)
			}
		})
	}
}

func TestCheckCommand(t *testing.T) {
	tests := []struct {
		command string
		ok      bool
	}{
		{"python", true},
		{"python3.12", true},
		{"/usr/bin/node", true},
		{"", false},
		{"   ", false},
		{" python", false},
		{"./run.sh", false},
		{"bin/tool", false},
		{"..", false},
	}
	for _, tt := range tests {
		if err := checkCommand(tt.command); (err == nil) != tt.ok {
			t.Errorf("checkCommand(%q) = %v, want ok=%v", tt.command, err, tt.ok)
		}
	}
}

func TestStartsSelf(t *testing.T) {
	tests := []struct {
		command string
		args    []string
		want    bool
	}{
		{"metamcp", []string{"serve"}, true},
		{"/home/u/go/bin/metamcp", []string{"serve", "--config", "x"}, true},
		{`C:\bin\metamcp.exe`, []string{"serve"}, true},
		{"metamcp", []string{"version"}, false},
		{"metamcp", nil, false},
		{"npx", []string{"metamcp", "serve"}, false},
		{"/opt/metamcp-dev", []string{"serve"}, false},
	}
	for _, tt := range tests {
		if got := startsSelf(Template{Command: tt.command, Args: tt.args}); got != tt.want {
			t.Errorf("startsSelf(%q %q) = %v, want %v", tt.command, tt.args, got, tt.want)
		}
	}
}

func TestValidName(t *testing.T) {
	tests := []struct {
		name string
		ok   bool
	}{
		{"db", true},
		{"my_server-2.v1", true},
		{strings.Repeat("a", 64), true},
		{strings.Repeat("a", 65), false},
		{"", false},
		{"with space", false},
		{"ünïcode", false},
		{"a/b", false},
	}
	for _, tt := range tests {
		if got := validName(tt.name); got != tt.ok {
			t.Errorf("validName(%q) = %v, want %v", tt.name, got, tt.ok)
		}
	}
}
