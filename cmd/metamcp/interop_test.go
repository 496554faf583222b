//go:build unix

package main

// Interop tests: metamcp against MCP software we did not write — the official
// TypeScript SDK as a client, the reference servers (everything, memory,
// filesystem) as children, and the MCP Inspector CLI. The Node packages are
// pinned in testdata/interop/package-lock.json and installed by
// `make interop-deps`. Without them these tests skip, unless METAMCP_INTEROP=1
// (as `make test` sets), where a missing install is a failure.
//
// Every test ends by closing metamcp's stdin and checking that metamcp exits
// 0 by itself and that each child pid it reported is gone.

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"
)

// interopTools are metamcp's own tools, sorted.
var interopTools = []string{
	"create_server", "execute_on_server", "get_event_history", "get_or_create_pooled_server",
	"get_server_capabilities", "get_supervision_tree", "health_check", "health_check_all", "list_servers",
	"orchestrate_task", "restart_server", "stop_all_servers", "stop_server",
}

const (
	interopTestTimeout = 60 * time.Second // one subtest, all of it
	interopExitTimeout = 15 * time.Second // metamcp exiting after stdin closes
	interopGoneTimeout = 5 * time.Second  // a reported child pid disappearing
)

func TestInterop(t *testing.T) {
	deps := interopDeps(t)
	bin := interopBinary(t)
	t.Run("SDKClient", func(t *testing.T) {
		t.Parallel()
		interopSDKClient(t, bin, deps)
	})
	t.Run("EverythingTemplates", func(t *testing.T) {
		t.Parallel()
		interopEverything(t, bin, deps, "templates")
	})
	t.Run("EverythingMCPServers", func(t *testing.T) {
		t.Parallel()
		interopEverything(t, bin, deps, "mcpServers")
	})
	t.Run("MemoryAndFilesystem", func(t *testing.T) {
		t.Parallel()
		interopMemoryFilesystem(t, bin, deps)
	})
	t.Run("InspectorCLI", func(t *testing.T) {
		t.Parallel()
		interopInspector(t, bin, deps)
	})
	t.Run("RestoreReferenceServers", func(t *testing.T) {
		t.Parallel()
		interopRestore(t, bin, deps)
	})
}

// ---- Reference servers restored after a restart of metamcp ---------------

// interopRestore: Node reference servers the client created (server-memory
// with a knowledge graph on disk, server-everything given an env value)
// come back under the same ids after metamcp restarts, and work.
func interopRestore(t *testing.T, bin, deps string) {
	memFile := filepath.Join(t.TempDir(), "memory.jsonl")
	cfg := interopWriteConfig(t, map[string]any{
		"mcpServers": map[string]any{
			"memory": map[string]any{"command": "node", "args": []string{interopEntry(t, deps, "server-memory")},
				"env": map[string]string{"MEMORY_FILE_PATH": memFile}},
			"everything": map[string]any{"command": "node", "args": []string{interopEntry(t, deps, "server-everything")}},
		},
	})
	run1 := interopStartMetamcp(t, bin, cfg)
	mem := run1.create("memory", "memory")["server_id"].(string)
	entity := interopEntity{Name: "restored", EntityType: "check", Observations: []string{"survives a restart"}}
	run1.exec(mem, "create_entities", map[string]any{"entities": []interopEntity{entity}})
	every := run1.call("create_server", map[string]any{"name": "everything", "template": "everything",
		"config": map[string]any{"env": map[string]string{"INTEROP_TOKEN": "tok-123"}}}, false)
	everyID := every["server_id"].(string)
	if pid, _ := every["pid"].(float64); pid > 0 {
		run1.pids = append(run1.pids, int(pid))
	}
	run1.close()

	run2 := interopStartMetamcp(t, bin, cfg)
	deadline := time.Now().Add(interopTestTimeout)
	for {
		list := run2.call("list_servers", map[string]any{}, false)
		running := 0
		for _, row := range list["servers"].([]any) {
			r := row.(map[string]any)
			if r["status"] == "running" && (r["server_id"] == mem || r["server_id"] == everyID) {
				running++
				if pid, _ := r["pid"].(float64); pid > 0 && !slices.Contains(run2.pids, int(pid)) {
					run2.pids = append(run2.pids, int(pid))
				}
			}
		}
		if running == 2 && len(list["servers"].([]any)) == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the restart: %v", list)
		}
		time.Sleep(50 * time.Millisecond)
	}
	graph := run2.exec(mem, "read_graph", map[string]any{})
	if txt := graph.text() + string(graph.Result.StructuredContent); !strings.Contains(txt, "survives a restart") {
		t.Errorf("read_graph after the restart: %s", txt)
	}
	if echo := run2.exec(everyID, "echo", map[string]any{"message": "back"}); !strings.Contains(echo.text(), "back") {
		t.Errorf("echo after the restart: %q", echo.text())
	}
	// The env value given at create_server (sealed on disk) reached the
	// restored child.
	caps := run2.call("get_server_capabilities", map[string]any{"server_id": everyID}, false)
	var names []string
	for _, tl := range caps["tools"].([]any) {
		names = append(names, tl.(map[string]any)["name"].(string))
	}
	if getEnv := interopPick(names, "get-env|printEnv"); getEnv != "" {
		var childEnv map[string]string
		if err := json.Unmarshal([]byte(run2.exec(everyID, getEnv, map[string]any{}).text()), &childEnv); err != nil ||
			childEnv["INTEROP_TOKEN"] != "tok-123" {
			t.Errorf("%s after the restart: INTEROP_TOKEN %q (%v)", getEnv, childEnv["INTEROP_TOKEN"], err)
		}
	} else {
		t.Errorf("server-everything has no get-env tool: %v", names)
	}
	run2.call("stop_all_servers", map[string]any{}, false)
	run2.close()
}

