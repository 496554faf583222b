//go:build linux

package main

// Gateway mode end to end: the children's tools listed and called through
// the real binary's session. See gateway_faults_e2e_test.go for crashes and
// cancellation, gateway_interop_test.go for the official SDK and reference
// server.

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client/transport"
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

// rawRequest sends one request with the caller's id and returns the raw
// response (result bytes as metamcp wrote them), bounded by ctx.
func rawRequest(ctx context.Context, s *mcpServe, id, method string, params any) (*transport.JSONRPCResponse, error) {
	return s.c.GetTransport().SendRequest(ctx, transport.JSONRPCRequest{
		JSONRPC: mcp.JSONRPC_VERSION, ID: mcp.NewRequestId(id), Method: method, Params: params,
	})
}

// mustRaw is rawRequest that must get a result, within 10 s.
func mustRaw(t *testing.T, s *mcpServe, id, method string, params any) json.RawMessage {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := rawRequest(ctx, s, id, method, params)
	if err != nil {
		t.Fatalf("%s %s: %v", method, jsonText(params), err)
	}
	if resp.Error != nil {
		t.Fatalf("%s %s: JSON-RPC error %d %s", method, jsonText(params), resp.Error.Code, resp.Error.Message)
	}
	return resp.Result
}

// rawTool is one tool of a raw tools/list result as metamcp wrote it, by
// name, nil if absent.
func rawTool(t *testing.T, list json.RawMessage, name string) json.RawMessage {
	t.Helper()
	var res struct {
		Tools []json.RawMessage `json:"tools"`
	}
	if err := json.Unmarshal(list, &res); err != nil {
		t.Fatalf("tools/list: %v: %s", err, list)
	}
	for _, tl := range res.Tools {
		var n struct {
			Name string `json:"name"`
		}
		if json.Unmarshal(tl, &n) == nil && n.Name == name {
			return tl
		}
	}
	return nil
}

// withoutName is a tool definition without its name, as JSON with the
// keys in the order given.
func withoutName(t *testing.T, raw json.RawMessage) []byte {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("tool definition is not an object: %s", raw)
	}
	out := []byte{'{'}
	for dec.More() {
		k, _ := dec.Token()
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			t.Fatalf("tool definition %s: %v", raw, err)
		}
		if k == "name" {
			continue
		}
		if len(out) > 1 {
			out = append(out, ',')
		}
		kb, _ := json.Marshal(k)
		out = append(append(append(out, kb...), ':'), v...)
	}
	return append(out, '}')
}

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

	// The definition is the child's own, token for token, but for the
	// name: the same child run directly says what that is.
	child := interopDirect(t, metamcpBin, "template", "run", "basic_calculator")
	own := child.rawTools(t)["add"]
	listed := rawTool(t, mustRaw(t, s, "gw-list", "tools/list", nil), "calc__add")
	if own == nil || listed == nil {
		t.Fatalf("add: the child lists %s, metamcp %s", own, listed)
	}
	if mine, theirs := withoutName(t, listed), withoutName(t, own); !interopSameJSON(t, mine, theirs) {
		t.Errorf("calc__add's definition differs from the child's add (but for the name):\n metamcp: %s\n child:   %s", mine, theirs)
	}

	direct, isErr, _ := call(t, s, "calc__add", map[string]any{"a": 2, "b": 3})
	if isErr || jnum(t, direct, "result") != 5 {
		t.Fatalf("calc__add(2, 3) = %v (isError %v)", direct, isErr)
	}
	// The whole result — content and structuredContent — is the child's:
	// token for token as the child answers the same call directly, and
	// the same as execute_on_server's inner result.
	args := map[string]any{"name": "add", "arguments": map[string]any{"a": 2, "b": 3}}
	gw := mustRaw(t, s, "gw-add", "tools/call", map[string]any{"name": "calc__add", "arguments": args["arguments"]})
	ownRes, err := child.c.GetTransport().SendRequest(child.ctx, transport.JSONRPCRequest{
		JSONRPC: mcp.JSONRPC_VERSION, ID: mcp.NewRequestId("direct-add"), Method: "tools/call", Params: args})
	if err != nil || ownRes.Error != nil {
		t.Fatalf("the child's own add: %v %+v", err, ownRes)
	}
	if !interopSameJSON(t, gw, ownRes.Result) {
		t.Errorf("calc__add's result differs from the child's own:\n metamcp: %s\n child:   %s", gw, ownRes.Result)
	}
	via := mustOK(t, s, "execute_on_server", map[string]any{"server_id": id, "tool_name": "add", "arguments": map[string]any{"a": 2, "b": 3}})
	var gwRes map[string]any
	if err := json.Unmarshal(gw, &gwRes); err != nil {
		t.Fatal(err)
	}
	if inner := jobj(t, via, "result"); !reflect.DeepEqual(inner, gwRes) {
		t.Errorf("gateway and execute_on_server answers differ:\n gateway:           %s\n execute_on_server: %s", gw, jsonText(inner))
	}

	mustOK(t, s, "stop_server", map[string]any{"server_id": id})
	waitNote(t, changes, "after stop_server")
	if _, ok := listTools(t, s)["calc__add"]; ok {
		t.Error("calc__add still listed after stop_server")
	}
	// The gone server's tool is now an unknown name: a clear error, and
	// the session goes on.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	gone, err := rawRequest(ctx, s, "gw-gone", "tools/call", map[string]any{"name": "calc__add", "arguments": args["arguments"]})
	if err != nil {
		t.Fatalf("calc__add after stop_server: %v", err)
	}
	if msg := rpcOrToolError(t, gone); !strings.Contains(msg, "calc__add") {
		t.Errorf("calc__add after stop_server: error %q does not name the tool", msg)
	}
	mustOK(t, s, "list_servers", nil)
}

// rpcOrToolError is the message of a JSON-RPC error or of a tool result
// with isError; it fails the test for a success.
func rpcOrToolError(t *testing.T, resp *transport.JSONRPCResponse) string {
	t.Helper()
	if resp.Error != nil {
		return resp.Error.Message
	}
	var res struct {
		Content []struct{ Text string } `json:"content"`
		IsError bool                    `json:"isError"`
	}
	if err := json.Unmarshal(resp.Result, &res); err != nil || !res.IsError {
		t.Fatalf("want an error, got %s", resp.Result)
	}
	var texts []string
	for _, c := range res.Content {
		texts = append(texts, c.Text)
	}
	return strings.Join(texts, "\n")
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

// A server's tools answer by their gateway names as soon as create_server
// has answered, before any list_changed or tools/list: a client (a model)
// calls them straight away.
func TestGatewayToolRightAfterCreate(t *testing.T) {
	t.Parallel()
	s := startServe(t, serveOpts{})
	for i := range 8 {
		name := fmt.Sprintf("calc%d", i)
		createFrom(t, s, name, "basic_calculator", nil)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		resp, err := rawRequest(ctx, s, "now-"+name, "tools/call",
			map[string]any{"name": name + "__add", "arguments": map[string]any{"a": i, "b": 1}})
		cancel()
		if err != nil {
			t.Fatalf("%s__add right after create_server: %v", name, err)
		}
		if resp.Error != nil {
			t.Errorf("%s__add right after create_server: JSON-RPC error %d %s", name, resp.Error.Code, resp.Error.Message)
			continue
		}
		var res struct {
			StructuredContent struct{ Result float64 } `json:"structuredContent"`
		}
		if json.Unmarshal(resp.Result, &res) != nil || res.StructuredContent.Result != float64(i+1) {
			t.Errorf("%s__add(%d, 1) right after create_server: %s", name, i, resp.Result)
		}
	}
}
