// Command gosdk is an MCP server written with the official Go SDK, for
// metamcp's interop tests: its tools have names that clients do not
// accept as they are (a space, dots, 100 characters), which metamcp's
// gateway must name validly and still route. Each tool answers with its
// own name and the arguments it got.
package main

import (
	"context"
	"encoding/json"
	"log"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// Names are the odd tool names this server lists.
var names = []string{"get weather", "net.fetch.v2", strings.Repeat("long", 25), "plain"}

func main() {
	s := mcp.NewServer(&mcp.Implementation{Name: "gosdk-odd-names", Version: "1.0.0"}, nil)
	schema := json.RawMessage(`{"type":"object","properties":{"q":{"type":"string"}}}`)
	for _, name := range names {
		s.AddTool(&mcp.Tool{Name: name, Description: "answers with its name: " + name, InputSchema: schema},
			func(_ context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
				body, _ := json.Marshal(map[string]any{"tool": req.Params.Name, "arguments": req.Params.Arguments})
				return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: string(body)}}}, nil
			})
	}
	if err := s.Run(context.Background(), &mcp.StdioTransport{}); err != nil {
		log.Fatal(err)
	}
}
