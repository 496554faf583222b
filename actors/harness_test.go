package actors

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/metamcp/metamcp/config"
	"github.com/metamcp/metamcp/templates"
)

type testSystem struct {
	*System
	logs *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// fakeTemplate is a configured template that runs this test binary as a
// fake child in the given mode.
func fakeTemplate(t *testing.T, name, mode string, extraEnv map[string]string) config.Template {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	// GORACE: a race-enabled binary (this one, as child and as shim) that
	// exits with code 0 otherwise sleeps 1 s first.
	env := map[string]string{fakeChildEnv: mode, "GORACE": "atexit_sleep_ms=0"}
	for k, v := range extraEnv {
		env[k] = v
	}
	return config.Template{Name: name, Command: exe, Env: env, Capabilities: []string{name + "_cap"}}
}

// newTestSystem starts a System whose templates are fake children. It is
// shut down, with every child checked gone, when the test ends.
func newTestSystem(t *testing.T, mutate func(*config.Config, *Options), tmpls ...config.Template) *testSystem {
	t.Helper()
	cfg := config.Defaults()
	cfg.TempDirectory = t.TempDir()
	exe, _ := os.Executable()
	cfg.AllowedCommands = append(cfg.AllowedCommands, filepath.Base(exe))
	cfg.Templates = append([]config.Template{fakeTemplate(t, "fake", "ok", nil)}, tmpls...)
	logs := &syncBuffer{}
	opts := Options{Config: &cfg, Log: zerolog.New(logs).Level(zerolog.DebugLevel),
		Policy: RestartPolicy{Initial: 20 * time.Millisecond, Max: 200 * time.Millisecond}}
	if mutate != nil {
		mutate(&cfg, &opts)
	}
	cat, err := templates.NewCatalog(cfg.Templates)
	if err != nil {
		t.Fatal(err)
	}
	opts.Catalog = cat
	sys, err := Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	ts := &testSystem{System: sys, logs: logs}
	t.Cleanup(func() {
		pids := ts.livePIDs(t)
		if err := sys.Shutdown(); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		for _, pid := range pids {
			if !processGone(pid) {
				t.Errorf("child pid %d outlived the system", pid)
			}
		}
		if t.Failed() {
			t.Logf("logs:\n%s", logs.String())
		}
	})
	return ts
}

func (ts *testSystem) ask(t *testing.T, msg Message) (any, error) {
	t.Helper()
	return ts.Ask(msg, 30*time.Second)
}

func (ts *testSystem) create(t *testing.T, template string) *ServerCreated {
	t.Helper()
	res, err := ts.ask(t, &CreateServer{Request: CreateRequest{Name: template, Template: template}})
	if err != nil {
		t.Fatalf("create %s: %v", template, err)
	}
	return res.(*ServerCreated)
}

func (ts *testSystem) call(t *testing.T, id, tool string, args map[string]any) (*ToolResult, error) {
	t.Helper()
	raw, _ := json.Marshal(args)
	res, err := ts.ask(t, &CallTool{ServerID: id, Tool: tool, Arguments: raw})
	if err != nil {
		return nil, err
	}
	return res.(*ToolResult), nil
}

func (ts *testSystem) server(t *testing.T, id string) ServerInfo {
	t.Helper()
	res, err := ts.ask(t, &ListServers{})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range res.(*ServerList).Servers {
		if s.ServerID == id {
			return s
		}
	}
	t.Fatalf("server %s not listed", id)
	return ServerInfo{}
}

func (ts *testSystem) livePIDs(t *testing.T) []int {
	res, err := ts.Ask(&ListServers{}, 5*time.Second)
	if err != nil {
		return nil
	}
	var pids []int
	for _, s := range res.(*ServerList).Servers {
		if s.PID > 0 {
			pids = append(pids, s.PID)
		}
	}
	return pids
}

// resultText returns the text of the first content item of a tool result.
func resultText(t *testing.T, r *ToolResult) string {
	t.Helper()
	var v struct {
		Content []struct {
			Text string `json:"text"`
		} `json:"content"`
	}
	if err := json.Unmarshal(r.Result, &v); err != nil || len(v.Content) == 0 {
		t.Fatalf("result %s has no text content", r.Result)
	}
	return v.Content[0].Text
}

// checkFor polls f until it returns nil or total passes.
func checkFor(t *testing.T, total, every time.Duration, f func() error) {
	t.Helper()
	deadline := time.Now().Add(total)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %v", total, err)
		}
		time.Sleep(every)
	}
}

// processGone is true when pid no longer exists as our child: neither
// running nor a zombie (a pid reused by an unrelated process counts as gone).
func processGone(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true
	}
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:])) // state, ppid, ...
	return len(f) > 1 && f[0] != "Z" && f[1] != strconv.Itoa(os.Getpid())
}

func kill(t *testing.T, pid int) {
	t.Helper()
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		t.Fatal(err)
	}
}
