//go:build linux

package actors

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime/debug"
	"slices"
	"strings"
	"testing"

	"github.com/metamcp/metamcp/config"
	"github.com/metamcp/metamcp/templates"
)

func testResolver(t *testing.T, allowed []string, tmpls ...config.Template) *resolver {
	t.Helper()
	cfg := config.Defaults()
	cfg.TempDirectory = t.TempDir()
	cfg.AllowedCommands = allowed
	cat, err := templates.NewCatalog(tmpls)
	if err != nil {
		t.Fatal(err)
	}
	return &resolver{cfg: &cfg, catalog: cat, self: "/opt/metamcp/bin/metamcp"}
}

func TestResolveErrors(t *testing.T) {
	dir, outside := t.TempDir(), t.TempDir()
	script := filepath.Join(dir, "server.py")
	escape := filepath.Join(outside, "server.py")
	for _, p := range []string{script, escape} {
		if err := os.WriteFile(p, []byte("print()"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	link := filepath.Join(dir, "link.py")
	if err := os.Symlink(escape, link); err != nil {
		t.Fatal(err)
	}
	r := testResolver(t, []string{"metamcp", "python3"}, config.Template{Name: "shell", Command: "sh"})
	r.cfg.AllowedDirectories = []string{dir}
	cases := []struct {
		name string
		req  CreateRequest
		want error
		text string
	}{
		{"no name", CreateRequest{Template: "basic_calculator"}, ErrBadRequest, "name"},
		{"neither", CreateRequest{Name: "x"}, ErrBadRequest, "basic_calculator"},
		{"both", CreateRequest{Name: "x", Template: "basic_calculator", ScriptPath: script}, ErrBadRequest, "not both"},
		{"unknown template", CreateRequest{Name: "x", Template: "calculator"}, ErrUnknownTemplate, "available templates: api_integration"},
		{"not allowed", CreateRequest{Name: "x", Template: "shell"}, ErrCommandNotAllowed, "allowed_commands"},
		{"missing script", CreateRequest{Name: "x", ScriptPath: script + ".nope"}, ErrBadRequest, "does not exist"},
		{"directory", CreateRequest{Name: "x", ScriptPath: dir}, ErrBadRequest, "not a file"},
		{"outside", CreateRequest{Name: "x", ScriptPath: escape}, ErrPathNotAllowed, "allowed_directories"},
		{"dotdot", CreateRequest{Name: "x", ScriptPath: filepath.Join(dir, "..", filepath.Base(outside), "server.py")}, ErrPathNotAllowed, escape},
		{"symlink out", CreateRequest{Name: "x", ScriptPath: link}, ErrPathNotAllowed, escape},
		{"args to a built-in", CreateRequest{Name: "x", Template: "file_handler_template", Config: ServerConfig{Args: []string{"--base-dir", "/"}}}, ErrBadRequest, "takes no config.args"},
		{"cwd outside", CreateRequest{Name: "x", Template: "basic_calculator", Config: ServerConfig{Cwd: outside}}, ErrPathNotAllowed, "cwd"},
		{"bad type", CreateRequest{Name: "x", ScriptPath: script, ServerType: "ruby"}, ErrBadRequest, "python, node or executable"},
		{"executable not allowed", CreateRequest{Name: "x", ScriptPath: script, ServerType: "executable"}, ErrCommandNotAllowed, "server.py"},
		{"timeout", CreateRequest{Name: "x", Template: "basic_calculator", Config: ServerConfig{TimeoutSeconds: ptr(99999)}}, ErrBadRequest, "timeout_seconds"},
		{"cwd", CreateRequest{Name: "x", Template: "basic_calculator", Config: ServerConfig{Cwd: "/no/such/dir"}}, ErrBadRequest, "cwd"},
		{"bad tool glob", CreateRequest{Name: "x", Template: "basic_calculator", Config: ServerConfig{Tools: &config.ToolFilter{
			Allow: []string{"get_*"}, Deny: []string{"[a-"}}}}, ErrBadRequest, `config.tools.deny: pattern "[a-": syntax error in pattern`},
		{"empty tool glob", CreateRequest{Name: "x", Template: "basic_calculator", Config: ServerConfig{Tools: &config.ToolFilter{
			Allow: []string{""}}}}, ErrBadRequest, `config.tools.allow: a pattern must not be empty`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := r.resolve(c.req)
			if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.text) {
				t.Fatalf("err = %v; want %v mentioning %q", err, c.want, c.text)
			}
		})
	}
}

// TestResolveBuiltinsBinary: a built-in template runs metamcp-templates
// when it lies next to the metamcp executable (an executable regular file)
// and comes from the same build, with the same arguments after the name;
// whatever allows metamcp allows it. Otherwise metamcp itself runs it.
func TestResolveBuiltinsBinary(t *testing.T) {
	for _, c := range []struct {
		name  string
		setup func(path string) error
		same  bool // what sameBuild says
		allow []string
		want  bool
	}{
		{"present", func(p string) error { return os.WriteFile(p, nil, 0o755) }, true, []string{"metamcp"}, true},
		{"present, metamcp allowed by its path", func(p string) error { return os.WriteFile(p, nil, 0o755) }, true, nil, true},
		{"another build", func(p string) error { return os.WriteFile(p, nil, 0o755) }, false, []string{"metamcp"}, false},
		{"absent", func(string) error { return nil }, true, []string{"metamcp"}, false},
		{"not executable", func(p string) error { return os.WriteFile(p, nil, 0o644) }, true, []string{"metamcp"}, false},
		{"a directory", func(p string) error { return os.Mkdir(p, 0o755) }, true, []string{"metamcp"}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			self := filepath.Join(dir, "mm") // renamed: allowed by "metamcp" or by its path
			allow := c.allow
			if allow == nil {
				allow = []string{self}
			}
			r := testResolver(t, allow)
			r.self = self
			r.sameBuild = func(string, string) bool { return c.same }
			tpl := filepath.Join(dir, "metamcp-templates")
			if err := c.setup(tpl); err != nil {
				t.Fatal(err)
			}
			s, err := r.resolve(CreateRequest{Name: "f", Template: templates.FileHandler})
			if err != nil {
				t.Fatal(err)
			}
			args := s.Args
			if c.want {
				if s.Command != tpl {
					t.Fatalf("command %s, want %s", s.Command, tpl)
				}
			} else {
				if s.Command != r.self || !slices.Equal(args[:2], []string{"template", "run"}) {
					t.Fatalf("command %s %v, want %s template run ...", s.Command, args, r.self)
				}
				args = args[2:]
			}
			name, opts, err := templates.ParseArgs(args)
			if err != nil || name != templates.FileHandler || opts.BaseDir == "" ||
				opts.HTTPTimeout != r.cfg.HTTPTimeout() || opts.MaxBodyBytes != r.cfg.HTTPMaxBodyBytes {
				t.Fatalf("args %v parse to %q %+v, %v", args, name, opts, err)
			}
		})
	}
}

