//go:build linux

package main

// End-to-end tests of the control plane: `metamcp serve` runs as in the
// other e2e tests, with its own runtime directory, and the control commands
// (tree, ps, events, restart, stop) run as separate processes against it.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/metamcp/metamcp/control"
)

// ctlServe is a metamcp serve with a runtime directory of its own.
type ctlServe struct {
	*mcpServe
	rt string // XDG_RUNTIME_DIR; the instance's files are in rt/metamcp
}

func startCtlServe(t *testing.T) *ctlServe {
	t.Helper()
	rt, err := os.MkdirTemp("", "mcrt") // short: socket paths are limited to 108 bytes
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { // after the harness's cleanup: metamcp has exited
		if left, _ := filepath.Glob(filepath.Join(rt, "metamcp", "*")); len(left) != 0 {
			t.Errorf("left in the runtime directory after metamcp exited: %v", left)
		}
		os.RemoveAll(rt)
	})
	s := startServe(t, serveOpts{Env: []string{"XDG_RUNTIME_DIR=" + rt}})
	return &ctlServe{mcpServe: s, rt: rt}
}

// ctl runs a control command against the test's runtime directory and
// returns its stdout, stderr and exit code.
func ctl(t *testing.T, rt string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(metamcpBin, args...)
	cmd.Env = append(serveEnv(), "XDG_RUNTIME_DIR="+rt)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("metamcp %s: %v", strings.Join(args, " "), err)
	}
	return out.String(), errb.String(), cmd.ProcessState.ExitCode()
}

// ctlJSON runs a control command with --json that must succeed.
func ctlJSON(t *testing.T, rt string, args ...string) map[string]any {
	t.Helper()
	out, errs, code := ctl(t, rt, append(args, "--json")...)
	if code != 0 {
		t.Fatalf("metamcp %s: exit %d: %s", strings.Join(args, " "), code, errs)
	}
	var v map[string]any
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("metamcp %s --json: %v: %s", strings.Join(args, " "), err, out)
	}
	return v
}

// serverNode finds a server's node in a tree.
func serverNode(t *testing.T, tree map[string]any, id string) map[string]any {
	t.Helper()
	for _, k := range jarr(t, tree, "children") {
		if n := k.(map[string]any); n["name"] == id {
			return n
		}
	}
	t.Fatalf("no node %s in tree %s", id, jsonText(tree))
	return nil
}

