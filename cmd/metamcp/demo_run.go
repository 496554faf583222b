package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"
)

// demo drives `metamcp serve` as an AI client would, over stdio, and prints
// each step for a person to read.
type demo struct {
	w   io.Writer
	c   *client.Client
	ctx context.Context
}

func runDemo(ctx context.Context, w io.Writer) error {
	site, stopSite, err := startDemoSite()
	if err != nil {
		return err
	}
	defer stopSite()
	dir, err := os.MkdirTemp("", "metamcp-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	cfgPath := filepath.Join(dir, "meta_mcp_config.json")
	// Its own state directory: the demo's events stay out of the user's
	// session, and a running metamcp does not hold its store.
	cfg := fmt.Sprintf(`{"temp_directory": %q, "state_directory": %q, "log_level": "WARN"}`,
		filepath.Join(dir, "tmp"), filepath.Join(dir, "state"))
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		return err
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	t0 := time.Now()
	c, err := client.NewStdioMCPClient(exe, nil, "serve", "--config", cfgPath)
	if err != nil {
		return fmt.Errorf("starting metamcp serve: %w", err)
	}
	d := &demo{w: w, c: c, ctx: ctx}
	err = d.steps(site, t0)
	if cerr := c.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err == nil {
		d.say("metamcp exited cleanly after its stdin closed. Demo complete.")
	}
	return err
}

func (d *demo) steps(site string, t0 time.Time) error {
	for _, step := range []func(string, time.Time) error{
		d.connect, d.calculator, d.fetchAndAnalyse, d.overview, d.stopAll,
	} {
		if err := step(site, t0); err != nil {
			return err
		}
	}
	return nil
}

func (d *demo) say(format string, a ...any) { fmt.Fprintf(d.w, format+"\n", a...) }

func (d *demo) heading(s string) { d.say("\n== %s", s) }

// call calls a metamcp tool and returns its structured result.
func (d *demo) call(tool string, args map[string]any) (map[string]any, error) {
	req := mcp.CallToolRequest{}
	req.Params.Name, req.Params.Arguments = tool, args
	res, err := d.c.CallTool(d.ctx, req)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", tool, err)
	}
	var out map[string]any
	raw, _ := json.Marshal(res.StructuredContent)
	_ = json.Unmarshal(raw, &out)
	if res.IsError {
		return out, fmt.Errorf("%s failed: %v", tool, out["error"])
	}
	return out, nil
}

// childResult unwraps execute_on_server's result to the child tool's
// structured content.
func (d *demo) exec(id, tool string, args map[string]any) (map[string]any, error) {
	out, err := d.call("execute_on_server", map[string]any{"server_id": id, "tool_name": tool, "arguments": args})
	if err != nil {
		return nil, err
	}
	res, _ := out["result"].(map[string]any)
	sc, _ := res["structuredContent"].(map[string]any)
	return sc, nil
}

func (d *demo) connect(_ string, t0 time.Time) error {
	d.heading("1. Start metamcp serve and connect over stdio")
	init := mcp.InitializeRequest{}
	init.Params.ProtocolVersion = mcp.LATEST_PROTOCOL_VERSION
	init.Params.ClientInfo = mcp.Implementation{Name: "metamcp-demo", Version: version}
	res, err := d.c.Initialize(d.ctx, init)
	if err != nil {
		return fmt.Errorf("initialize: %w", err)
	}
	tools, err := d.c.ListTools(d.ctx, mcp.ListToolsRequest{})
	if err != nil {
		return err
	}
	names := make([]string, 0, len(tools.Tools))
	for _, t := range tools.Tools {
		names = append(names, t.Name)
	}
	d.say("%s %s answered initialize in %s (protocol %s)", res.ServerInfo.Name, res.ServerInfo.Version,
		time.Since(t0).Round(time.Millisecond), res.ProtocolVersion)
	d.say("%d tools: %s", len(names), strings.Join(names, ", "))
	return nil
}

func (d *demo) calculator(string, time.Time) error {
	d.heading("2. Create a calculator server and compute 15 + 27")
	t := time.Now()
	out, err := d.call("create_server", map[string]any{"name": "calculator", "template": "basic_calculator"})
	if err != nil {
		return err
	}
	d.say("create_server → %v %s (pid %v) in %s, tools %v", out["status"], out["server_id"], out["pid"],
		time.Since(t).Round(time.Millisecond), out["tools"])
	sum, err := d.exec(out["server_id"].(string), "add", map[string]any{"a": 15, "b": 27})
	if err != nil {
		return err
	}
	d.say("execute_on_server add(15, 27) → %v", sum["result"])
	if sum["result"] != float64(42) {
		return fmt.Errorf("15 + 27 came back as %v", sum["result"])
	}
	return nil
}