// A server's own config.tools replaces its template's filter; without one
// it has the template's.
func TestResolveToolFilter(t *testing.T) {
	tpl := config.ToolFilter{Allow: []string{"read_*"}, Deny: []string{"read_secret"}}
	own := config.ToolFilter{Deny: []string{"write"}}
	r := testResolver(t, []string{"metamcp", "sh"}, config.Template{Name: "shell", Command: "sh", Tools: tpl})
	for _, c := range []struct {
		name string
		req  CreateRequest
		want config.ToolFilter
	}{
		{"template's", CreateRequest{Name: "a", Template: "shell"}, tpl},
		{"own", CreateRequest{Name: "b", Template: "shell", Config: ServerConfig{Tools: &own}}, own},
		{"own, empty", CreateRequest{Name: "c", Template: "shell", Config: ServerConfig{Tools: &config.ToolFilter{}}}, config.ToolFilter{}},
		{"built-in", CreateRequest{Name: "d", Template: templates.FileHandler}, config.ToolFilter{}},
		{"built-in, own", CreateRequest{Name: "e", Template: templates.FileHandler, Config: ServerConfig{Tools: &own}}, own},
	} {
		s, err := r.resolve(c.req)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if !reflect.DeepEqual(s.Tools, c.want) {
			t.Errorf("%s: tools %+v, want %+v", c.name, s.Tools, c.want)
		}
	}
}