// ---- The official TypeScript SDK as metamcp's client ---------------------

func interopSDKClient(t *testing.T, bin, deps string) {
	cfg := interopWriteConfig(t, map[string]any{})
	out := interopRunNode(t, deps, []string{"METAMCP_BIN=" + bin, "CONFIG=" + cfg}, filepath.Join(deps, "sdk_client.mjs"))
	var sum struct {
		OK              bool              `json:"ok"`
		ServerInfo      map[string]string `json:"server_info"`
		ProtocolVersion string            `json:"protocol_version"`
		Tools           int               `json:"tools"`
		MetamcpPID      int               `json:"metamcp_pid"`
		ChildPIDs       []int             `json:"child_pids"`
		ExitCode        int               `json:"exit_code"`
		CloseMS         int               `json:"close_ms"`
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &sum); err != nil {
		t.Fatalf("sdk_client.mjs summary is not JSON: %v\n%s", err, out)
	}
	if !sum.OK || sum.Tools != len(interopTools) || sum.ExitCode != 0 || len(sum.ChildPIDs) != 1 {
		t.Fatalf("sdk_client.mjs summary: %s", out)
	}
	t.Logf("TypeScript SDK client: metamcp %s answered protocol %s; exited 0 %d ms after stdin closed",
		sum.ServerInfo["version"], sum.ProtocolVersion, sum.CloseMS)
	interopCheckGone(t, append([]int{sum.MetamcpPID}, sum.ChildPIDs...))
}

// ---- server-everything as a configured template -------------------------

