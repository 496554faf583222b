package mcpbridge

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/metamcp/metamcp/actors"
)

// ExecuteAnswer, what a front end answers when it serves execute_on_server
// itself, is the tool's own answer, byte for byte.
func TestExecuteAnswerIsTheTools(t *testing.T) {
	tr := &actors.ToolResult{Result: json.RawMessage(`{"content":[{"type":"text","text":"5"}],"isError":true}`),
		IsError: true, Duration: 1500 * time.Microsecond}
	for name, c := range map[string]struct {
		tr   *actors.ToolResult
		err  error
		want any
	}{
		"result": {tr: tr, want: jsonResult(executedBody("srv_1", "add", tr), true)},
		"error": {err: errors.New("server crashed during the call"),
			want: failure(errors.New("server crashed during the call"), map[string]any{"server_id": "srv_1", "tool": "add"})},
	} {
		want, err := json.Marshal(c.want)
		if err != nil {
			t.Fatal(err)
		}
		if got := ExecuteAnswer("srv_1", "add", c.tr, c.err); string(got) != string(want) {
			t.Errorf("%s:\n got %s\nwant %s", name, got, want)
		}
	}
}

// ExecuteArgs refuses what the tool refuses, naming the argument.
func TestExecuteArgs(t *testing.T) {
	for raw, want := range map[string]string{
		`{"server_id":"s","tool_name":"t","extra":1}`:       `unknown argument extra`,
		`{"tool_name":"t"}`:                                 `argument "server_id" is required`,
		`{"server_id":"s","tool_name":"t","arguments":[1]}`: `argument "arguments" must be a JSON object`,
	} {
		if _, _, _, err := ExecuteArgs(json.RawMessage(raw)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", raw, err, want)
		}
	}
	id, tool, args, err := ExecuteArgs(json.RawMessage(`{"server_id":" s ","tool_name":"t"}`))
	if err != nil || id != "s" || tool != "t" || string(args) != "{}" {
		t.Errorf("good arguments: %q %q %s %v", id, tool, args, err)
	}
}
