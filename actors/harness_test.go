//go:build linux

package actors

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
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

	down    sync.Once
	downErr error
}

// Shutdown shuts the system down once; the test's cleanup calls it too, so
// a test may shut down early to check what is left afterwards.
func (ts *testSystem) Shutdown() error {
	ts.down.Do(func() { ts.downErr = ts.System.Shutdown() })
	return ts.downErr
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
	cfg.StateDirectory = t.TempDir() // each test its own event store
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
		if err := ts.Shutdown(); err != nil {
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

// askTimed sends msg and says how long the answer took.
func (ts *testSystem) askTimed(t *testing.T, msg Message) (any, time.Duration, error) {
	t.Helper()
	t0 := time.Now()
	res, err := ts.ask(t, msg)
	return res, time.Since(t0), err
}

// callBy calls a tool with a deadline.
func (ts *testSystem) callBy(t *testing.T, id, tool string, args map[string]any, deadline time.Time) (*ToolResult, error) {
	t.Helper()
	raw, _ := json.Marshal(args)
	res, err := ts.ask(t, &CallTool{ServerID: id, Tool: tool, Arguments: raw, Deadline: deadline})
	if err != nil {
		return nil, err
	}
	return res.(*ToolResult), nil
}

// noChildLeft fails the test if a child of this process started since
// before is still there, running or unreaped: the server's process, or
// the shim running it.
func noChildLeft(t *testing.T, before map[proc]bool) {
	t.Helper()
	for _, p := range newChildrenSince(before) {
		st, _ := readProcStat(p.pid)
		t.Errorf("child pid %d left behind in state %c", p.pid, st.state)
	}
}

// procStat is what /proc/PID/stat says about a process.
type procStat struct {
	state      byte
	ppid, pgrp int
	start      uint64 // clock ticks after boot: with the pid, names the process
}

func readProcStat(pid int) (procStat, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return procStat{}, false
	}
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:])) // fields 3 (state) onwards
	if len(f) < 20 || f[0] == "" {
		return procStat{}, false
	}
	ppid, _ := strconv.Atoi(f[1])
	pgrp, _ := strconv.Atoi(f[2])
	start, _ := strconv.ParseUint(f[19], 10, 64) // field 22
	return procStat{state: f[0][0], ppid: ppid, pgrp: pgrp, start: start}, true
}

// proc is one process, told apart from a later one that reuses its pid.
type proc struct {
	pid   int
	start uint64
}

// watch names the process that has pid now; it fails the test if there is
// none, since then the test would check nothing.
func watch(t *testing.T, pid int) proc {
	t.Helper()
	st, ok := readProcStat(pid)
	if !ok || st.state == 'Z' {
		t.Fatalf("pid %d: no such live process to watch", pid)
	}
	return proc{pid: pid, start: st.start}
}

// running is true while the process exists and has not exited. A zombie
// is not running; whether it is reaped is zombieChildren's business.
func (p proc) running() bool {
	st, ok := readProcStat(p.pid)
	return ok && st.start == p.start && st.state != 'Z'
}

// exists is true until the process is reaped.
func (p proc) exists() bool {
	st, ok := readProcStat(p.pid)
	return ok && st.start == p.start
}

// String says which process it is and what became of it.
func (p proc) String() string {
	st, ok := readProcStat(p.pid)
	if !ok || st.start != p.start {
		return fmt.Sprintf("pid %d (gone)", p.pid)
	}
	return fmt.Sprintf("pid %d (state %c, ppid %d)", p.pid, st.state, st.ppid)
}

// waitGone polls until none of procs is running, and reports (without
// stopping the test) those still running after total.
func waitGone(t *testing.T, total time.Duration, what string, procs ...proc) {
	t.Helper()
	deadline := time.Now().Add(total)
	for _, p := range procs {
		for p.running() && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if p.running() {
			t.Errorf("after %s: %s %s still running", total, what, p)
		}
	}
}

// killIfRunning is a test's cleanup for a process that must not outlive it
// even when the test fails.
func killIfRunning(p proc) {
	if p.running() {
		_ = syscall.Kill(p.pid, syscall.SIGKILL)
	}
}

// processes lists every process by pid.
func processes() map[int]procStat {
	out := map[int]procStat{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if st, ok := readProcStat(pid); ok {
			out[pid] = st
		}
	}
	return out
}

// zombieChildren lists this process's children that exited and were not
// reaped.
func zombieChildren() []int {
	var out []int
	for pid, st := range processes() {
		if st.state == 'Z' && st.ppid == os.Getpid() {
			out = append(out, pid)
		}
	}
	return out
}

// directChildren names this process's children, running or not reaped.
func directChildren() map[proc]bool {
	out := map[proc]bool{}
	for pid, st := range processes() {
		if st.ppid == os.Getpid() {
			out[proc{pid: pid, start: st.start}] = true
		}
	}
	return out
}

// newChildrenSince lists the children of this process, running or not
// reaped, that were not there in before.
func newChildrenSince(before map[proc]bool) []proc {
	var out []proc
	for p := range directChildren() {
		if !before[p] {
			out = append(out, p)
		}
	}
	return out
}

// openFDs counts this process's open file descriptors.
func openFDs(t *testing.T) int {
	t.Helper()
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(entries)
}

// readPIDs reads the processes a fake child recorded (fakePIDFileEnv).
func readPIDs(t *testing.T, path string) []proc {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	var out []proc
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if line == "" {
			continue
		}
		var p proc
		if _, err := fmt.Sscan(line, &p.pid, &p.start); err != nil {
			t.Fatalf("pid file %s: %q: %v", path, line, err)
		}
		out = append(out, p)
	}
	return out
}

// tailWriter is a log sink that keeps only its last max bytes and counts
// the lines that contain mark, for tests whose children log too much to
// keep.
type tailWriter struct {
	mu    sync.Mutex
	buf   []byte
	max   int
	mark  []byte
	marks int
	bytes int64
}

func (w *tailWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.bytes += int64(len(p))
	if len(w.mark) > 0 && bytes.Contains(p, w.mark) {
		w.marks++
	}
	w.buf = append(w.buf, p...)
	if over := len(w.buf) - w.max; over > 0 {
		w.buf = append(w.buf[:0], w.buf[over:]...)
	}
	return len(p), nil
}

func (w *tailWriter) seen() (marks int, total int64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.marks, w.bytes
}

func (w *tailWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return string(w.buf)
}