func TestResolveBuiltinAndScript(t *testing.T) {
	r := testResolver(t, []string{"metamcp", "python3"})
	s, err := r.resolve(CreateRequest{Name: "f", Template: templates.FileHandler})
	if err != nil {
		t.Fatal(err)
	}
	if s.Command != r.self || s.Args[0] != "template" || s.Args[2] != templates.FileHandler || !slices.Contains(s.Args, "--base-dir") {
		t.Fatalf("builtin spec = %s %v", s.Command, s.Args)
	}
	if base := s.Args[slices.Index(s.Args, "--base-dir")+1]; !strings.HasPrefix(base, r.cfg.TempDirectory) || !strings.Contains(base, s.ID) {
		t.Fatalf("file handler base dir %q is not a per-server dir under the temp directory", base)
	}
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("python3 not on PATH")
	}
	script := filepath.Join(r.cfg.TempDirectory, "srv.py")
	_ = os.WriteFile(script, nil, 0o600)
	s, err = r.resolve(CreateRequest{Name: "p", ScriptPath: script})
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(s.Command) != "python3" || s.Args[0] != script || s.Type != "python" {
		t.Fatalf("script spec = %s %v type %s", s.Command, s.Args, s.Type)
	}
}

func TestChildEnvIsMinimal(t *testing.T) {
	t.Setenv("METAMCP_TEST_SECRET", "hunter2")
	t.Setenv("MY_TOKEN", "let-through")
	env := childEnv([]string{"MY_TOKEN"}, map[string]string{"A": "template"}, map[string]string{"A": "call", "B": "call"})
	joined := strings.Join(env, "\n")
	if strings.Contains(joined, "hunter2") {
		t.Fatal("a variable not in the base or the passthrough list leaked into the child")
	}
	for _, want := range []string{"MY_TOKEN=let-through", "A=call", "B=call", "PATH=" + os.Getenv("PATH")} {
		if !slices.Contains(env, want) {
			t.Errorf("env lacks %q", want)
		}
	}
}

func ptr[T any](v T) *T { return &v }

// sameBuild trusts only a metamcp-templates main of the very same build.
func TestSameBuild(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	if sameBuild(self, self) { // the same build, but not a metamcp-templates
		t.Error("a binary that is not metamcp-templates was trusted")
	}
	if sameBuild(self, "/nonexistent") {
		t.Error("a missing file was trusted")
	}
}

// Builds differ when their version (in the linker flags), revision, Go
// version or platform differ; a build is told apart only by a clean VCS
// revision or a build stamp.
func TestBuildKey(t *testing.T) {
	base := func() *debug.BuildInfo {
		return &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
			{Key: "-ldflags", Value: "-X main.version=v1"}, {Key: "vcs.revision", Value: "abc"},
			{Key: "vcs.modified", Value: "false"}, {Key: "GOOS", Value: "linux"}, {Key: "GOARCH", Value: "amd64"}}}
	}
	a, b := base(), base()
	b.Path = templatesMain // another main package of the same build
	if buildKey(a) != buildKey(b) || !distinctBuild(a) {
		t.Error("two mains of one clean build differ")
	}
	for _, change := range []func(*debug.BuildInfo){
		func(i *debug.BuildInfo) { i.Settings[0].Value = "-X main.version=v2" },
		func(i *debug.BuildInfo) { i.Settings[1].Value = "abd" },
		func(i *debug.BuildInfo) { i.GoVersion = "go1.26.9" },
		func(i *debug.BuildInfo) { i.Settings[4].Value = "arm64" },
	} {
		c := base()
		change(c)
		if buildKey(a) == buildKey(c) {
			t.Errorf("a different build has the same key: %+v", c)
		}
	}
	dirty := base()
	dirty.Settings[2].Value = "true"
	if distinctBuild(dirty) {
		t.Error("a modified tree without a stamp is trusted")
	}
	dirty.Settings[0].Value += " -X main.buildStamp=20261130T0740"
	if !distinctBuild(dirty) {
		t.Error("a stamped build is not trusted")
	}
	novcs := &debug.BuildInfo{GoVersion: "go1.26.8", Settings: []debug.BuildSetting{{Key: "-ldflags", Value: "-X main.version=v1"}}}
	if distinctBuild(novcs) {
		t.Error("a build without VCS information or stamp is trusted")
	}
}
