package actors

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
)

// The test binary doubles as a child MCP server: with METAMCP_FAKE_CHILD set
// it runs one of the behaviours below instead of the tests (the re-exec
// helper-process pattern).
const fakeChildEnv = "METAMCP_FAKE_CHILD"

func runFakeChild(mode string) {
	switch mode {
	case "ok":
		serveFake()
	case "die_at_start":
		fmt.Fprintln(os.Stderr, "fatal: no config found")
		os.Exit(1)
	case "hang_init":
		fmt.Fprintln(os.Stderr, "thinking about it")
		time.Sleep(time.Hour)
	case "once":
		// Works the first time it is started, dies at start afterwards: a
		// server whose restart keeps failing.
		marker := os.Getenv("METAMCP_FAKE_MARKER")
		if _, err := os.Stat(marker); err == nil {
			fmt.Fprintln(os.Stderr, "fatal: corrupted state")
			os.Exit(2)
		}
		_ = os.WriteFile(marker, []byte("started"), 0o600)
		serveFake()
	default:
		fmt.Fprintln(os.Stderr, "unknown fake child mode", mode)
		os.Exit(99)
	}
	os.Exit(0)
}

func serveFake() {
	s := server.NewMCPServer("fake", "1.0", server.WithToolCapabilities(true))
	s.AddTool(mcp.NewTool("echo", mcp.WithString("text")), func(_ context.Context, r mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		return mcp.NewToolResultText(r.GetString("text", "")), nil
	})
	s.AddTool(mcp.NewTool("sleep", mcp.WithNumber("ms")), func(ctx context.Context, r mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		select {
		case <-time.After(time.Duration(r.GetFloat("ms", 0)) * time.Millisecond):
			return mcp.NewToolResultText("slept"), nil
		case <-ctx.Done():
			fmt.Fprintln(os.Stderr, "sleep cancelled by client")
			return nil, ctx.Err()
		}
	})
	s.AddTool(mcp.NewTool("fail"), func(context.Context, mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		return mcp.NewToolResultError("this tool always fails"), nil
	})
	s.AddTool(mcp.NewTool("crash"), func(context.Context, mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		fmt.Fprintln(os.Stderr, "boom: crashing on purpose")
		os.Exit(3)
		return nil, nil
	})
	s.AddTool(mcp.NewTool("exit"), func(context.Context, mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		fmt.Fprintln(os.Stderr, "done: exiting cleanly")
		os.Exit(0)
		return nil, nil
	})
	s.AddTool(mcp.NewTool("pid"), func(context.Context, mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		return mcp.NewToolResultText(strconv.Itoa(os.Getpid())), nil
	})
	_ = server.ServeStdio(s)
}
