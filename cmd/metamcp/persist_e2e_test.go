package main

import (
	"bytes"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// Events of run 1 — one that ended by SIGKILL — are in the history of run
// 2, marked with their run; a third instance of the same session is refused
// with a message naming the one that runs (issue 5).
func TestEventsSurviveRestart(t *testing.T) {
	t.Parallel()
	state := filepath.Join(t.TempDir(), "state")
	opts := serveOpts{Config: map[string]any{"state_directory": state}}

	run1 := startServe(t, opts)
	id, _ := createFrom(t, run1, "calc", "basic_calculator", nil)
	executeOK(t, run1, id, "add", map[string]any{"a": 1, "b": 2})
	mustOK(t, run1, "stop_server", map[string]any{"server_id": id})
	want := []string{"server_created", "server_started", "tool_executed", "server_stopped"}
	var before []any
	checkFor(t, 2*time.Second, 20*time.Millisecond, func() error {
		before = eventHistory(t, run1, map[string]any{"server_id": id})
		if got := eventTypes(t, before); !sameStrings(got, want) {
			return fmt.Errorf("run 1: %v, want %v", got, want)
		}
		return nil
	})
	time.Sleep(200 * time.Millisecond) // past the store's 50 ms batch: written, then killed
	if err := run1.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	if _, err := run1.waitExit(5 * time.Second); err != nil {
		t.Fatal(err)
	}

	run2 := startServe(t, opts)
	got := eventHistory(t, run2, map[string]any{"server_id": id})
	if len(got) != len(before) {
		t.Fatalf("run 2 sees %s\nrun 1 recorded %s", jsonText(got), jsonText(before))
	}
	for i := range got {
		if jnum(t, got, i, "id") != jnum(t, before, i, "id") || jstr(t, got, i, "event") != jstr(t, before, i, "event") ||
			jnum(t, got, i, "run") != 1 {
			t.Errorf("event %d: run 2 reads %s, run 1 recorded %s", i, jsonText(got[i]), jsonText(before[i]))
		}
	}
	if jstr(t, got, 2, "data", "tool") != "add" {
		t.Errorf("tool_executed read back: %s", jsonText(got[2]))
	}
	id2, _ := createFrom(t, run2, "calc2", "basic_calculator", nil)
	newest := eventHistory(t, run2, map[string]any{"limit": 1})
	if jstr(t, newest, 0, "server_id") != id2 || jnum(t, newest, 0, "run") != 2 ||
		jnum(t, newest, 0, "id") <= jnum(t, before, len(before)-1, "id") {
		t.Errorf("run 2's newest event: %s", jsonText(newest))
	}

	// A third instance of the session: refused, naming run 2's process.
	cfg := filepath.Join(run2.dir, "meta_mcp_config.json")
	third := exec.Command(metamcpBin, "serve", "--config", cfg)
	third.Env = serveEnv()
	var stderr bytes.Buffer
	third.Stderr = &stderr
	t0 := time.Now()
	err := third.Run()
	if err == nil {
		t.Fatal("a second instance of the session started")
	}
	if msg := stderr.String(); !strings.Contains(msg, fmt.Sprintf("metamcp pid %d", run2.pid)) ||
		!strings.Contains(msg, "Another metamcp is running with this session") {
		t.Errorf("second instance: %v; stderr:\n%s", err, msg)
	}
	if took := time.Since(t0); took > 15*time.Second {
		t.Errorf("the refusal took %s", took)
	}
}

// The servers the client created come back, under the same ids, after
// metamcp is restarted — by stdin EOF, and by SIGKILL —: a template server
// with its own config, a pooled one (back in the pool), a script server
// whose env carries a secret (sealed on disk, restored in the child's
// environment). One whose script is gone is listed as restore_failed and
// does not hold the others back; one stopped by stop_server stays gone;
// restore_servers false forgets them (issue 5).
func TestServersSurviveRestart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	state := filepath.Join(dir, "state")
	const secret = "sk-test-5f0c1e7d9a"
	script := filepath.Join(dir, "secret-server")
	body := "#!/bin/sh\n[ \"$API_TOKEN\" = '" + secret + "' ] || { echo 'API_TOKEN missing' >&2; exit 3; }\n" +
		"exec '" + metamcpBin + "' template run basic_calculator\n"
	doomed := filepath.Join(dir, "doomed-server")
	for _, p := range []string{script, doomed} {
		if err := os.WriteFile(p, []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	opts := serveOpts{Config: map[string]any{"state_directory": state, "temp_directory": filepath.Join(dir, "tmp"),
		"allowed_commands": []string{"metamcp", script, doomed}, "allowed_directories": []string{dir},
		"templates": map[string]any{"calc-cmd": map[string]any{"command": metamcpBin,
			"args": []string{"template", "run", "basic_calculator"}, "capabilities": []string{"sums"}}}}}

	run1 := startServe(t, opts)
	calc, _ := createFrom(t, run1, "calc", "basic_calculator", map[string]any{"timeout_seconds": 7,
		"restart": map[string]any{"policy": "transient"}})
	pooled := jstr(t, mustOK(t, run1, "get_or_create_pooled_server", map[string]any{"template": "data_processor"}), "server_id")
	withEnv := map[string]any{"env": map[string]any{"API_TOKEN": secret}}
	sec := jstr(t, mustOK(t, run1, "create_server", map[string]any{"name": "secret", "script_path": script, "config": withEnv}), "server_id")
	gone := jstr(t, mustOK(t, run1, "create_server", map[string]any{"name": "doomed", "script_path": doomed, "config": withEnv}), "server_id")
	cmd, _ := createFrom(t, run1, "configured", "calc-cmd", map[string]any{"args": []string{"--http-timeout", "5s"}})
	files, _ := createFrom(t, run1, "files", "file_handler_template", nil)
	executeOK(t, run1, files, "write_file", map[string]any{"path": "note.txt", "content": "kept across restarts"})
	stopped, _ := createFrom(t, run1, "stopped", "basic_calculator", nil)
	mustOK(t, run1, "stop_server", map[string]any{"server_id": stopped})
	created := map[string]string{}
	for _, s := range jarr(t, mustOK(t, run1, "list_servers", nil), "servers") {
		created[jstr(t, s, "server_id")] = jstr(t, s, "created_at")
	}
	run1.closeStdin()
	if _, err := run1.waitExit(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	noSecretOnDisk(t, state, secret)
	if err := os.Remove(doomed); err != nil {
		t.Fatal(err)
	}

	run2 := startServe(t, opts)
	want := map[string]string{calc: "running", pooled: "running", sec: "running", gone: "restore_failed", cmd: "running",
		files: "running"}
	rows := waitStates(t, run2, want)
	for id, row := range rows {
		if jstr(t, row, "created_at") != created[id] || !jget[bool](t, row, "restored") {
			t.Errorf("restored %s: %s, created_at in run 1 %s", id, jsonText(row), created[id])
		}
	}
	if msg := jstr(t, rows[gone], "error"); !strings.Contains(msg, "does not exist") {
		t.Errorf("restore_failed reason: %q", msg)
	}
	executeOK(t, run2, calc, "add", map[string]any{"a": 1, "b": 2})
	executeOK(t, run2, sec, "multiply", map[string]any{"a": 3, "b": 4})
	executeOK(t, run2, cmd, "subtract", map[string]any{"a": 3, "b": 4})
	// A file handler keeps its own directory: what it wrote is there.
	if res, _ := executeOn(t, run2, files, "read_file", map[string]any{"path": "note.txt"}); !strings.Contains(jsonText(res), "kept across restarts") {
		t.Errorf("read_file after the restart: %s", jsonText(res))
	}
	if args := jstrs(t, rows[cmd], "args"); !slices.Contains(args, "--http-timeout") {
		t.Errorf("the configured server's args were not restored: %v", args)
	}
	mustFail(t, run2, "execute_on_server", map[string]any{"server_id": gone, "tool_name": "add", "arguments": map[string]any{}},
		"could not be restored", "restart_server")
	if p := mustOK(t, run2, "get_or_create_pooled_server", map[string]any{"template": "data_processor"}); jstr(t, p, "server_id") != pooled {
		t.Errorf("the pool did not hand out the restored server: %s", jsonText(p))
	}
	evs := eventTypes(t, eventHistory(t, run2, map[string]any{"event_type": "server_restored", "limit": 10}))
	if len(evs) != 5 {
		t.Errorf("server_restored events: %v", evs)
	}
	if evs := eventHistory(t, run2, map[string]any{"event_type": "server_restore_failed"}); len(evs) != 1 || jstr(t, evs, 0, "server_id") != gone {
		t.Errorf("server_restore_failed events: %s", jsonText(evs))
	}
	// Its script back, restart_server brings it back; stop_server drops it
	// (and its record) for good.
	if err := os.WriteFile(doomed, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	mustOK(t, run2, "restart_server", map[string]any{"server_id": gone})
	executeOK(t, run2, gone, "add", map[string]any{"a": 2, "b": 2})
	mustOK(t, run2, "stop_server", map[string]any{"server_id": gone})
	killWithChildren(t, run2)

	run3 := startServe(t, opts)
	waitStates(t, run3, map[string]string{calc: "running", pooled: "running", sec: "running", cmd: "running", files: "running"})
	executeOK(t, run3, sec, "add", map[string]any{"a": 1, "b": 1})
	run3.closeStdin()
	if _, err := run3.waitExit(5 * time.Second); err != nil {
		t.Fatal(err)
	}

	off := serveOpts{Config: map[string]any{"restore_servers": false}}
	for k, v := range opts.Config {
		off.Config[k] = v
	}
	run4 := startServe(t, off)
	if n := jnum(t, mustOK(t, run4, "list_servers", nil), "total"); n != 0 {
		t.Errorf("restore_servers false: %v servers listed", n)
	}
	run4.closeStdin()
	if _, err := run4.waitExit(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	run5 := startServe(t, opts)
	if n := jnum(t, mustOK(t, run5, "list_servers", nil), "total"); n != 0 {
		t.Errorf("after a run without restore: %v servers listed", n)
	}
	t.Logf("5 runs: restored after stdin EOF and after SIGKILL; forgotten with restore_servers false")
}

// waitStates waits until list_servers shows exactly the servers of want,
// each in its state, and returns their rows.
func waitStates(t *testing.T, s *mcpServe, want map[string]string) map[string]any {
	t.Helper()
	rows := map[string]any{}
	checkFor(t, 15*time.Second, 20*time.Millisecond, func() error {
		list := jarr(t, mustOK(t, s, "list_servers", nil), "servers")
		clear(rows)
		got := map[string]string{}
		for _, row := range list {
			id := jstr(t, row, "server_id")
			got[id], rows[id] = jstr(t, row, "status"), row
		}
		if !maps.Equal(got, want) {
			return fmt.Errorf("servers %v, want %v", got, want)
		}
		return nil
	})
	return rows
}

// noSecretOnDisk fails if any file under dir holds secret.
func noSecretOnDisk(t *testing.T, dir, secret string) {
	t.Helper()
	n := 0
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		n++
		if bytes.Contains(b, []byte(secret)) {
			t.Errorf("%s holds the secret in clear", p)
		}
		return nil
	})
	if err != nil || n == 0 {
		t.Fatalf("walking %s: %v (%d files)", dir, err, n)
	}
}

// killWithChildren SIGKILLs metamcp and checks that its children die with
// it; they are this test's zombies then (it is the subreaper), and it reaps
// them.
func killWithChildren(t *testing.T, s *mcpServe) {
	t.Helper()
	before := s.descendants()
	s.trackChildren()
	if len(before) == 0 {
		t.Fatal("metamcp has no children to outlive it")
	}
	if err := s.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.waitExit(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	checkFor(t, 2*time.Second, 5*time.Millisecond, func() error {
		for _, st := range before {
			if now, err := readStat(st.pid); err == nil && now.start == st.start && now.state != "Z" {
				return fmt.Errorf("pid %d (%s) outlived metamcp", st.pid, cmdline(st.pid))
			}
		}
		return nil
	})
	for _, st := range before {
		reapLeftover(st.pid)
	}
}