func interopEverything(t *testing.T, bin, deps, shape string) {
	entry := interopEntry(t, deps, "server-everything")
	ev := map[string]any{"command": "node", "args": []string{entry, "stdio"},
		"env": map[string]string{"INTEROP_MARK": "from-" + shape}}
	file := map[string]any{}
	switch shape {
	case "templates":
		ev["description"] = "MCP reference server with every feature"
		ev["capabilities"] = []string{"mcp_reference"}
		file["templates"] = map[string]any{"everything": ev}
	case "mcpServers":
		// As Claude Desktop writes it: an extra "type" key, and metamcp
		// itself listed, which metamcp must skip rather than offer.
		ev["type"] = "stdio"
		file["mcpServers"] = map[string]any{
			"everything": ev,
			"metamcp":    map[string]any{"command": "/usr/local/bin/metamcp", "args": []string{"serve"}},
		}
	}
	m := interopStartMetamcp(t, bin, interopWriteConfig(t, file), "INTEROP_SECRET=not-for-children")

	if shape == "mcpServers" {
		r := m.call("create_server", map[string]any{"name": "self", "template": "metamcp"}, true)
		t.Logf("create_server of the skipped self entry: %v", r["error"])
	}
	created := m.create("everything", "everything")
	id := created["server_id"].(string)

	// The same server, started directly with mcp-go's stdio client.
	direct := interopDirect(t, "node", entry, "stdio")

	caps := m.call("get_server_capabilities", map[string]any{"server_id": id}, false)
	t.Logf("server-everything %v answered metamcp's initialize with protocol %v; direct (mcp-go client): %s",
		caps["server_info"], caps["protocol_version"], direct.protocol)
	metaNames := interopCheckSchemas(t, m.lastRaw, direct)

	// echo
	echo := m.exec(id, "echo", map[string]any{"message": "hi"})
	if txt := echo.text(); !strings.Contains(txt, "hi") {
		t.Errorf("echo: text %q lacks the message", txt)
	}
	// The child's environment: the template's env, and not metamcp's own.
	if getEnv := interopPick(metaNames, "get-env|printEnv"); getEnv != "" {
		var childEnv map[string]string
		if err := json.Unmarshal([]byte(m.exec(id, getEnv, map[string]any{}).text()), &childEnv); err != nil {
			t.Errorf("%s: %v", getEnv, err)
		}
		if childEnv["INTEROP_MARK"] != "from-"+shape {
			t.Errorf("%s: the template's env INTEROP_MARK did not reach the child: %q", getEnv, childEnv["INTEROP_MARK"])
		}
		if v, ok := childEnv["INTEROP_SECRET"]; ok {
			t.Errorf("%s: metamcp's own environment leaked to the child: INTEROP_SECRET=%q", getEnv, v)
		}
	}
	// get-sum (called add before 2025.x)
	sumTool := interopPick(metaNames, "get-sum|add")
	if sumTool == "" {
		t.Fatalf("server-everything has no get-sum or add tool: %v", metaNames)
	}
	sum := m.exec(id, sumTool, map[string]any{"a": 2, "b": 3})
	if txt := sum.text(); !strings.Contains(txt, "5") {
		t.Errorf("%s 2+3: text %q lacks 5", sumTool, txt)
	}
	// The tiny image: an image content item, intact, as a direct call gives it.
	imgTool := interopPick(metaNames, "get-tiny-image|getTinyImage")
	img := m.exec(id, imgTool, map[string]any{})
	got := img.image(t)
	want := direct.image(t, imgTool)
	if got.MimeType != "image/png" || got.Data == "" {
		t.Errorf("%s via metamcp: image item %+v, want mimeType image/png with data", imgTool, got)
	}
	if got.Data != want.Data || got.MimeType != want.MIMEType {
		t.Errorf("%s: image via metamcp (%s, %d bytes of base64) differs from the direct call (%s, %d)",
			imgTool, got.MimeType, len(got.Data), want.MIMEType, len(want.Data))
	}
	if png, err := base64.StdEncoding.DecodeString(got.Data); err != nil || !bytes.HasPrefix(png, []byte("\x89PNG\r\n\x1a\n")) {
		t.Errorf("%s: data is not a base64 PNG (err %v)", imgTool, err)
	}

	// health_check pings the child through metamcp's own client session.
	h := m.call("health_check", map[string]any{"server_id": id}, false)
	if h["healthy"] != true || h["ping_ms"] == nil {
		t.Errorf("health_check of server-everything: %v", h)
	}

	// A client's cancellation reaches the call: a 10 s operation of
	// server-everything, cancelled after 300 ms, leaves nothing in flight.
	if long := interopPick(metaNames, "trigger-long-running-operation|longRunningOperation"); long != "" && shape == "templates" {
		ctx, cancel := context.WithTimeout(m.ctx, 300*time.Millisecond)
		req := mcp.CallToolRequest{}
		req.Params.Name = "execute_on_server"
		req.Params.Arguments = map[string]any{"server_id": id, "tool_name": long, "arguments": map[string]any{"duration": 10, "steps": 10}}
		t0 := time.Now()
		_, err := m.c.CallTool(ctx, req)
		cancel()
		if err == nil {
			t.Errorf("%s: finished despite the cancellation", long)
		}
		for {
			h := m.call("health_check", map[string]any{"server_id": id}, false)
			if h["in_flight"] == float64(0) {
				t.Logf("%s cancelled by the client: nothing in flight after %v", long, time.Since(t0).Round(time.Millisecond))
				break
			}
			if time.Since(t0) > 5*time.Second {
				t.Errorf("%s: still in flight %v after the client cancelled it: %v", long, time.Since(t0), h)
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
	}

	interopCheckPool(t, m, shape)

	direct.close(t)
	stopped := m.call("stop_all_servers", map[string]any{}, false)
	if stopped["total_stopped"] != float64(2) || stopped["total_errors"] != float64(0) {
		t.Errorf("stop_all_servers: %v", stopped)
	}
	m.close()
}

// interopCheckSchemas compares the tools metamcp's get_server_capabilities
// gave (capsRaw) with the direct listing: every input schema must pass
// through token for token (key order, every key, every value), including
// keys mcp-go's mcp.Tool would drop. It returns the tool names via metamcp.
func interopCheckSchemas(t *testing.T, capsRaw json.RawMessage, direct *interopDirectServer) []string {
	t.Helper()
	var viaMeta struct {
		Tools []json.RawMessage `json:"tools"`
	}
	if err := json.Unmarshal(capsRaw, &viaMeta); err != nil {
		t.Fatalf("get_server_capabilities: %v", err)
	}
	metaSchemas, metaTools := map[string]json.RawMessage{}, map[string]map[string]json.RawMessage{}
	var metaNames []string
	for _, raw := range viaMeta.Tools {
		var tl map[string]json.RawMessage
		var name string
		if err := json.Unmarshal(raw, &tl); err != nil || json.Unmarshal(tl["name"], &name) != nil {
			t.Fatalf("get_server_capabilities: tool %s: %v", raw, err)
		}
		metaSchemas[name], metaTools[name] = tl["inputSchema"], tl
		metaNames = append(metaNames, name)
	}
	directTools := direct.rawTools(t)
	var directNames []string
	for name := range directTools {
		directNames = append(directNames, name)
	}
	sort.Strings(metaNames)
	sort.Strings(directNames)
	if !slices.Equal(metaNames, directNames) {
		// Some tools of server-everything depend on the client's
		// capabilities; the difference is reported, not failed.
		t.Logf("tool lists differ: via metamcp %v, direct %v", metaNames, directNames)
	}

	compared, dropped, notPassed := 0, map[string]bool{}, map[string]bool{}
	for name, raw := range directTools {
		mine, ok := metaSchemas[name]
		if !ok {
			continue
		}
		var full struct {
			InputSchema json.RawMessage `json:"inputSchema"`
		}
		if err := json.Unmarshal(raw, &full); err != nil {
			t.Fatalf("direct tools/list: %s: %v", name, err)
		}
		if !interopSameJSON(t, full.InputSchema, mine) {
			t.Errorf("tool %s: inputSchema changed on the way through metamcp:\n direct:  %s\n metamcp: %s", name, full.InputSchema, mine)
		}
		for _, k := range interopDroppedKeys(t, raw) {
			dropped[k] = true
		}
		var directTool map[string]json.RawMessage
		_ = json.Unmarshal(raw, &directTool)
		for k := range directTool {
			if _, ok := metaTools[name][k]; !ok {
				notPassed[k] = true
			}
		}
		compared++
	}
	for _, must := range []string{"echo", "get-tiny-image|getTinyImage"} {
		if interopPick(metaNames, must) == "" {
			t.Errorf("server-everything through metamcp lacks a %s tool; has %v", must, metaNames)
		}
	}
	if compared == 0 {
		t.Fatalf("no tool in common between metamcp's listing %v and the direct one %v", metaNames, directNames)
	}
	if len(dropped) == 0 {
		t.Errorf("no inputSchema key that mcp.Tool drops was seen; the pass-through check proves less than it should")
	}
	t.Logf("%d input schemas identical through metamcp, including keys mcp.Tool drops: %v", compared, slices.Sorted(maps.Keys(dropped)))
	if len(notPassed) > 0 {
		// Not a failure: get_server_capabilities promises names,
		// descriptions and input schemas.
		t.Logf("tool keys server-everything declares that get_server_capabilities does not pass on: %v", slices.Sorted(maps.Keys(notPassed)))
	}

	return metaNames
}

// interopCheckPool gets a pooled server of the configured template twice —
// through orchestrate_task and its capability for the "templates" shape,
// through get_or_create_pooled_server for "mcpServers" — and checks that the
// second is the first, reused. It records the pooled server's pid.
func interopCheckPool(t *testing.T, m *interopMeta, shape string) {
	t.Helper()
	var pooled string
	switch shape {
	case "templates":
		for i, wantReused := range []bool{false, true} {
			o := m.call("orchestrate_task", map[string]any{"task_description": "check the reference server",
				"required_capabilities": []string{"mcp_reference"}}, false)
			sp := interopSlice(o["spawned_servers"])
			if o["status"] != "servers_ready" || len(sp) != 1 {
				t.Fatalf("orchestrate_task #%d: %v", i+1, o)
			}
			s := sp[0].(map[string]any)
			if s["template"] != "everything" || s["reused"] != wantReused || (pooled != "" && s["server_id"] != pooled) {
				t.Errorf("orchestrate_task #%d: spawned %v, want template everything, reused %v", i+1, s, wantReused)
			}
			pooled = s["server_id"].(string)
		}
	case "mcpServers":
		for i, wantReused := range []bool{false, true} {
			p := m.call("get_or_create_pooled_server", map[string]any{"template": "everything"}, false)
			if p["reused"] != wantReused || (pooled != "" && p["server_id"] != pooled) {
				t.Errorf("get_or_create_pooled_server #%d: %v, want reused %v", i+1, p, wantReused)
			}
			pooled = p["server_id"].(string)
		}
	}
	list := m.call("list_servers", map[string]any{}, false)
	if list["total"] != float64(2) {
		t.Errorf("list_servers: total %v, want 2 (created + pooled)", list["total"])
	}
	for _, s := range interopSlice(list["servers"]) {
		s := s.(map[string]any)
		if s["server_id"] == pooled {
			m.pids = append(m.pids, int(s["pid"].(float64)))
			if s["pooled"] != true {
				t.Errorf("list_servers: pooled server %s not marked pooled: %v", pooled, s)
			}
		}
	}
	if len(m.pids) != 2 {
		t.Errorf("list_servers lacks the pooled server %s: %v", pooled, list)
	}

}

// ---- server-memory and server-filesystem --------------------------------

func interopMemoryFilesystem(t *testing.T, bin, deps string) {
	memFile := filepath.Join(t.TempDir(), "memory.jsonl")
	allowed := t.TempDir()
	m := interopStartMetamcp(t, bin, interopWriteConfig(t, map[string]any{
		"mcpServers": map[string]any{
			"memory": map[string]any{"command": "node", "args": []string{interopEntry(t, deps, "server-memory")},
				"env": map[string]string{"MEMORY_FILE_PATH": memFile}},
			"filesystem": map[string]any{"command": "node", "args": []string{interopEntry(t, deps, "server-filesystem"), allowed}},
		},
	}))

	// memory: create_entities, then read_graph returns them.
	mem := m.create("memory", "memory")["server_id"].(string)
	entities := []interopEntity{
		{Name: "metamcp", EntityType: "project", Observations: []string{"supervises MCP servers"}},
		{Name: "server-memory", EntityType: "reference_server", Observations: []string{"keeps a knowledge graph"}},
	}
	m.exec(mem, "create_entities", map[string]any{"entities": entities})
	graph := m.exec(mem, "read_graph", map[string]any{})
	var g struct {
		Entities []interopEntity `json:"entities"`
	}
	body := graph.Result.StructuredContent
	if len(body) == 0 {
		body = json.RawMessage(graph.text())
	}
	if err := json.Unmarshal(body, &g); err != nil {
		t.Fatalf("read_graph: %v: %s", err, body)
	}
	for _, want := range entities {
		i := slices.IndexFunc(g.Entities, func(e interopEntity) bool { return e.Name == want.Name })
		if i < 0 || g.Entities[i].EntityType != want.EntityType || !slices.Equal(g.Entities[i].Observations, want.Observations) {
			t.Errorf("read_graph lacks entity %v: %s", want, body)
		}
	}
	if b, err := os.ReadFile(memFile); err != nil || !strings.Contains(string(b), "supervises MCP servers") {
		t.Errorf("the template's env MEMORY_FILE_PATH did not reach server-memory: %v %q", err, b)
	}

	// filesystem: write_file, then read it back.
	fsID := m.create("files", "filesystem")
	tools := interopStrings(fsID["tools"])
	read := interopPick(tools, "read_text_file|read_file")
	if read == "" || !slices.Contains(tools, "write_file") {
		t.Fatalf("server-filesystem lacks write_file or read_text_file/read_file: %v", tools)
	}
	path := filepath.Join(allowed, "greeting.txt")
	content := "hello from metamcp\nsecond line ✓\n"
	m.exec(fsID["server_id"].(string), "write_file", map[string]any{"path": path, "content": content})
	if b, err := os.ReadFile(path); err != nil || string(b) != content {
		t.Errorf("write_file: file holds %q (%v), want %q", b, err, content)
	}
	back := m.exec(fsID["server_id"].(string), read, map[string]any{"path": path})
	if back.text() != content {
		t.Errorf("%s: got %q, want %q", read, back.text(), content)
	}
	// Outside the allowed directory: the server's own refusal comes back as
	// a tool error, not a metamcp failure.
	outside := m.call("execute_on_server", map[string]any{"server_id": fsID["server_id"], "tool_name": read,
		"arguments": map[string]any{"path": "/etc/hostname"}}, true)
	if outside["status"] != "tool_error" {
		t.Errorf("%s outside the allowed dir: status %v, want tool_error", read, outside["status"])
	}

	m.call("stop_all_servers", map[string]any{}, false)
	m.close()
}

// interopEntity is an entity of server-memory's knowledge graph.
type interopEntity struct {
	Name         string   `json:"name"`
	EntityType   string   `json:"entityType"`
	Observations []string `json:"observations"`
}

// ---- The MCP Inspector CLI as metamcp's client --------------------------

func interopInspector(t *testing.T, bin, deps string) {
	inspector := filepath.Join(deps, "node_modules", ".bin", "mcp-inspector")
	if _, err := os.Stat(inspector); err != nil {
		t.Skipf("the MCP Inspector is not installed (%v)", err)
	}
	cfg := interopWriteConfig(t, map[string]any{})
	env := []string{"MCP_CATALOG_PATH=" + filepath.Join(t.TempDir(), "catalog.json")}
	// The Inspector takes --config for itself, so the server command goes
	// after "--". It is run through sh so that metamcp's own exit status is
	// recorded: the Inspector closes stdin and only signals after 2 s.
	run := func(args ...string) (map[string]any, string) {
		status := filepath.Join(t.TempDir(), "status")
		cmd := append([]string{inspector, "--cli"}, args...)
		cmd = append(cmd, "--", "/bin/sh", "-c", `"$0" serve --config "$1"; echo $? >"$2"`, bin, cfg, status)
		out := interopRunNode(t, deps, env, cmd...)
		var v map[string]any
		if err := json.Unmarshal(out, &v); err != nil {
			t.Fatalf("inspector %v: output is not JSON: %v\n%s", args, err, out)
		}
		b, err := os.ReadFile(status)
		if err != nil || strings.TrimSpace(string(b)) != "0" {
			t.Errorf("inspector %v: metamcp exit status %q (%v), want 0 without a signal", args, b, err)
		}
		return v, string(out)
	}

	list, out := run("--method", "tools/list")
	var names []string
	for _, tl := range interopSlice(list["tools"]) {
		names = append(names, tl.(map[string]any)["name"].(string))
	}
	sort.Strings(names)
	if !slices.Equal(names, interopTools) {
		t.Errorf("inspector tools/list: got %v, want %v", names, interopTools)
	}
	if !strings.Contains(out, `"inputSchema"`) {
		t.Errorf("inspector tools/list: no inputSchema in %s", out)
	}

	res, out := run("--method", "tools/call", "--tool-name", "list_servers")
	sc, _ := res["structuredContent"].(map[string]any)
	if sc == nil || sc["total"] != float64(0) || res["isError"] == true {
		t.Errorf("inspector list_servers: %s", out)
	}

	res, out = run("--method", "tools/call", "--tool-name", "create_server", "--tool-arg", "name=calc", "template=basic_calculator")
	sc, _ = res["structuredContent"].(map[string]any)
	if sc == nil || sc["status"] != "created and running" {
		t.Fatalf("inspector create_server: %s", out)
	}
	interopCheckGone(t, []int{int(sc["pid"].(float64))})
}

// ---- metamcp driven by mcp-go's client ----------------------------------

// interopMeta is one `metamcp serve` process and an mcp-go client on its
// stdio. It owns the process: close stops it by closing stdin only.
type interopMeta struct {
	t       *testing.T
	ctx     context.Context
	cmd     *exec.Cmd
	c       *client.Client
	stdout  *os.File // our end of metamcp's stdout
	stderr  *interopBuffer
	waited  chan error
	pids    []int           // every child pid metamcp reported
	lastRaw json.RawMessage // structuredContent of the last call
	closed  bool
}

// interopStartMetamcp starts `metamcp serve --config cfg` with env added to
// this process's environment, and initializes an mcp-go client with it.
func interopStartMetamcp(t *testing.T, bin, cfg string, env ...string) *interopMeta {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), interopTestTimeout)
	t.Cleanup(cancel)
	inR, inW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	m := &interopMeta{t: t, ctx: ctx, stdout: outR, stderr: &interopBuffer{}, waited: make(chan error, 1)}
	m.cmd = exec.Command(bin, "serve", "--config", cfg)
	m.cmd.Env = append(os.Environ(), env...)
	m.cmd.Stdin, m.cmd.Stdout, m.cmd.Stderr = inR, outW, m.stderr
	if err := m.cmd.Start(); err != nil {
		t.Fatalf("starting metamcp: %v", err)
	}
	inR.Close()
	outW.Close()
	go func() { m.waited <- m.cmd.Wait() }()
	t.Cleanup(m.cleanup)

	m.c = client.NewClient(transport.NewIO(outR, inW, nil))
	if err := m.c.Start(ctx); err != nil {
		t.Fatalf("mcp-go client start: %v", err)
	}
	init := mcp.InitializeRequest{}
	init.Params.ClientInfo = mcp.Implementation{Name: "metamcp-interop-go", Version: "1.0.0"}
	res, err := m.c.Initialize(ctx, init)
	if err != nil {
		t.Fatalf("initialize: %v\n%s", err, m.stderr)
	}
	if res.ServerInfo.Name != "metamcp" {
		t.Errorf("initialize: serverInfo.name %q, want metamcp", res.ServerInfo.Name)
	}
	t.Logf("mcp-go client: metamcp answered protocol %s", res.ProtocolVersion)
	return m
}