// The tree: its structure, a killed child restarting, a crash loop, the
// human output against a golden file, and the socket's permissions.
func TestControlTree(t *testing.T) {
	t.Parallel()
	s := startCtlServe(t)
	calc, calcPID := createFrom(t, s.mcpServe, "calc", "basic_calculator", map[string]any{
		"restart": map[string]any{"initial_backoff_ms": 1500}}) // long enough to see the backoff
	data, _ := createFrom(t, s.mcpServe, "data", "data_processor", nil)
	loop, _ := createFrom(t, s.mcpServe, "loop", "file_handler_template", map[string]any{
		"restart": map[string]any{"max_restarts": 1, "window_seconds": 60, "initial_backoff_ms": 10}})

	// The files: dir 0700, socket 0600, a record naming the client.
	dir := filepath.Join(s.rt, "metamcp")
	for path, want := range map[string]os.FileMode{dir: 0o700, filepath.Join(dir, fmt.Sprintf("metamcp-%d.sock", s.pid)): 0o600} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != want || fi.Sys().(*syscall.Stat_t).Uid != uint32(os.Getuid()) {
			t.Errorf("%s: mode %v uid %d, want %v and ours", path, fi.Mode().Perm(), fi.Sys().(*syscall.Stat_t).Uid, want)
		}
	}
	inst := readInstance(t, s)
	if inst.ClientName != "metamcp-e2e" || inst.ClientVersion != "1.0.0" || inst.PID != s.pid {
		t.Errorf("instance record: %+v", inst)
	}

	tree := ctlJSON(t, s.rt, "tree")
	kids := jarr(t, tree, "children")
	if tree["name"] != "root" || tree["kind"] != "supervisor" || len(kids) != 6 {
		t.Fatalf("tree: %s", jsonText(tree))
	}
	for i, want := range []string{"events", "pool", "monitor"} {
		if jstr(t, kids, i, "kind") != want {
			t.Errorf("child %d: %s, want %s", i, jsonText(kids[i]), want)
		}
	}
	for i, want := range [][2]string{{calc, "basic_calculator"}, {data, "data_processor"}, {loop, "file_handler_template"}} {
		n := jobj(t, kids, 3+i)
		if n["name"] != want[0] || n["state"] != "running" || jstr(t, n, "server", "template") != want[1] ||
			jnum(t, n, "server", "pid") <= 0 {
			t.Errorf("server node %d: %s", i, jsonText(n))
		}
	}

	// The human tree against the golden file, volatile fields masked.
	out, errs, code := ctl(t, s.rt, "tree")
	if code != 0 {
		t.Fatalf("metamcp tree: exit %d: %s", code, errs)
	}
	checkGolden(t, "tree.golden", maskTree(out, map[string]string{calc: "srv_CALC", data: "srv_DATA", loop: "srv_LOOP"}))

	// A killed child restarts; the tree shows it.
	if err := syscall.Kill(calcPID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	checkFor(t, 2*time.Second, 20*time.Millisecond, func() error {
		out, _, _ := ctl(t, s.rt, "tree")
		if !strings.Contains(out, calc+"  calc  basic_calculator  backoff (next restart in ") {
			return fmt.Errorf("not in backoff:\n%s", out)
		}
		return nil
	})
	checkFor(t, 10*time.Second, 50*time.Millisecond, func() error {
		n := serverNode(t, ctlJSON(t, s.rt, "tree"), calc)
		if n["state"] != "running" || jnum(t, n, "server", "restarts") != 1 || int(jnum(t, n, "server", "pid")) == calcPID ||
			jstr(t, n, "server", "last_exit", "signal") != "SIGKILL" {
			return fmt.Errorf("not restarted yet: %s", jsonText(n))
		}
		s.track(int(jnum(t, n, "server", "pid")))
		return nil
	})

	// Two kills of a server that may restart once: crash_loop.
	for kill := 1; kill <= 2; kill++ {
		checkFor(t, 10*time.Second, 20*time.Millisecond, func() error {
			n := serverNode(t, ctlJSON(t, s.rt, "tree"), loop)
			if n["state"] != "running" || jnum(t, n, "server", "restarts") != float64(kill-1) {
				return fmt.Errorf("before kill %d: %s", kill, jsonText(n))
			}
			pid := int(jnum(t, n, "server", "pid"))
			s.track(pid)
			return syscall.Kill(pid, syscall.SIGKILL)
		})
	}
	checkFor(t, 10*time.Second, 50*time.Millisecond, func() error {
		if n := serverNode(t, ctlJSON(t, s.rt, "tree"), loop); n["state"] != "crash_loop" || jnum(t, n, "server", "pid") != 0 {
			return fmt.Errorf("not in crash_loop: %s", jsonText(n))
		}
		return nil
	})
	out, _, _ = ctl(t, s.rt, "tree")
	if !strings.Contains(out, loop+"  loop  file_handler_template  crash_loop") {
		t.Errorf("tree does not show the crash loop:\n%s", out)
	}
	checkGolden(t, "tree_crash_loop.golden", maskTree(out, map[string]string{calc: "srv_CALC", data: "srv_DATA", loop: "srv_LOOP"}))
	if out, _, _ := ctl(t, s.rt, "ps"); !strings.Contains(out, "crash_loop") || !strings.Contains(out, "killed by signal SIGKILL") {
		t.Errorf("ps:\n%s", out)
	}

	// restart brings it back; stop removes one; an unknown id is a plain error.
	if res := ctlJSON(t, s.rt, "restart", loop); jstr(t, res, "server", "status") != "running" {
		t.Errorf("restart: %s", jsonText(res))
	} else {
		s.track(int(jnum(t, res, "server", "pid")))
	}
	if _, errs, code := ctl(t, s.rt, "stop", data); code != 0 {
		t.Errorf("stop: exit %d: %s", code, errs)
	}
	if _, errs, code := ctl(t, s.rt, "stop", "srv_nope"); code != 1 || !strings.Contains(errs, "unknown server") {
		t.Errorf("stop srv_nope: exit %d: %s", code, errs)
	}
	ps := ctlJSON(t, s.rt, "ps")
	if n := len(jarr(t, ps, "servers")); n != 2 {
		t.Errorf("ps after stop: %s", jsonText(ps))
	}
}

