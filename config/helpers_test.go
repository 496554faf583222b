package config

import (
	"os"
	"path/filepath"
	"testing"
)

// fakeEnv returns a Getenv over vars. XDG_CONFIG_HOME and HOME point at an
// empty directory unless vars sets them, so a real user config never leaks
// into a test.
func fakeEnv(t *testing.T, vars map[string]string) func(string) string {
	t.Helper()
	empty := t.TempDir()
	all := map[string]string{"XDG_CONFIG_HOME": empty, "HOME": empty, "AppData": empty}
	for k, v := range vars {
		all[k] = v
	}
	return func(k string) string { return all[k] }
}

// writeConfig writes content to dir/name and returns its path.
func writeConfig(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func names(ts []Template) []string {
	out := []string{}
	for _, t := range ts {
		out = append(out, t.Name)
	}
	return out
}

func cwd(t *testing.T) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	return wd
}