// call runs one of metamcp's tools, checks that its text content is the
// same JSON as its structuredContent and that isError is wantErr, and
// returns structuredContent.
func (m *interopMeta) call(tool string, args map[string]any, wantErr bool) map[string]any {
	t := m.t
	t.Helper()
	req := mcp.CallToolRequest{}
	req.Params.Name, req.Params.Arguments = tool, args
	res, err := m.c.CallTool(m.ctx, req)
	if err != nil {
		t.Fatalf("%s: %v\n%s", tool, err, m.stderr)
	}
	if len(res.Content) != 1 {
		t.Fatalf("%s: %d content items, want 1", tool, len(res.Content))
	}
	text, ok := res.Content[0].(mcp.TextContent)
	if !ok {
		t.Fatalf("%s: content item is %T, want text", tool, res.Content[0])
	}
	if len(res.RawStructuredContent) == 0 {
		t.Fatalf("%s: no structuredContent; text %s", tool, text.Text)
	}
	if !interopSameJSON(t, []byte(text.Text), res.RawStructuredContent) {
		t.Errorf("%s: text content differs from structuredContent:\n text: %s\n structured: %s", tool, text.Text, res.RawStructuredContent)
	}
	var body map[string]any
	if err := json.Unmarshal(res.RawStructuredContent, &body); err != nil {
		t.Fatalf("%s: structuredContent: %v", tool, err)
	}
	if res.IsError != wantErr {
		t.Fatalf("%s(%v): isError %v, want %v: %s", tool, args, res.IsError, wantErr, text.Text)
	}
	m.lastRaw = res.RawStructuredContent
	return body
}