// maskTree replaces what changes from run to run: ids, pids, times, memory.
func maskTree(out string, ids map[string]string) string {
	for id, name := range ids {
		out = strings.ReplaceAll(out, id, name)
	}
	for _, m := range []struct{ re, with string }{
		{`pid \d+`, "pid N"},
		{`up [\d.]+(ms|s|m\d+s|h\d+m|d\d+h)`, "up T"},
		{`rss (\d+\.\d MB|-)`, "rss R"},
		{`\d+ events held`, "N events held"},
	} {
		out = regexp.MustCompile(m.re).ReplaceAllString(out, m.with)
	}
	return out
}

func readInstance(t *testing.T, s *ctlServe) control.Record {
	t.Helper()
	var r control.Record
	checkFor(t, 5*time.Second, 20*time.Millisecond, func() error {
		data, err := os.ReadFile(filepath.Join(s.rt, "metamcp", fmt.Sprintf("metamcp-%d.json", s.pid)))
		if err == nil {
			err = json.Unmarshal(data, &r)
		}
		if err == nil && r.ClientName == "" {
			err = fmt.Errorf("no client name yet: %s", data)
		}
		return err
	})
	return r
}

// `metamcp events --follow` prints an event that happens after it started.
func TestControlEventsFollow(t *testing.T) {
	t.Parallel()
	s := startCtlServe(t)
	id, _ := createFrom(t, s.mcpServe, "calc", "basic_calculator", nil)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, metamcpBin, "events", "--follow", "--json", "--server", id)
	cmd.Env = append(serveEnv(), "XDG_RUNTIME_DIR="+s.rt)
	var errb lockedBuffer
	cmd.Stderr = &errb
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); _ = cmd.Wait() }()
	lines := bufio.NewScanner(stdout)
	next := func() map[string]any {
		if !lines.Scan() {
			t.Fatalf("events --follow ended: %v; stderr: %s", lines.Err(), errb.String())
		}
		var e map[string]any
		if err := json.Unmarshal(lines.Bytes(), &e); err != nil {
			t.Fatalf("events --follow: %v: %s", err, lines.Bytes())
		}
		return e
	}
	if e := next(); e["event"] != "server_created" { // the history first: the stream is open
		t.Fatalf("first event: %s", jsonText(e))
	}
	executeOK(t, s.mcpServe, id, "add", map[string]any{"a": 1, "b": 2})
	for {
		e := next()
		if e["event"] == "tool_executed" {
			if e["server_id"] != id || jstr(t, e, "data", "tool") != "add" {
				t.Errorf("tool_executed: %s", jsonText(e))
			}
			break
		}
	}
}

