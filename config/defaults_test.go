package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestDefaults(t *testing.T) {
	d := Defaults()
	tests := []struct {
		key       string
		got, want any
	}{
		{"default_timeout_seconds", d.DefaultTimeoutSeconds, 30},
		{"default_max_memory_mb", d.DefaultMaxMemoryMB, 512},
		{"max_concurrent_servers", d.MaxConcurrentServers, 10},
		{"log_level", d.LogLevel, "INFO"},
		{"log_file", d.LogFile, ""},
		{"allowed_commands", d.AllowedCommands, []string{"python", "python3", "node", "npm", "npx", "metamcp"}},
		{"temp_directory", d.TempDirectory, filepath.Join(os.TempDir(), "metamcp")},
		{"start_timeout_seconds", d.StartTimeoutSeconds, 10},
		{"pool_idle_ttl_seconds", d.PoolIdleTTLSeconds, 300},
		{"pool_max_per_template", d.PoolMaxPerTemplate, 1},
		{"event_history_size", d.EventHistorySize, 10000},
		{"file_base_directory", d.FileBaseDirectory, ""},
		{"env_passthrough", d.EnvPassthrough, []string{}},
		{"http_timeout_seconds", d.HTTPTimeoutSeconds, 30},
		{"http_max_body_bytes", d.HTTPMaxBodyBytes, int64(5 * 1024 * 1024)},
		{"state_directory", d.StateDirectory, ""},
		{"event_retention_count", d.EventRetentionCount, 100000},
		{"event_retention_days", d.EventRetentionDays, 30},
		{"session", d.Session, "default"},
		{"restore_servers", d.RestoreServers, true},
		{"mode", d.Mode, "both"},
		{"expose_tools", d.ExposeTools, true},
		{"start_servers", d.StartServers, []string{}},
	}
	for _, tt := range tests {
		if !reflect.DeepEqual(tt.got, tt.want) {
			t.Errorf("%s = %#v, want %#v", tt.key, tt.got, tt.want)
		}
	}
	if err := d.Validate(); err != nil {
		t.Errorf("Defaults().Validate() = %v", err)
	}
	d.AllowedCommands[0] = "changed"
	if Defaults().AllowedCommands[0] != "python" {
		t.Error("Defaults shares slices between calls")
	}
}

func TestDurations(t *testing.T) {
	c := Config{DefaultTimeoutSeconds: 30, StartTimeoutSeconds: 10, PoolIdleTTLSeconds: 300, HTTPTimeoutSeconds: 7}
	tests := []struct {
		name      string
		got, want time.Duration
	}{
		{"DefaultTimeout", c.DefaultTimeout(), 30 * time.Second},
		{"StartTimeout", c.StartTimeout(), 10 * time.Second},
		{"PoolIdleTTL", c.PoolIdleTTL(), 5 * time.Minute},
		{"HTTPTimeout", c.HTTPTimeout(), 7 * time.Second},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s() = %v, want %v", tt.name, tt.got, tt.want)
		}
	}
}

// TestSettingsCoverConfig keeps the settings table in step with Config: every
// JSON key of Config is loadable, and nothing else is.
func TestSettingsCoverConfig(t *testing.T) {
	want := map[string]bool{}
	typ := reflect.TypeOf(Config{})
	for i := range typ.NumField() {
		tag := strings.Split(typ.Field(i).Tag.Get("json"), ",")[0]
		if tag != "" && tag != "-" {
			want[tag] = true
		}
	}
	got := map[string]bool{}
	for _, k := range Keys() {
		got[k] = true
		s, _ := settingFor(k)
		_ = s.kind() // panics on an unsupported field type
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("settings keys = %v, Config JSON keys = %v", got, want)
	}
}

// TestDocTable keeps the key table in doc.go in step with Defaults and the
// settings table: each key's line shows its default, range and variable.
func TestDocTable(t *testing.T) {
	src, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	lines := map[string]string{}
	for _, line := range strings.Split(string(src), "\n") {
		if f := strings.Fields(strings.TrimPrefix(line, "//\t")); strings.HasPrefix(line, "//\t") && len(f) > 0 {
			lines[f[0]] = line
		}
	}
	d := Defaults()
	for _, s := range settings {
		line, ok := lines[s.key]
		if !ok {
			t.Errorf("doc.go table has no line for %q", s.key)
			continue
		}
		f := strings.Fields(strings.TrimPrefix(line, "//\t"))
		env := s.env
		if env == "" {
			env = "-"
		}
		if f[len(f)-1] != env {
			t.Errorf("doc.go: %s: environment %q, want %q", s.key, f[len(f)-1], env)
		}
		if s.kind() == kindNumber {
			if def := strconv.FormatInt(s.get(&d).(int64), 10); f[1] != def {
				t.Errorf("doc.go: %s: default %s, want %s", s.key, f[1], def)
			}
			rng := strconv.FormatInt(s.min, 10) + ".." + strconv.FormatInt(s.max, 10)
			if !strings.Contains(line, " "+rng+" ") {
				t.Errorf("doc.go: %s: range is not %s", s.key, rng)
			}
		}
	}
}

func TestSessionDir(t *testing.T) {
	home, err := os.UserHomeDir()
	if err != nil {
		t.Skip("no home directory")
	}
	tests := []struct {
		name, stateDir, xdg, session, want, err string
	}{
		{"configured", "/srv/state", "/x", "s1", "/srv/state/s1", ""},
		{"xdg", "", "/xdg/state", "", "/xdg/state/metamcp/default", ""},
		{"relative xdg ignored", "", "rel", "default", filepath.Join(home, ".local/state/metamcp/default"), ""},
		{"home", "", "", "work", filepath.Join(home, ".local/state/metamcp/work"), ""},
		{"dot dot", "/s", "", "..", "", "must be 1 to 64"},
		{"slash", "/s", "", "a/b", "", "only A-Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("XDG_STATE_HOME", tt.xdg)
			c := Defaults()
			c.StateDirectory = tt.stateDir
			got, err := c.SessionDir(tt.session)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("SessionDir(%q) error = %v, want %q", tt.session, err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("SessionDir(%q) = %q, %v; want %q", tt.session, got, err, tt.want)
			}
		})
	}
}