// create runs create_server for a template and records the child's pid.
func (m *interopMeta) create(name, template string) map[string]any {
	m.t.Helper()
	r := m.call("create_server", map[string]any{"name": name, "template": template}, false)
	if r["status"] != "created and running" {
		m.t.Fatalf("create_server %s: %v", template, r)
	}
	pid, _ := r["pid"].(float64)
	if pid <= 0 {
		m.t.Fatalf("create_server %s: no pid: %v", template, r)
	}
	m.pids = append(m.pids, int(pid))
	return r
}

// interopExecuted is execute_on_server's structuredContent.
type interopExecuted struct {
	Status string `json:"status"`
	Result struct {
		Content []struct {
			Type     string `json:"type"`
			Text     string `json:"text"`
			Data     string `json:"data"`
			MimeType string `json:"mimeType"`
		} `json:"content"`
		StructuredContent json.RawMessage `json:"structuredContent"`
		IsError           bool            `json:"isError"`
	} `json:"result"`
}

// exec calls a child's tool through execute_on_server and expects success.
func (m *interopMeta) exec(id, tool string, args map[string]any) *interopExecuted {
	m.t.Helper()
	m.call("execute_on_server", map[string]any{"server_id": id, "tool_name": tool, "arguments": args}, false)
	var e interopExecuted
	if err := json.Unmarshal(m.lastRaw, &e); err != nil || e.Status != "success" {
		m.t.Fatalf("execute_on_server %s: %v: %s", tool, err, m.lastRaw)
	}
	return &e
}

