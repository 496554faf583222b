package actors

import (
	"crypto/rand"
	"debug/buildinfo"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/metamcp/metamcp/config"
	"github.com/metamcp/metamcp/templates"
)

// Spec is everything needed to (re)start one server. It never changes
// during the server's life.
type Spec struct {
	ID          string
	Name        string
	Template    string // template name, or "" for a script
	Type        string // "template", "command", "python", "node", "executable"
	Command     string // resolved absolute path
	Args        []string
	Env         []string
	Dir         string
	Timeout     time.Duration
	MaxMemoryMB int
	Pooled      bool
	Policy      RestartPolicy // with defaults applied
	Tools       config.ToolFilter
}

// resolver turns create requests into specs. It holds only immutable
// configuration and is safe for concurrent use.
type resolver struct {
	policy  RestartPolicy // the default restart policy
	cfg     *config.Config
	catalog *templates.Catalog
	self    string // path of the metamcp executable

	builtinOnce sync.Once
	builtinExe  string                      // metamcp-templates next to self, or "" (see builtinCommand)
	sameBuild   func(self, tpl string) bool // nil: sameBuild (tests replace it)
}

const maxNameLen = 128

func (r *resolver) resolve(req CreateRequest) (Spec, error) {
	s := Spec{ID: req.id, Name: strings.TrimSpace(req.Name), Pooled: req.Pooled}
	if s.ID == "" {
		s.ID = newID()
	}
	if s.Name == "" || len(s.Name) > maxNameLen {
		return s, fmt.Errorf("%w: name must be 1 to %d characters", ErrBadRequest, maxNameLen)
	}
	if err := r.limits(&s, req.Config); err != nil {
		return s, err
	}
	if err := r.restartPolicy(&s, req.Config.Restart); err != nil {
		return s, err
	}
	var err error
	switch {
	case req.Template != "" && req.ScriptPath != "":
		return s, fmt.Errorf("%w: give either template or script_path, not both", ErrBadRequest)
	case req.Template != "":
		err = r.fromTemplate(&s, req)
	case req.ScriptPath != "":
		err = r.fromScript(&s, req)
	default:
		return s, fmt.Errorf("%w: give a template (one of %s) or a script_path", ErrBadRequest, strings.Join(r.catalog.Names(), ", "))
	}
	if err != nil {
		return s, err
	}
	if err := toolFilter(&s, req.Config.Tools); err != nil {
		return s, err
	}
	if err := r.allowed(s.Command); err != nil {
		return s, err
	}
	return s, r.workDir(&s, req.Config.Cwd)
}

func (r *resolver) limits(s *Spec, c ServerConfig) error {
	s.Timeout = r.cfg.DefaultTimeout()
	if c.TimeoutSeconds != nil {
		n := *c.TimeoutSeconds
		if n < 1 || n > 3600 {
			return fmt.Errorf("%w: config.timeout_seconds must be between 1 and 3600, got %d", ErrBadRequest, n)
		}
		s.Timeout = time.Duration(n) * time.Second
	}
	s.MaxMemoryMB = r.cfg.DefaultMaxMemoryMB
	if c.MaxMemoryMB != nil {
		n := *c.MaxMemoryMB
		if n < 16 || n > 1<<20 {
			return fmt.Errorf("%w: config.max_memory_mb must be between 16 and 1048576, got %d", ErrBadRequest, n)
		}
		s.MaxMemoryMB = n
	}
	return nil
}

