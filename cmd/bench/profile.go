//go:build linux

package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/metamcp/metamcp/templates"
)

// relayNodes are the profile nodes the report shows, by what they are.
var relayNodes = []struct{ label, node string }{
	{"mcp-go stdio server: each incoming line parsed, also as a possible response to a sampling, elicitation or roots request", "server.(*StdioServer).processMessage"},
	{"mcp-go server: request decoding and dispatch (includes our handler below)", "server.(*MCPServer).HandleMessage"},
	{"our execute_on_server handler (argument checks, System.Ask, result JSON)", "mcpbridge.(*Bridge).executeOnServer"},
	{"our server actor's call goroutine (child call, outcome, event)", "actors.(*serverActor).dispatch.func1"},
	{"mcp-go client transport: the child's responses read and decoded", "transport.(*Stdio).readResponses"},
	{"mcp-go stdio server: responses encoded and written", "server.(*StdioServer).writeResponse"},
	{"encoding/json Unmarshal, all callers", "encoding/json.Unmarshal"},
	{"encoding/json Marshal, all callers", "encoding/json.Marshal"},
	{"garbage collector (background marking)", "runtime.gcBgMarkWorker"},
}

// relayProfile runs 32 callers of execute_on_server against a metamcp serve
// that profiles itself (METAMCP_CPUPROFILE) and reports where its CPU went.
func (b *bench) relayProfile() error {
	prof := filepath.Join(b.dir, "relay.pprof")
	cfg, err := b.config("profile", nil)
	if err != nil {
		return err
	}
	m, err := connectEnv(b.ctx, []string{"METAMCP_CPUPROFILE=" + prof}, b.bin, "serve", "--config", cfg)
	if err != nil {
		return err
	}
	id, _, err := m.create(b.ctx, map[string]any{"name": "calc", "template": templates.BasicCalculator})
	if err != nil {
		_ = m.close()
		return err
	}
	window := time.Duration(b.runs(12)) * 250 * time.Millisecond
	stop := time.Now().Add(window)
	var wg sync.WaitGroup
	var mu sync.Mutex
	calls := 0
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(stop) {
				if _, err := m.call(b.ctx, "execute_on_server", map[string]any{"server_id": id, "tool_name": "add", "arguments": addArgs}); err != nil {
					return
				}
				mu.Lock()
				calls++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if err := m.close(); err != nil { // the profile is written as metamcp exits
		return err
	}
	out, err := exec.Command(goTool(), "tool", "pprof", "-top", "-cum", "-nodecount=300", b.bin, prof).Output()
	if err != nil {
		return fmt.Errorf("go tool pprof: %w", err)
	}
	b.note("%s", relayTable(out, calls, window))
	return nil
}

// relayTable renders the chosen nodes' cumulative shares of the profile.
func relayTable(top []byte, calls int, window time.Duration) string {
	cum := map[string]string{}
	var total string
	sc := bufio.NewScanner(bytes.NewReader(top))
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "Duration:") {
			total = strings.TrimSpace(line)
		}
		f := strings.Fields(line)
		if len(f) < 6 || !strings.HasSuffix(f[4], "%") {
			continue
		}
		name := strings.Join(f[5:], " ")
		for _, n := range relayNodes {
			if _, seen := cum[n.node]; !seen && strings.HasSuffix(name, n.node) {
				cum[n.node] = f[4]
			}
		}
	}
	var s strings.Builder
	fmt.Fprintf(&s, "Relay profile: `metamcp serve` profiling itself (METAMCP_CPUPROFILE) while 32 callers ran execute_on_server add for %s (%d calls; %s). Share of its CPU samples, cumulative (a node includes what it calls):\n\n",
		window, calls, total)
	s.WriteString("| where | cum % |\n|---|---|\n")
	for _, n := range relayNodes {
		v := cum[n.node]
		if v == "" {
			v = "< 1 %"
		}
		fmt.Fprintf(&s, "| %s (`%s`) | %s |\n", n.label, n.node, v)
	}
	return s.String()
}

// goTool is the go command running this harness (make bench: go run).
func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return filepath.Join(runtime.GOROOT(), "bin", "go")
}