// text is the text of the result's text items, joined.
func (e *interopExecuted) text() string {
	var parts []string
	for _, c := range e.Result.Content {
		if c.Type == "text" {
			parts = append(parts, c.Text)
		}
	}
	return strings.Join(parts, "\n")
}

type interopImage struct{ Data, MimeType string }

// image is the result's first image item.
func (e *interopExecuted) image(t *testing.T) interopImage {
	t.Helper()
	for _, c := range e.Result.Content {
		if c.Type == "image" {
			return interopImage{c.Data, c.MimeType}
		}
	}
	t.Fatalf("no image content item in %+v", e.Result.Content)
	return interopImage{}
}

// close closes metamcp's stdin and checks that metamcp exits 0 on its own
// and that every child pid it reported is gone.
func (m *interopMeta) close() {
	t := m.t
	t.Helper()
	m.closed = true
	_ = m.c.Close() // closes metamcp's stdin, and nothing else
	select {
	case err := <-m.waited:
		if err != nil {
			t.Errorf("metamcp exited with %v after stdin closed, want 0\n%s", err, m.stderr)
		}
	case <-time.After(interopExitTimeout):
		t.Errorf("metamcp still running %v after stdin closed\n%s", interopExitTimeout, m.stderr)
		_ = m.cmd.Process.Kill()
		<-m.waited
	}
	m.stdout.Close()
	interopCheckGone(t, m.pids)
}

