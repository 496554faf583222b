//go:build linux

package main

// Gateway mode when things go wrong: a child killed in the middle of a
// gateway call, and a client that cancels one. The slow child is the
// api_integration template calling a slowSite (e2e_test.go), which also
// tells whether the child's own work was cancelled.

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"
)

// serverRow is the list_servers row of a server.
func serverRow(t *testing.T, s *mcpServe, id string) map[string]any {
	t.Helper()
	list := mustOK(t, s, "list_servers", nil)
	for i := range jarr(t, list, "servers") {
		if row := jobj(t, list, "servers", i); row["server_id"] == id {
			return row
		}
	}
	t.Fatalf("list_servers lacks %s: %s", id, jsonText(list))
	return nil
}

// gatewayEvents are the server's events of one type that the relay path
// recorded (data.via "gateway").
func gatewayEvents(t *testing.T, s *mcpServe, id, typ string) []map[string]any {
	t.Helper()
	var out []map[string]any
	evs := eventHistory(t, s, map[string]any{"server_id": id, "event_type": typ})
	for i := range evs {
		if ev := jobj(t, evs, i); jobj(t, ev, "data")["via"] == "gateway" {
			out = append(out, ev)
		}
	}
	return out
}

// A gateway call in flight when its child is SIGKILLed fails at once with
// a message that names the crash and the restart; once the server is back
// the same name works on the relay path again, and nothing was replayed.
// (Calls made while it restarts: TestGatewayCallsAroundCrash.)
func TestGatewayCrashDuringCall(t *testing.T) {
	t.Parallel()
	slow := newSlowSite(t, 10*time.Second)
	s := startServe(t, serveOpts{})
	id, _ := createFrom(t, s, "api", "api_integration", nil)
	pid := int(jnum(t, serverRow(t, s, id), "pid"))

	res, err := callDuringKill(t, s, slow, pid, "api__make_request", map[string]any{"url": slow.URL})
	o := struct {
		res *mcp.CallToolResult
		err error
	}{res, err}
	if o.err != nil {
		t.Fatalf("the gateway call in flight: JSON-RPC error %v, want a tool error", o.err)
	}
	msg := toolText(o.res)
	for _, want := range []string{"server crashed during the call", "SIGKILL", "restarted under the same name"} {
		if !o.res.IsError || !strings.Contains(msg, want) {
			t.Errorf("the gateway call in flight: isError %v, %q lacks %q", o.res.IsError, msg, want)
		}
	}

	checkFor(t, 10*time.Second, 25*time.Millisecond, func() error {
		row := serverRow(t, s, id)
		if row["status"] != "running" || int(jnum(t, row, "pid")) == pid {
			return fmt.Errorf("not back: %s", jsonText(row))
		}
		return nil
	})
	if _, ok := listTools(t, s)["api__make_request"]; !ok {
		t.Fatalf("api__make_request is not listed after the restart")
	}
	before := len(gatewayEvents(t, s, id, "tool_executed"))
	parsed, isErr, _ := call(t, s, "api__parse_response", map[string]any{"response_json": `{"after":"restart"}`})
	if isErr || jstr(t, parsed, "type") != "object" {
		t.Errorf("api__parse_response after the restart: isError %v, %s", isErr, jsonText(parsed))
	}
	checkFor(t, 2*time.Second, 20*time.Millisecond, func() error {
		if n := len(gatewayEvents(t, s, id, "tool_executed")); n != before+1 {
			return fmt.Errorf("%d tool_executed events of the relay path, want %d: the call after the restart did not take it", n, before+1)
		}
		return nil
	})
	crashed := gatewayEvents(t, s, id, "tool_error")
	if len(crashed) != 1 || !strings.Contains(jstr(t, crashed[0], "data", "error"), "crashed") {
		t.Errorf("tool_error events of the relay path: %s", jsonText(crashed))
	}
	if n := slow.started.Load(); n != 1 {
		t.Errorf("the slow site saw %d requests: the call was replayed", n)
	}
}

// toolText joins a tool result's text items.
func toolText(res *mcp.CallToolResult) string {
	var parts []string
	for _, c := range res.Content {
		if tc, ok := c.(mcp.TextContent); ok {
			parts = append(parts, tc.Text)
		}
	}
	return strings.Join(parts, "\n")
}

