package mcpbridge

import (
	"encoding/json"

	"github.com/mark3labs/mcp-go/mcp"
)

// success returns v as structuredContent and as JSON text.
func success(v any) *mcp.CallToolResult {
	return jsonResult(v, false)
}

// failure returns an MCP tool error: a message for a person, and the same
// as {"status": "error", "error": ...} plus any fields of extra.
func failure(err error, extra map[string]any) *mcp.CallToolResult {
	body := map[string]any{"status": "error", "error": err.Error()}
	for k, v := range extra {
		body[k] = v
	}
	return jsonResult(body, true)
}

func jsonResult(v any, isError bool) *mcp.CallToolResult {
	b, err := json.Marshal(v)
	if err != nil {
		b, _ = json.Marshal(map[string]any{"status": "error", "error": "encoding the result: " + err.Error()})
		isError = true
	}
	return &mcp.CallToolResult{
		Content:              []mcp.Content{mcp.NewTextContent(string(b))},
		RawStructuredContent: json.RawMessage(b),
		IsError:              isError,
	}
}
