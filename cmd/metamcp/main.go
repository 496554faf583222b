// Command metamcp is an MCP server that creates, supervises, pools and routes
// tool calls to many child MCP servers. See README.md.
package main

import (
	"fmt"
	"os"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "metamcp:", err)
		os.Exit(1)
	}
}
