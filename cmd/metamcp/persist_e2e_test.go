package main

import (
	"bytes"
	"fmt"
	"os/exec"
	"path/filepath"
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