// A killed instance's socket and record are removed by the next command,
// which then says plainly that nothing is running.
func TestControlStaleInstance(t *testing.T) {
	t.Parallel()
	s := startCtlServe(t)
	readInstance(t, s)
	if err := syscall.Kill(s.pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if _, err := s.waitExit(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(s.rt, "metamcp")
	if left, _ := filepath.Glob(filepath.Join(dir, "metamcp-*")); len(left) != 2 {
		t.Fatalf("after SIGKILL: %v, want its socket and record", left)
	}
	_, errs, code := ctl(t, s.rt, "ps")
	if code != 1 || !strings.Contains(errs, "no metamcp instance is running") {
		t.Errorf("ps with no instance: exit %d: %s", code, errs)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "metamcp-*")); len(left) != 0 {
		t.Errorf("stale files left: %v", left)
	}
}

// /metrics has the expected metrics after some calls.
func TestControlMetrics(t *testing.T) {
	t.Parallel()
	s := startCtlServe(t)
	id, _ := createFrom(t, s.mcpServe, "calc", "basic_calculator", nil)
	executeOK(t, s.mcpServe, id, "add", map[string]any{"a": 1, "b": 2})
	executeToolError(t, s.mcpServe, id, "divide", map[string]any{"a": 1, "b": 0}, "")
	pooled := mustOK(t, s.mcpServe, "get_or_create_pooled_server", map[string]any{"template": "data_processor"})
	mustOK(t, s.mcpServe, "get_or_create_pooled_server", map[string]any{"template": "data_processor"})
	s.trackPIDs(pooled)
	c := control.NewClient(readInstance(t, s))
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var text string
	checkFor(t, 5*time.Second, 50*time.Millisecond, func() error {
		body, err := c.Raw(ctx, "/metrics")
		if err != nil {
			return err
		}
		text = string(body)
		for _, want := range []string{
			`metamcp_tool_calls_total{server_id="` + id + `",tool="add"} 1`,
			`metamcp_tool_errors_total{kind="tool_error",server_id="` + id + `",tool="divide"} 1`,
			`metamcp_tool_call_duration_seconds_bucket{server_id="` + id + `",tool="add"`,
			`metamcp_pool_hits_total{template="data_processor"} 1`,
			`metamcp_pool_misses_total{template="data_processor"} 1`,
			`metamcp_events_total{type="server_created"} 2`,
			`metamcp_children_live 2`,
			`metamcp_child_rss_bytes{name="calc",server_id="` + id + `",template="basic_calculator"}`,
		} {
			if !strings.Contains(text, want) {
				return fmt.Errorf("no %s in /metrics", want)
			}
		}
		return nil
	})
	var apiErr *control.APIError
	if err := c.Post(ctx, "/v1/servers/srv_nope/restart", nil); !errors.As(err, &apiErr) || apiErr.Status != 404 {
		t.Errorf("restart of an unknown server: %v", err)
	}
}

// With two instances, a command lists them and asks for --pid.
func TestControlSeveralInstances(t *testing.T) {
	t.Parallel()
	rt, err := os.MkdirTemp("", "mcrt")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(rt) })
	a := &ctlServe{startServe(t, serveOpts{Env: []string{"XDG_RUNTIME_DIR=" + rt}}), rt}
	b := &ctlServe{startServe(t, serveOpts{Env: []string{"XDG_RUNTIME_DIR=" + rt}}), rt}
	readInstance(t, a)
	readInstance(t, b)
	_, errs, code := ctl(t, rt, "tree")
	if code != 1 || !strings.Contains(errs, "pick one with --pid") ||
		!strings.Contains(errs, "pid "+strconv.Itoa(a.pid)) || !strings.Contains(errs, "pid "+strconv.Itoa(b.pid)) {
		t.Errorf("tree with two instances: exit %d: %s", code, errs)
	}
	id, _ := createFrom(t, b.mcpServe, "calc", "basic_calculator", nil)
	if ps := ctlJSON(t, rt, "ps", "--pid", strconv.Itoa(b.pid)); jstr(t, ps, "servers", 0, "server_id") != id {
		t.Errorf("ps --pid: %s", jsonText(ps))
	}
	if _, errs, code := ctl(t, rt, "ps", "--pid", "1"); code != 1 || !strings.Contains(errs, "no metamcp instance is running with pid 1") {
		t.Errorf("ps --pid 1: exit %d: %s", code, errs)
	}
	// --watch redraws until interrupted (here: piped, so frames one after another).
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, metamcpBin, "tree", "--watch", "--every", "50ms", "--pid", strconv.Itoa(a.pid))
	cmd.Env = append(serveEnv(), "XDG_RUNTIME_DIR="+rt)
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	frames, lines := 0, bufio.NewScanner(stdout)
	for frames < 3 && lines.Scan() {
		if strings.HasPrefix(lines.Text(), "root  running") {
			frames++
		}
	}
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
	if err := cmd.Wait(); err != nil || frames < 3 {
		t.Errorf("tree --watch: %d frames, exit %v", frames, err)
	}
}

// --control-addr takes loopback addresses only; anything else stops start-up.
func TestControlAddrNotLoopback(t *testing.T) {
	t.Parallel()
	cmd := exec.Command(metamcpBin, "serve", "--control-addr", "0.0.0.0:7070")
	cmd.Env = append(serveEnv(), "XDG_RUNTIME_DIR="+t.TempDir())
	out, err := cmd.CombinedOutput()
	if cmd.ProcessState == nil || cmd.ProcessState.ExitCode() != 1 || !strings.Contains(string(out), "not a loopback address") {
		t.Errorf("serve --control-addr 0.0.0.0:7070: %v: %s", err, out)
	}
}
