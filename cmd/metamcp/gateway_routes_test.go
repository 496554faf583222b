//go:build linux

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
)

// everything starts metamcp with server-everything as a configured template
// and creates it as server "ev".
func everything(t *testing.T) (*mcpServe, string) {
	t.Helper()
	deps := interopDeps(t)
	s := startServe(t, serveOpts{Config: map[string]any{
		"allowed_commands":      []string{"metamcp", "node"},
		"start_timeout_seconds": 30,
		"templates": map[string]any{"everything": map[string]any{"command": "node",
			"args": []string{interopEntry(t, deps, "server-everything"), "stdio"}}},
	}})
	id, _ := createFrom(t, s, "ev", "everything", nil)
	return s, id
}

// unmarshal decodes a raw result into v or fails the test.
func unmarshal(t *testing.T, raw json.RawMessage, v any) {
	t.Helper()
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatalf("%v: %s", err, raw)
	}
}

// Resources, resource templates, subscriptions with updates, prompts and
// completion of server-everything reach the client through the gateway,
// under metamcp's names, and route back.
func TestGatewayResourcesAndPrompts(t *testing.T) {
	t.Parallel()
	s, id := everything(t)
	prefix := "metamcp://ev." + id + "/"
	updates := make(chan string, 16)
	s.c.OnNotification(func(n mcp.JSONRPCNotification) {
		if n.Method == "notifications/resources/updated" {
			uri, _ := n.Params.AdditionalFields["uri"].(string)
			updates <- uri
		}
	})

	var list struct {
		Resources []struct{ URI, Name string } `json:"resources"`
	}
	unmarshal(t, mustRaw(t, s, "r1", "resources/list", map[string]any{}), &list)
	if len(list.Resources) == 0 {
		t.Fatal("resources/list: no resources from server-everything")
	}
	for _, r := range list.Resources {
		if !strings.HasPrefix(r.URI, prefix) {
			t.Errorf("resource %q is not under %s", r.URI, prefix)
		}
	}
	first := list.Resources[0].URI
	var read struct {
		Contents []struct{ URI, Text string } `json:"contents"`
	}
	unmarshal(t, mustRaw(t, s, "r2", "resources/read", map[string]any{"uri": first}), &read)
	if len(read.Contents) == 0 || read.Contents[0].URI != first {
		t.Errorf("resources/read %s: contents %+v, want them under the URI asked for", first, read.Contents)
	}

	var templates struct {
		ResourceTemplates []struct{ URITemplate string } `json:"resourceTemplates"`
	}
	unmarshal(t, mustRaw(t, s, "r3", "resources/templates/list", map[string]any{}), &templates)
	expanded := ""
	for _, rt := range templates.ResourceTemplates {
		if !strings.HasPrefix(rt.URITemplate, prefix) {
			t.Errorf("template %q is not under %s", rt.URITemplate, prefix)
		}
		if strings.Contains(rt.URITemplate, "dynamic/text/{resourceId}") {
			expanded = strings.Replace(rt.URITemplate, "{resourceId}", "7", 1)
		}
	}
	if expanded == "" {
		t.Fatalf("no dynamic text template among %+v", templates.ResourceTemplates)
	}
	unmarshal(t, mustRaw(t, s, "r4", "resources/read", map[string]any{"uri": expanded}), &read)
	if len(read.Contents) == 0 || !strings.Contains(read.Contents[0].Text, "7") {
		t.Errorf("a URI expanded from a listed template (%s), never listed itself: %+v", expanded, read.Contents)
	}

	mustRaw(t, s, "r5", "resources/subscribe", map[string]any{"uri": first})
	if _, isErr, text := callText(t, s, "ev__toggle-subscriber-updates", map[string]any{}); isErr {
		t.Fatalf("ev__toggle-subscriber-updates: %s", text)
	}
	select {
	case uri := <-updates:
		if uri != first {
			t.Errorf("notifications/resources/updated for %q, want %q", uri, first)
		}
	case <-time.After(10 * time.Second):
		t.Error("no notifications/resources/updated for a subscribed resource")
	}

	checkPrompts(t, s)
}

