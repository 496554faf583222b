package mcpbridge

import (
	"context"
	"os"
	"testing"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/rs/zerolog"

	"github.com/metamcp/metamcp/actors"
	"github.com/metamcp/metamcp/config"
	"github.com/metamcp/metamcp/templates"
)

// Benchmarks of metamcp's tools in-process (issue 6): an mcp-go in-process
// client on the bridge, with real built-in children from METAMCP_BIN (make
// bench builds it). They measure the bridge and the tree without the
// stdio hop; cmd/bench measures the whole process.

func benchBridge(b *testing.B) *client.Client {
	b.Helper()
	bin := os.Getenv("METAMCP_BIN")
	if bin == "" {
		b.Skip("METAMCP_BIN not set (make bench sets it)")
	}
	cfg := config.Defaults()
	cfg.TempDirectory = b.TempDir()
	cfg.StateDirectory = b.TempDir()
	cat, err := templates.NewCatalog(nil)
	if err != nil {
		b.Fatal(err)
	}
	sys, err := actors.Start(actors.Options{Config: &cfg, Catalog: cat, Log: zerolog.Nop(), Executable: bin, NoSweep: true})
	if err != nil {
		b.Fatal(err)
	}
	c, err := client.NewInProcessClient(New(sys, "bench", zerolog.Nop()).MCPServer())
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	if err := c.Start(ctx); err != nil {
		b.Fatal(err)
	}
	init := mcp.InitializeRequest{}
	init.Params.ProtocolVersion = mcp.LATEST_PROTOCOL_VERSION
	if _, err := c.Initialize(ctx, init); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		_ = c.Close()
		if err := sys.Shutdown(); err != nil {
			b.Errorf("shutdown: %v", err)
		}
	})
	return c
}

func benchCall(b *testing.B, c *client.Client, tool string, args map[string]any) *mcp.CallToolResult {
	req := mcp.CallToolRequest{}
	req.Params.Name, req.Params.Arguments = tool, args
	res, err := c.CallTool(context.Background(), req)
	if err != nil {
		b.Fatal(err)
	}
	if res.IsError {
		b.Fatalf("%s: %v", tool, res.Content)
	}
	return res
}

// BenchmarkPooledHit: get_or_create_pooled_server when the pool has one,
// through the bridge (target ≤ 0.1 ms).
func BenchmarkPooledHit(b *testing.B) {
	c := benchBridge(b)
	args := map[string]any{"template": templates.BasicCalculator}
	benchCall(b, c, "get_or_create_pooled_server", args)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		benchCall(b, c, "get_or_create_pooled_server", args)
	}
}

// BenchmarkExecuteAdd: execute_on_server add on basic_calculator through
// the bridge, the tree and the child's stdio.
func BenchmarkExecuteAdd(b *testing.B) {
	c := benchBridge(b)
	res := benchCall(b, c, "create_server", map[string]any{"name": "calc", "template": templates.BasicCalculator})
	id := res.StructuredContent.(map[string]any)["server_id"].(string)
	args := map[string]any{"server_id": id, "tool_name": "add", "arguments": map[string]any{"a": 15, "b": 27}}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		benchCall(b, c, "execute_on_server", args)
	}
}

// BenchmarkCreateServer: create_server basic_calculator until ready
// (stop_server after each, not timed).
func BenchmarkCreateServer(b *testing.B) {
	c := benchBridge(b)
	args := map[string]any{"name": "calc", "template": templates.BasicCalculator}
	for b.Loop() {
		res := benchCall(b, c, "create_server", args)
		b.StopTimer()
		benchCall(b, c, "stop_server", map[string]any{"server_id": res.StructuredContent.(map[string]any)["server_id"]})
		b.StartTimer()
	}
}