func (r *resolver) restartPolicy(s *Spec, c *RestartConfig) error {
	s.Policy = r.policy.withDefaults()
	if c == nil {
		return nil
	}
	var o RestartPolicy
	c.Policy = strings.ToLower(strings.TrimSpace(c.Policy))
	switch c.Policy {
	case "", Permanent, Transient, Temporary:
		o.Kind = c.Policy
	default:
		return fmt.Errorf("%w: config.restart.policy must be permanent, transient or temporary, got %q", ErrBadRequest, c.Policy)
	}
	ints := []struct {
		name     string
		v        *int
		min, max int
		unit     time.Duration
		dst      *time.Duration
	}{
		{"initial_backoff_ms", c.InitialBackoffMS, 1, 600000, time.Millisecond, &o.Initial},
		{"max_backoff_ms", c.MaxBackoffMS, 1, 3600000, time.Millisecond, &o.Max},
		{"window_seconds", c.WindowSeconds, 1, 86400, time.Second, &o.Window},
		{"stable_seconds", c.StableSeconds, 1, 86400, time.Second, &o.ResetAfter},
	}
	for _, f := range ints {
		if f.v == nil {
			continue
		}
		if *f.v < f.min || *f.v > f.max {
			return fmt.Errorf("%w: config.restart.%s must be between %d and %d, got %d", ErrBadRequest, f.name, f.min, f.max, *f.v)
		}
		*f.dst = time.Duration(*f.v) * f.unit
	}
	if c.MaxRestarts != nil {
		if *c.MaxRestarts < 1 || *c.MaxRestarts > 1000 {
			return fmt.Errorf("%w: config.restart.max_restarts must be between 1 and 1000, got %d", ErrBadRequest, *c.MaxRestarts)
		}
		o.MaxRestarts = *c.MaxRestarts
	}
	if c.BackoffFactor != nil {
		if *c.BackoffFactor < 1 || *c.BackoffFactor > 10 {
			return fmt.Errorf("%w: config.restart.backoff_factor must be between 1 and 10, got %g", ErrBadRequest, *c.BackoffFactor)
		}
		o.Multiplier = *c.BackoffFactor
	}
	s.Policy = s.Policy.over(o)
	if s.Policy.Max < s.Policy.Initial {
		return fmt.Errorf("%w: config.restart: max_backoff_ms (%s) is below initial_backoff_ms (%s)", ErrBadRequest, s.Policy.Max, s.Policy.Initial)
	}
	return nil
}

// toolFilter puts the server's own tool filter, when it has one, in place
// of its template's.
func toolFilter(s *Spec, own *config.ToolFilter) error {
	if own == nil {
		return nil
	}
	if err := own.Validate(); err != nil {
		return fmt.Errorf("%w: config.tools.%v", ErrBadRequest, err)
	}
	s.Tools = *own
	return nil
}

func (r *resolver) fromTemplate(s *Spec, req CreateRequest) error {
	t, ok := r.catalog.Lookup(req.Template)
	if !ok {
		return fmt.Errorf("%w %q; available templates: %s", ErrUnknownTemplate, req.Template, strings.Join(r.catalog.Names(), ", "))
	}
	s.Template, s.Tools = t.Name, t.Tools
	if t.Builtin {
		if len(req.Config.Args) > 0 { // they could override --base-dir and the HTTP limits
			return fmt.Errorf("%w: built-in template %s takes no config.args", ErrBadRequest, t.Name)
		}
		var prefix []string
		s.Type = "template"
		s.Command, prefix = r.builtinCommand()
		s.Args = append(prefix, r.builtinArgs(s.ID, t.Name)...)
		s.Env = childEnv(r.cfg.EnvPassthrough, nil, req.Config.Env)
		return nil
	}
	s.Type = "command"
	path, err := lookPath(t.Command)
	if err != nil {
		return fmt.Errorf("template %q: %w", t.Name, err)
	}
	s.Command = path
	s.Args = append(slices.Clone(t.Args), req.Config.Args...)
	s.Env = childEnv(r.cfg.EnvPassthrough, t.Env, req.Config.Env)
	if req.Config.Cwd == "" {
		s.Dir = t.Cwd
	}
	return nil
}

func (r *resolver) builtinArgs(id, name string) []string {
	opts := templates.Options{HTTPTimeout: r.cfg.HTTPTimeout(),
		MaxBodyBytes: r.cfg.HTTPMaxBodyBytes}
	if name == templates.FileHandler {
		opts.BaseDir = r.cfg.FileBaseDirectory
		if opts.BaseDir == "" {
			opts.BaseDir = filepath.Join(r.cfg.TempDirectory, "servers", id, "files")
		}
	}
	return templates.Args(name, opts)
}

// builtinsBinary runs the built-in templates alone (cmd/metamcp-templates).
const builtinsBinary = "metamcp-templates"