// cleanup runs when a test failed before close: it kills what is left.
func (m *interopMeta) cleanup() {
	if m.closed {
		return
	}
	_ = m.cmd.Process.Kill()
	<-m.waited
	m.stdout.Close()
	for _, pid := range m.pids {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	if m.t.Failed() {
		m.t.Logf("metamcp stderr:\n%s", m.stderr)
	}
}

// ---- A reference server driven directly by mcp-go's stdio client ----------

type interopDirectServer struct {
	c        *client.Client
	ctx      context.Context
	protocol string
	stderr   *interopBuffer
}

func interopDirect(t *testing.T, command string, args ...string) *interopDirectServer {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), interopTestTimeout)
	t.Cleanup(cancel)
	d := &interopDirectServer{ctx: ctx, stderr: &interopBuffer{}}
	c, err := client.NewStdioMCPClientWithOptions(command, nil, args, transport.WithCommandStderrWriter(d.stderr))
	if err != nil {
		t.Fatalf("starting %s %v: %v", command, args, err)
	}
	d.c = c
	t.Cleanup(func() { _ = c.Close() })
	init := mcp.InitializeRequest{}
	init.Params.ClientInfo = mcp.Implementation{Name: "metamcp-interop-direct", Version: "1.0.0"}
	res, err := c.Initialize(ctx, init)
	if err != nil {
		t.Fatalf("direct initialize: %v\n%s", err, d.stderr)
	}
	d.protocol = res.ProtocolVersion
	return d
}

// rawTools lists the server's tools as raw JSON objects, keyed by name,
// exactly as the server sent them (mcp.Tool would drop unknown keys).
func (d *interopDirectServer) rawTools(t *testing.T) map[string]json.RawMessage {
	t.Helper()
	out := map[string]json.RawMessage{}
	cursor := ""
	for page := 0; page < 100; page++ {
		var params any
		if cursor != "" {
			params = map[string]any{"cursor": cursor}
		}
		resp, err := d.c.GetTransport().SendRequest(d.ctx, transport.JSONRPCRequest{
			JSONRPC: mcp.JSONRPC_VERSION, ID: mcp.NewRequestId(int64(1_000_000 + page)), Method: "tools/list", Params: params,
		})
		if err != nil {
			t.Fatalf("direct tools/list: %v\n%s", err, d.stderr)
		}
		if resp.Error != nil {
			t.Fatalf("direct tools/list: %d %s", resp.Error.Code, resp.Error.Message)
		}
		var p struct {
			Tools      []json.RawMessage `json:"tools"`
			NextCursor string            `json:"nextCursor"`
		}
		if err := json.Unmarshal(resp.Result, &p); err != nil {
			t.Fatalf("direct tools/list: %v", err)
		}
		for _, raw := range p.Tools {
			var n struct {
				Name string `json:"name"`
			}
			_ = json.Unmarshal(raw, &n)
			out[n.Name] = raw
		}
		if cursor = p.NextCursor; cursor == "" {
			return out
		}
	}
	t.Fatal("direct tools/list: more than 100 pages")
	return nil
}

func (d *interopDirectServer) image(t *testing.T, tool string) mcp.ImageContent {
	t.Helper()
	req := mcp.CallToolRequest{}
	req.Params.Name, req.Params.Arguments = tool, map[string]any{}
	res, err := d.c.CallTool(d.ctx, req)
	if err != nil {
		t.Fatalf("direct %s: %v", tool, err)
	}
	for _, c := range res.Content {
		if img, ok := c.(mcp.ImageContent); ok {
			return img
		}
	}
	t.Fatalf("direct %s: no image content in %+v", tool, res.Content)
	return mcp.ImageContent{}
}

func (d *interopDirectServer) close(t *testing.T) {
	t.Helper()
	if err := d.c.Close(); err != nil {
		t.Errorf("closing the direct server: %v", err)
	}
}

// ---- Helpers --------------------------------------------------------------

// interopDeps returns testdata/interop, with its node_modules installed.
func interopDeps(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", "..", "testdata", "interop"))
	if err != nil {
		t.Fatal(err)
	}
	missing := ""
	if _, err := exec.LookPath("node"); err != nil {
		missing = "node is not on PATH"
	} else if _, err := os.Stat(filepath.Join(dir, "node_modules", ".installed")); err != nil {
		missing = "testdata/interop/node_modules is missing or incomplete: run make interop-deps"
	}
	if missing != "" {
		if os.Getenv("METAMCP_INTEROP") == "1" {
			t.Fatal(missing + " (METAMCP_INTEROP=1)")
		}
		t.Skip(missing)
	}
	return dir
}

