package main

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
)

// listChanges counts notifications/tools/list_changed from metamcp.
func listChanges(s *mcpServe) <-chan struct{} {
	ch := make(chan struct{}, 64)
	s.c.OnNotification(func(n mcp.JSONRPCNotification) {
		if n.Method == "notifications/tools/list_changed" {
			ch <- struct{}{}
		}
	})
	return ch
}

func waitNote(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatalf("no notifications/tools/list_changed %s", what)
	}
}

func listTools(t *testing.T, s *mcpServe) map[string]mcp.Tool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := s.c.ListTools(ctx, mcp.ListToolsRequest{})
	if err != nil {
		t.Fatalf("tools/list: %v", err)
	}
	tools := map[string]mcp.Tool{}
	for _, tl := range res.Tools {
		tools[tl.Name] = tl
	}
	return tools
}

var clientName = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,64}$`)

// A running server's tools are listed as <server>__<tool> next to the meta
// tools, answer as the child does, follow the server's life with
// list_changed, and get_server_capabilities names them.
func TestGatewayToolsListedAndCalled(t *testing.T) {
	t.Parallel()
	s := startServe(t, serveOpts{})
	changes := listChanges(s)
	created := mustOK(t, s, "create_server", map[string]any{"name": "calc", "template": "basic_calculator"})
	id := jstr(t, created, "server_id")
	waitNote(t, changes, "after create_server")

	tools := listTools(t, s)
	add, ok := tools["calc__add"]
	if !ok || tools["create_server"].Name == "" {
		t.Fatalf("tools/list lacks calc__add or the meta tools: %v", keys(tools))
	}
	for name := range tools {
		if !clientName.MatchString(name) {
			t.Errorf("tool name %q is not valid for clients", name)
		}
	}
	caps := mustOK(t, s, "get_server_capabilities", map[string]any{"server_id": id})
	if got := jstr(t, caps, "gateway_tools", "add"); got != "calc__add" {
		t.Errorf("gateway_tools.add = %q, want calc__add", got)
	}
	if add.Description == "" || add.InputSchema.Type != "object" {
		t.Errorf("calc__add lost the child's description or schema: %+v", add)
	}

	direct, isErr, _ := call(t, s, "calc__add", map[string]any{"a": 2, "b": 3})
	if isErr || jnum(t, direct, "result") != 5 {
		t.Fatalf("calc__add(2, 3) = %v (isError %v)", direct, isErr)
	}
	via := mustOK(t, s, "execute_on_server", map[string]any{"server_id": id, "tool_name": "add", "arguments": map[string]any{"a": 2, "b": 3}})
	if jsonText(jobj(t, via, "result", "structuredContent")) != jsonText(direct) {
		t.Errorf("gateway and execute_on_server answers differ: %v vs %v", direct, via)
	}

	mustOK(t, s, "stop_server", map[string]any{"server_id": id})
	waitNote(t, changes, "after stop_server")
	if _, ok := listTools(t, s)["calc__add"]; ok {
		t.Error("calc__add still listed after stop_server")
	}
}

// A call of an unknown gateway name is a clear error that says what there
// is instead, and the session goes on.
func TestGatewayUnknownTool(t *testing.T) {
	t.Parallel()
	s := startServe(t, serveOpts{})
	mustOK(t, s, "create_server", map[string]any{"name": "calc", "template": "basic_calculator"})
	for name, want := range map[string]string{
		"nosuch__add": "no running server offers it",
		"calc__nope":  "calc__add, calc__divide",
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		req := mcp.CallToolRequest{}
		req.Params.Name = name
		_, err := s.c.CallTool(ctx, req)
		cancel()
		if err == nil || !strings.Contains(err.Error(), name) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v, want an error naming it and saying %q", name, err, want)
		}
	}
	mustOK(t, s, "list_servers", nil)
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// callText calls any tool and returns its result, isError and the text of
// its first content item (children's tools need not answer in JSON).
func callText(t *testing.T, s *mcpServe, tool string, args map[string]any) (*mcp.CallToolResult, bool, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req := mcp.CallToolRequest{}
	req.Params.Name, req.Params.Arguments = tool, args
	res, err := s.c.CallTool(ctx, req)
	if err != nil {
		t.Fatalf("%s: %v", tool, err)
	}
	text := ""
	if len(res.Content) > 0 {
		if c, ok := mcp.AsTextContent(res.Content[0]); ok {
			text = c.Text
		}
	}
	return res, res.IsError, text
}