// builtinCommand returns what runs a built-in template, before
// templates.Args: metamcp-templates when it lies next to the metamcp
// executable — it links only the templates, so a child starts faster
// and is smaller (docs/benchmarks.md) — else metamcp itself, `metamcp
// template run`. Only one from the same build as metamcp is used (see
// sameBuild): an older one left next to a newer metamcp is not. Looked for
// once.
func (r *resolver) builtinCommand() (string, []string) {
	r.builtinOnce.Do(func() {
		name := builtinsBinary
		if runtime.GOOS == "windows" {
			name += ".exe"
		}
		p := filepath.Join(filepath.Dir(r.self), name)
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() && (runtime.GOOS == "windows" || st.Mode()&0o111 != 0) {
			same := r.sameBuild
			if same == nil {
				same = sameBuild
			}
			if same(r.self, p) {
				r.builtinExe = p
			}
		}
	})
	if r.builtinExe != "" {
		return r.builtinExe, nil
	}
	return r.self, []string{"template", "run"}
}

// templatesMain is the main package of the metamcp-templates binary.
const templatesMain = "github.com/metamcp/metamcp/cmd/metamcp-templates"

// sameBuild says whether tpl is the metamcp-templates of the build self
// comes from, as their build information (read from the files, without
// running them) tells: tpl's main package is cmd/metamcp-templates, and
// both have the same Go version, platform, module version, VCS revision
// and state and linker flags — and the build can be told apart from
// another at all: either a clean VCS checkout, or a build stamp in the
// linker flags (main.buildStamp, which make build gives both binaries).
// Anything else — no VCS information, a modified tree without a stamp — is
// not trusted: metamcp then runs its built-in templates itself.
func sameBuild(self, tpl string) bool {
	ia, err := buildinfo.ReadFile(self)
	if err != nil {
		return false
	}
	ib, err := buildinfo.ReadFile(tpl)
	if err != nil {
		return false
	}
	return ib.Path == templatesMain && distinctBuild(ia) && buildKey(ia) == buildKey(ib)
}

// buildKey is what sameBuild compares.
func buildKey(i *debug.BuildInfo) string {
	k := i.GoVersion + "|" + i.Main.Version
	for _, st := range i.Settings {
		switch st.Key {
		case "vcs.revision", "vcs.modified", "vcs.time", "-ldflags", "GOOS", "GOARCH":
			k += "|" + st.Key + "=" + st.Value
		}
	}
	return k
}

// distinctBuild says whether a build's information identifies it: a clean
// VCS revision, or a build stamp.
func distinctBuild(i *debug.BuildInfo) bool {
	set := map[string]string{}
	for _, st := range i.Settings {
		set[st.Key] = st.Value
	}
	return (set["vcs.revision"] != "" && set["vcs.modified"] == "false") ||
		strings.Contains(set["-ldflags"], "main.buildStamp=")
}

var interpreters = map[string]string{"python": "python3", "node": "node"}

func (r *resolver) fromScript(s *Spec, req CreateRequest) error {
	script, err := r.confine("script_path", req.ScriptPath)
	if err != nil {
		return err
	}
	st, err := os.Stat(script)
	if err != nil || st.IsDir() {
		return fmt.Errorf("%w: script_path %q is not a file", ErrBadRequest, req.ScriptPath)
	}
	s.Type = req.ServerType
	if s.Type == "" {
		s.Type = typeFromExtension(script)
	}
	s.Env = childEnv(r.cfg.EnvPassthrough, nil, req.Config.Env)
	switch s.Type {
	case "python", "node":
		if s.Command, err = lookPath(interpreters[s.Type]); err != nil {
			return err
		}
		s.Args = append([]string{script}, req.Config.Args...)
	case "executable":
		s.Command, s.Args = script, slices.Clone(req.Config.Args)
	default:
		return fmt.Errorf("%w: server_type must be python, node or executable, got %q", ErrBadRequest, s.Type)
	}
	return nil
}

func typeFromExtension(path string) string {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".py":
		return "python"
	case ".js", ".mjs", ".cjs":
		return "node"
	}
	return "executable"
}