// interopBinary returns $METAMCP_BIN, or builds metamcp into a temp dir.
func interopBinary(t *testing.T) string {
	t.Helper()
	if bin := os.Getenv("METAMCP_BIN"); bin != "" {
		abs, err := filepath.Abs(bin)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(abs); err != nil {
			t.Fatalf("METAMCP_BIN: %v", err)
		}
		return abs
	}
	bin := filepath.Join(t.TempDir(), "metamcp")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// interopEntry is the stdio entry script of a reference server package.
func interopEntry(t *testing.T, deps, pkg string) string {
	t.Helper()
	p := filepath.Join(deps, "node_modules", "@modelcontextprotocol", pkg, "dist", "index.js")
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("%s entry script: %v", pkg, err)
	}
	return p
}

// interopWriteConfig writes a metamcp config file with the test's own
// temp_directory and state_directory and a generous start timeout for Node
// children.
func interopWriteConfig(t *testing.T, v map[string]any) string {
	t.Helper()
	dir := t.TempDir()
	v["temp_directory"] = filepath.Join(dir, "tmp")
	v["state_directory"] = filepath.Join(dir, "state")
	v["start_timeout_seconds"] = 30
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "meta_mcp_config.json")
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// interopRunNode runs node with args in dir, bounded by interopTestTimeout,
// and returns its stdout. Its stderr is logged when it fails.
func interopRunNode(t *testing.T, dir string, env []string, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), interopTestTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	t0 := time.Now()
	if err := cmd.Run(); err != nil {
		t.Fatalf("node %s: %v after %v\n--- stdout ---\n%s\n--- stderr ---\n%s",
			strings.Join(args, " "), err, time.Since(t0).Round(time.Millisecond), stdout.Bytes(), stderr.Bytes())
	}
	return stdout.Bytes()
}

// interopCheckGone waits until no process has any of these pids (a zombie
// counts as gone: it has exited and only awaits its reaper).
func interopCheckGone(t *testing.T, pids []int) {
	t.Helper()
	deadline := time.Now().Add(interopGoneTimeout)
	for _, pid := range pids {
		for {
			alive, state := interopAlive(pid)
			if !alive {
				break
			}
			if time.Now().After(deadline) {
				t.Errorf("process %d still running (state %s) %v after metamcp exited", pid, state, interopGoneTimeout)
				_ = syscall.Kill(pid, syscall.SIGKILL)
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

func interopAlive(pid int) (bool, string) {
	if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
		return false, "gone"
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true, "unknown" // no /proc (macOS): trust kill(2)
	}
	// pid (comm) STATE ...; comm may hold spaces and parentheses.
	s := string(b)
	if i := strings.LastIndexByte(s, ')'); i >= 0 && i+2 < len(s) {
		st := s[i+2 : i+3]
		return st != "Z" && st != "X", st
	}
	return true, "?"
}

// interopSameJSON reports whether a and b are the same JSON document token
// for token: same keys in the same order, same values (numbers compared as
// written), whatever the whitespace and string escaping.
func interopSameJSON(t *testing.T, a, b []byte) bool {
	t.Helper()
	ta, err := interopTokens(a)
	if err != nil {
		t.Errorf("bad JSON %s: %v", a, err)
		return false
	}
	tb, err := interopTokens(b)
	if err != nil {
		t.Errorf("bad JSON %s: %v", b, err)
		return false
	}
	return reflect.DeepEqual(ta, tb)
}

func interopTokens(b []byte) ([]json.Token, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var out []json.Token
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		out = append(out, tok)
	}
}

// interopDroppedKeys lists the keys of a tool's inputSchema (top level)
// that mcp-go's mcp.Tool loses in a decode/encode round trip.
func interopDroppedKeys(t *testing.T, rawTool []byte) []string {
	t.Helper()
	var tool mcp.Tool
	if err := json.Unmarshal(rawTool, &tool); err != nil {
		t.Fatalf("mcp.Tool: %v", err)
	}
	again, err := json.Marshal(tool.InputSchema)
	if err != nil {
		t.Fatal(err)
	}
	var full struct {
		InputSchema map[string]any `json:"inputSchema"`
	}
	var kept map[string]any
	if err := json.Unmarshal(rawTool, &full); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(again, &kept); err != nil {
		t.Fatal(err)
	}
	var dropped []string
	for k := range full.InputSchema {
		if _, ok := kept[k]; !ok {
			dropped = append(dropped, k)
		}
	}
	return dropped
}

// interopPick returns the first of the |-separated names that is in names.
func interopPick(names []string, choices string) string {
	for _, c := range strings.Split(choices, "|") {
		if slices.Contains(names, c) {
			return c
		}
	}
	return ""
}

func interopSlice(v any) []any {
	s, _ := v.([]any)
	return s
}

func interopStrings(v any) []string {
	var out []string
	for _, x := range interopSlice(v) {
		out = append(out, fmt.Sprint(x))
	}
	return out
}

// interopBuffer is a bytes.Buffer safe for a writer goroutine and readers.
type interopBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *interopBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *interopBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
