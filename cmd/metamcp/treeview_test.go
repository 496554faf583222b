package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/metamcp/metamcp/actors"
	"github.com/metamcp/metamcp/actors/child"
	"github.com/metamcp/metamcp/control"
)

// renderTree on a fixed tree: every server state, with and without colour.
func TestRenderTree(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	rss, next := 19.14, now.Add(1200*time.Millisecond)
	kill := &child.Exit{Code: -1, Signal: "SIGKILL"}
	server := func(id, name, tmpl, state string, pid, restarts int, exit *child.Exit) *actors.TreeNode {
		info := &actors.ServerInfo{ServerID: id, Name: name, Template: tmpl, Status: state, PID: pid, Restarts: restarts,
			UptimeSeconds: 754, LastExit: exit}
		if pid > 0 {
			info.RSSMB = &rss
		}
		if state == actors.StateBackoff {
			info.NextRestartAt = &next
		}
		return &actors.TreeNode{Name: id, Kind: "server", State: state, Server: info}
	}
	root := &actors.TreeNode{Name: "root", Kind: "supervisor", State: "running",
		Detail: map[string]any{"servers": 4, "live": 3, "max_servers": 10},
		Children: []*actors.TreeNode{
			{Name: "events", Kind: "events", State: "running", Detail: map[string]any{"held": 42, "capacity": 10000}},
			{Name: "pool", Kind: "pool", State: "running", Detail: map[string]any{"pooled": map[string]any{"data_processor": []any{"srv_4"}}, "idle_ttl_seconds": 300}},
			{Name: "monitor", Kind: "monitor", State: "running", Detail: map[string]any{"interval_ms": 1000}},
			server("srv_1", "calc", "basic_calculator", actors.StateRunning, 4242, 0, nil),
			server("srv_2", "scraper", "web_scraper_template", actors.StateBackoff, 0, 2, kill),
			server("srv_3", "files", "file_handler_template", actors.StateCrashLoop, 0, 5, kill),
			server("srv_4", "data_processor (pooled)", "data_processor", actors.StateRunning, 4250, 0, nil),
		}}
	root.Children[6].Server.Pooled = true
	inst := control.Record{PID: 100, ClientName: "claude-ai", ClientVersion: "0.14.10", StartedAt: now.Add(-3*time.Hour - 7*time.Minute)}
	var b bytes.Buffer
	renderTree(&b, inst, root, now, false)
	b.WriteString("\n--- with colour\n")
	renderTree(&b, inst, root, now, true)
	checkGolden(t, "tree_render.golden", b.String())
}

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// checkGolden compares got with testdata/name, or writes it there with -update.
func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs (run with -update to accept):\n--- got\n%s--- want\n%s", path, got, want)
	}
}

func TestShortDur(t *testing.T) {
	for d, want := range map[time.Duration]string{-time.Second: "0s", 850 * time.Millisecond: "850ms", 1290 * time.Millisecond: "1.2s", 12 * time.Second: "12s",
		185 * time.Second: "3m05s", 127 * time.Minute: "2h07m", 76 * time.Hour: "3d04h"} {
		if got := shortDur(d); got != want {
			t.Errorf("shortDur(%s) = %s, want %s", d, got, want)
		}
	}
}