// A client's notifications/cancelled for a gateway call in flight cancels
// the call at the child, metamcp sends no answer for that id, and the
// session answers what comes next.
func TestGatewayClientCancels(t *testing.T) {
	t.Parallel()
	slow := newSlowSite(t, 10*time.Second)
	s := startServe(t, serveOpts{})
	id, _ := createFrom(t, s, "api", "api_integration", nil)

	const callID = "gw-cancel-me"
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	type outcome struct {
		resp *transport.JSONRPCResponse
		err  error
	}
	done := make(chan outcome, 1)
	go func() {
		resp, err := rawRequest(ctx, s, callID, "tools/call",
			map[string]any{"name": "api__make_request", "arguments": map[string]any{"url": slow.URL}})
		done <- outcome{resp, err}
	}()
	slow.waitStarted(t, 1)
	note := mcp.JSONRPCNotification{JSONRPC: mcp.JSONRPC_VERSION, Notification: mcp.Notification{
		Method: "notifications/cancelled",
		Params: mcp.NotificationParams{AdditionalFields: map[string]any{"requestId": callID, "reason": "the user changed their mind"}},
	}}
	if err := s.c.GetTransport().SendNotification(ctx, note); err != nil {
		t.Fatal(err)
	}
	slow.waitCancelled(t, 1) // the child's own work was cancelled

	// The session goes on: the same child answers on the same name, and
	// metamcp answers a ping.
	parsed, isErr, _ := call(t, s, "api__parse_response", map[string]any{"response_json": `[1,2]`})
	if isErr || jstr(t, parsed, "type") != "array" {
		t.Errorf("api__parse_response after the cancellation: isError %v, %s", isErr, jsonText(parsed))
	}
	mustRaw(t, s, "gw-ping", "ping", nil)
	checkFor(t, 2*time.Second, 20*time.Millisecond, func() error {
		if h := mustOK(t, s, "health_check", map[string]any{"server_id": id}); jnum(t, h, "in_flight") != 0 {
			return fmt.Errorf("health_check after the cancellation: %s", jsonText(h))
		}
		evs := gatewayEvents(t, s, id, "tool_error")
		if len(evs) != 1 || !strings.Contains(jstr(t, evs[0], "data", "error"), "cancelled") {
			return fmt.Errorf("tool_error events of the relay path: %s", jsonText(evs))
		}
		return nil
	})

	// No answer for the cancelled id: not to the waiting request, and not
	// anywhere on metamcp's stdout.
	select {
	case o := <-done:
		t.Fatalf("the cancelled call was answered: %+v %v", o.resp, o.err)
	default:
	}
	cancel()
	select {
	case o := <-done:
		if o.err == nil {
			t.Errorf("the cancelled call was answered: %s", o.resp.Result)
		}
	case <-time.After(2 * time.Second):
		t.Errorf("the waiting request did not end with its context")
	}
	for _, line := range strings.Split(string(s.out.bytes()), "\n") {
		var m struct {
			ID     json.RawMessage `json:"id"`
			Method string          `json:"method"`
		}
		if json.Unmarshal([]byte(line), &m) == nil && m.Method == "" && string(m.ID) == `"`+callID+`"` {
			t.Errorf("metamcp answered the cancelled request: %s", line)
		}
	}
}

// Calls made around a crash — in flight when the child dies, or made after
// it died and before it is back — either succeed (held for the restart) or
// fail with a message that says the server is being restarted; none fails
// as if it had crashed with a child that was already gone.
func TestGatewayCallsAroundCrash(t *testing.T) {
	t.Parallel()
	s := startServe(t, serveOpts{})
	id, _ := createFrom(t, s, "api", "api_integration", nil)
	pid := int(jnum(t, serverRow(t, s, id), "pid"))

	const callers = 8
	stop := make(chan struct{})
	type outcome struct {
		isErr bool
		text  string
	}
	results := make(chan outcome, 4096)
	done := make(chan struct{}, callers)
	for range callers {
		go func() {
			defer func() { done <- struct{}{} }()
			for {
				select {
				case <-stop:
					return
				default:
				}
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				req := mcp.CallToolRequest{}
				req.Params.Name = "api__parse_response"
				req.Params.Arguments = map[string]any{"response_json": `{"k":1}`}
				res, err := s.c.CallTool(ctx, req)
				cancel()
				switch {
				case err != nil:
					results <- outcome{true, "JSON-RPC error: " + err.Error()}
				default:
					results <- outcome{res.IsError, toolText(res)}
				}
			}
		}()
	}
	// Some calls before the kill, then the kill, then until it is back.
	first := <-results
	if first.isErr {
		t.Fatalf("api__parse_response before the crash: %s", first.text)
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	checkFor(t, 10*time.Second, 10*time.Millisecond, func() error {
		row := serverRow(t, s, id)
		if row["status"] != "running" || int(jnum(t, row, "pid")) == pid {
			return fmt.Errorf("not back: %s", jsonText(row))
		}
		return nil
	})
	close(stop)
	for range callers {
		<-done
	}
	close(results)
	ok, failed := 0, map[string]int{}
	for o := range results {
		if !o.isErr {
			ok++
			continue
		}
		failed[o.text]++
	}
	for text, n := range failed {
		if !strings.Contains(text, "restart") {
			t.Errorf("%d calls around the crash failed without saying the server is being restarted: %s", n, text)
		}
	}
	t.Logf("calls around the crash: %d answered, failed: %v", ok, failed)
}