// allowed checks the command that will actually run — its resolved path
// and its base name — against allowed_commands. The metamcp executable and
// the metamcp-templates next to it are allowed when "metamcp" is listed.
func (r *resolver) allowed(path string) error {
	builtins, _ := r.builtinCommand()
	if path == builtins { // the built-ins binary is allowed whenever metamcp itself is
		path = r.self
	}
	base := strings.TrimSuffix(filepath.Base(path), ".exe")
	for _, a := range r.cfg.AllowedCommands {
		switch {
		case filepath.IsAbs(a) && a == path,
			!filepath.IsAbs(a) && a == base,
			a == "metamcp" && path == r.self:
			return nil
		}
	}
	return fmt.Errorf("%w: %s (resolved to %s); allowed: %s", ErrCommandNotAllowed, base, path, strings.Join(r.cfg.AllowedCommands, ", "))
}

func (r *resolver) workDir(s *Spec, cwd string) error {
	if cwd != "" {
		dir, err := r.confine("cwd", cwd)
		if err != nil {
			return err
		}
		s.Dir = dir
	}
	if s.Dir == "" {
		return nil
	}
	st, err := os.Stat(s.Dir)
	if err != nil || !st.IsDir() {
		return fmt.Errorf("%w: cwd %q is not a directory", ErrBadRequest, s.Dir)
	}
	return nil
}

// confine resolves a path from a request — made absolute, every symlink
// followed — and accepts it only inside temp_directory or one of
// allowed_directories (themselves resolved the same way). ".." and symlinks
// that lead outside are refused.
func (r *resolver) confine(what, p string) (string, error) {
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", fmt.Errorf("%w: %s %q: %v", ErrBadRequest, what, p, err)
	}
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return "", fmt.Errorf("%w: %s %q does not exist", ErrBadRequest, what, p)
	}
	roots := append([]string{r.cfg.TempDirectory}, r.cfg.AllowedDirectories...)
	for _, root := range roots {
		if rr, err := filepath.EvalSymlinks(root); err == nil && within(real, rr) {
			return real, nil
		}
	}
	return "", fmt.Errorf("%w: %s %q resolves to %s, which is outside %s; add a directory to allowed_directories in the config to allow it",
		ErrPathNotAllowed, what, p, real, strings.Join(roots, ", "))
}

// within says whether p is root or lies below it (both clean and absolute).
func within(p, root string) bool {
	rel, err := filepath.Rel(root, p)
	return err == nil && !filepath.IsAbs(rel) && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

func lookPath(cmd string) (string, error) {
	path, err := exec.LookPath(cmd)
	if err != nil {
		return "", fmt.Errorf("%w: command %q not found on PATH", ErrBadRequest, cmd)
	}
	return filepath.Abs(path)
}

// baseEnv names the variables every child inherits: enough for interpreters
// and package runners to work, none of metamcp's secrets.
var baseEnv = []string{
	"PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TERM",
	"TMPDIR", "TEMP", "TMP", "XDG_RUNTIME_DIR", "XDG_CACHE_HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME",
}

var windowsEnv = []string{
	"SYSTEMROOT", "SYSTEMDRIVE", "WINDIR", "COMSPEC", "PATHEXT", "APPDATA", "LOCALAPPDATA",
	"USERPROFILE", "PROGRAMDATA", "PROGRAMFILES", "PROGRAMFILES(X86)", "HOMEDRIVE", "HOMEPATH",
}

// childEnv builds a child's environment: the base variables and the ones
// the config lets through, then the template's, then the call's.
func childEnv(passthrough []string, layers ...map[string]string) []string {
	names := append(slices.Clone(baseEnv), passthrough...)
	if runtime.GOOS == "windows" {
		names = append(names, windowsEnv...)
	}
	env := map[string]string{}
	for _, n := range names {
		if v, ok := os.LookupEnv(n); ok {
			env[n] = v
		}
	}
	for _, l := range layers {
		for k, v := range l {
			env[k] = v
		}
	}
	out := make([]string, 0, len(env))
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}

func newID() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return "srv_" + hex.EncodeToString(b[:])
}
