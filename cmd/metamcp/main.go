// Command metamcp is an MCP server that creates, supervises, pools and routes
// tool calls to many child MCP servers.
package main

import (
	"os"

	_ "github.com/PuerkitoBio/goquery"
	_ "github.com/asynkron/protoactor-go/actor"
	_ "github.com/mark3labs/mcp-go/client"
	_ "github.com/rs/zerolog"
	_ "github.com/spf13/cobra"
	_ "go.uber.org/goleak"

	_ "github.com/metamcp/metamcp/templates"
)

func main() { os.Exit(0) }
