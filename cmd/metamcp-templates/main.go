// Command metamcp-templates runs one of metamcp's built-in templates as an
// MCP server on stdio:
//
//	metamcp-templates NAME [--base-dir DIR] [--http-timeout DURATION] [--max-body-bytes N]
//
// metamcp starts its built-in children with it when it lies next to the
// metamcp executable (make build and make install put it there), and
// otherwise runs `metamcp template run NAME`, the same code in the big
// binary. It exists because it starts faster: it links only
// the templates package and mcp-go's server, not the actor system, the
// metrics, the event store or the CLI, so a child has less to load and
// fewer package inits to run before it answers initialize
// (docs/benchmarks.md).
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/metamcp/metamcp/templates"
)

// version is set at build time: -ldflags "-X main.version=v1.2.3".
var version = "dev"

// buildStamp is set by make build to the same value in metamcp and
// metamcp-templates: metamcp trusts a metamcp-templates next to it only
// when it comes from the same build (actors: sameBuild reads it from the
// build information's linker flags).
var buildStamp = ""

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "metamcp-templates:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) == 1 && (args[0] == "--version" || args[0] == "version") {
		_, err := fmt.Fprintln(os.Stdout, "metamcp-templates "+version)
		return err
	}
	name, opts, err := templates.ParseArgs(args)
	if err != nil {
		return err
	}
	templates.Version = version
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return templates.Serve(ctx, name, opts, os.Stdin, os.Stdout)
}