// checkPrompts: prompts listed as ev__<name>, got by that name, and their
// arguments completed through the gateway.
func checkPrompts(t *testing.T, s *mcpServe) {
	t.Helper()
	var prompts struct {
		Prompts []struct{ Name string } `json:"prompts"`
	}
	unmarshal(t, mustRaw(t, s, "p1", "prompts/list", map[string]any{}), &prompts)
	names := map[string]bool{}
	for _, p := range prompts.Prompts {
		names[p.Name] = true
	}
	if !names["ev__simple-prompt"] || !names["ev__completable-prompt"] {
		t.Fatalf("prompts/list: %v", names)
	}
	var got struct {
		Messages []struct{ Content struct{ Text string } } `json:"messages"`
	}
	unmarshal(t, mustRaw(t, s, "p2", "prompts/get", map[string]any{"name": "ev__simple-prompt"}), &got)
	if len(got.Messages) == 0 || got.Messages[0].Content.Text == "" {
		t.Errorf("prompts/get ev__simple-prompt: %+v", got)
	}
	var done struct {
		Completion struct{ Values []string } `json:"completion"`
	}
	unmarshal(t, mustRaw(t, s, "p3", "completion/complete", map[string]any{
		"ref":      map[string]any{"type": "ref/prompt", "name": "ev__completable-prompt"},
		"argument": map[string]any{"name": "department", "value": "Eng"},
	}), &done)
	if fmt.Sprint(done.Completion.Values) != "[Engineering]" {
		t.Errorf("completion of department \"Eng\": %v, want [Engineering]", done.Completion.Values)
	}
	ctxErr := rawError(t, s, "p4", "prompts/get", map[string]any{"name": "ev__no-such-prompt"})
	if !strings.Contains(ctxErr, "ev__no-such-prompt") {
		t.Errorf("an unknown prompt: %q, want an error naming it", ctxErr)
	}
}

// rawError is rawRequest that must fail with a JSON-RPC error; it returns
// the error's message.
func rawError(t *testing.T, s *mcpServe, id, method string, params any) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := rawRequest(ctx, s, id, method, params)
	if err != nil {
		t.Fatalf("%s: %v", method, err)
	}
	if resp.Error == nil {
		t.Fatalf("%s %s answered %s, want an error", method, jsonText(params), resp.Result)
	}
	return resp.Error.Message
}

// A child SIGKILLed while a call of it is sending progress: the call fails
// at once naming the crash and the restart, tools/list_changed follows
// when the new child is up, and the next call under the same name works.
func TestGatewayKillDuringProgress(t *testing.T) {
	t.Parallel()
	s, id := everything(t)
	progress := make(chan struct{}, 64)
	changed := make(chan struct{}, 64)
	s.c.OnNotification(func(n mcp.JSONRPCNotification) {
		switch n.Method {
		case "notifications/progress":
			progress <- struct{}{}
		case "notifications/tools/list_changed":
			changed <- struct{}{}
		}
	})
	pid := int(jnum(t, serverRow(t, s, id), "pid"))
	type outcome struct {
		res json.RawMessage
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		resp, err := rawRequest(ctx, s, "long", "tools/call", map[string]any{"name": "ev__trigger-long-running-operation",
			"arguments": map[string]any{"duration": 10, "steps": 10}, "_meta": map[string]any{"progressToken": "p-1"}})
		if err == nil {
			done <- outcome{resp.Result, nil}
			return
		}
		done <- outcome{nil, err}
	}()
	select {
	case <-progress:
	case <-time.After(10 * time.Second):
		t.Fatal("no progress from the long-running operation")
	}
	for len(changed) > 0 { // only what comes after the kill counts
		<-changed
	}
	o := killAwait(t, pid, done, "the call sending progress")
	if o.err != nil || !strings.Contains(string(o.res), `"isError":true`) ||
		!strings.Contains(string(o.res), "server crashed during the call") || !strings.Contains(string(o.res), "restarted under the same name") {
		t.Fatalf("the call in flight: %s %v", o.res, o.err)
	}
	select {
	case <-changed:
	case <-time.After(15 * time.Second):
		t.Fatal("no tools/list_changed after the restart")
	}
	if _, isErr, text := callText(t, s, "ev__echo", map[string]any{"message": "back"}); isErr || !strings.Contains(text, "back") {
		t.Errorf("ev__echo after the restart: %s", text)
	}
}
