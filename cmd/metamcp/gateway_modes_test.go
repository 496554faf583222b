package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
)

// mode gateway with start_servers: the configured servers' tools are all
// the client sees, under the same names on every run, and the meta tools
// can be neither listed nor called.
func TestGatewayModeStartServers(t *testing.T) {
	t.Parallel()
	s := startServe(t, serveOpts{Config: map[string]any{"mode": "gateway", "start_servers": []string{"basic_calculator"}}})
	var tools map[string]mcp.Tool
	checkFor(t, 10*time.Second, 20*time.Millisecond, func() error {
		tools = listTools(t, s)
		if _, ok := tools["basic_calculator__add"]; !ok {
			return fmt.Errorf("tools/list: %v", keys(tools))
		}
		return nil
	})
	for name := range tools {
		if !strings.HasPrefix(name, "basic_calculator__") {
			t.Errorf("mode gateway lists %q", name)
		}
	}
	if _, isErr, text := callText(t, s, "basic_calculator__multiply", map[string]any{"a": 6, "b": 7}); isErr || !strings.Contains(text, "42") {
		t.Errorf("basic_calculator__multiply: %s", text)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req := mcp.CallToolRequest{}
	req.Params.Name = "list_servers"
	if _, err := s.c.CallTool(ctx, req); err == nil {
		t.Error("mode gateway let the client call a meta tool")
	}
}

// A server's config.tools filter and expose_tools false decide what is
// listed; execute_on_server still reaches every tool.
func TestGatewayToolFilters(t *testing.T) {
	t.Parallel()
	s := startServe(t, serveOpts{})
	id := jstr(t, mustOK(t, s, "create_server", map[string]any{"name": "calc", "template": "basic_calculator",
		"config": map[string]any{"tools": map[string]any{"allow": []string{"*i*"}, "deny": []string{"divide"}}}}), "server_id")
	tools := listTools(t, s)
	for name, want := range map[string]bool{"calc__multiply": true, "calc__divide": false, "calc__add": false} {
		if _, ok := tools[name]; ok != want {
			t.Errorf("%s listed %v, want %v (allow *i*, deny divide)", name, ok, want)
		}
	}
	mustOK(t, s, "execute_on_server", map[string]any{"server_id": id, "tool_name": "add", "arguments": map[string]any{"a": 1, "b": 1}})
	mustFail(t, s, "create_server", map[string]any{"name": "bad", "template": "basic_calculator",
		"config": map[string]any{"tools": map[string]any{"allow": []string{"[x"}}}}, "[x")

	hidden := startServe(t, serveOpts{Config: map[string]any{"expose_tools": false}})
	mustOK(t, hidden, "create_server", map[string]any{"name": "calc", "template": "basic_calculator"})
	for name := range listTools(t, hidden) {
		if strings.Contains(name, "__") {
			t.Errorf("expose_tools false lists %s", name)
		}
	}
}

// A server of start_servers has the same server_id on every run, and is
// not restored as well (which would start it twice).
func TestGatewayStartServersStableID(t *testing.T) {
	t.Parallel()
	cfg := map[string]any{"start_servers": []string{"basic_calculator"}, "state_directory": t.TempDir()}
	ids := make([]string, 2)
	for i := range ids { // one session, run twice
		s := startServe(t, serveOpts{Config: cfg})
		checkFor(t, 10*time.Second, 20*time.Millisecond, func() error {
			servers := jarr(t, mustOK(t, s, "list_servers", nil), "servers")
			if len(servers) != 1 {
				return fmt.Errorf("%d servers, want the one of start_servers", len(servers))
			}
			ids[i] = jstr(t, servers[0], "server_id")
			return nil
		})
		s.closeStdin()
		if _, err := s.waitExit(10 * time.Second); err != nil {
			t.Fatal(err)
		}
	}
	if ids[0] != ids[1] || ids[0] == "" {
		t.Errorf("server_ids %v: want the same on every run", ids)
	}
}
