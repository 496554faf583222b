package templates

import (
	"context"
	"fmt"
	"io"
	"log"
	"os"
	"strings"
	"time"

	"github.com/mark3labs/mcp-go/server"
)

// Version is reported as the server version of every built-in template. It is
// set at build time with -ldflags "-X github.com/metamcp/metamcp/templates.Version=...".
var Version = "dev"

// Defaults for the zero fields of Options.
const (
	defaultHTTPTimeout  = 30 * time.Second
	defaultMaxBodyBytes = 5 << 20  // 5 MiB
	defaultMaxFileBytes = 10 << 20 // 10 MiB
)

// Options tune the built-in template servers. Zero values mean defaults.
type Options struct {
	// BaseDir confines file_handler_template. Required for it; created with
	// mode 0700 when missing.
	BaseDir string
	// HTTPTimeout bounds fetch_url and make_request (default 30s), from
	// connecting to reading the last body byte.
	HTTPTimeout time.Duration
	// MaxBodyBytes caps the body read by fetch_url and make_request (default 5 MiB).
	MaxBodyBytes int64
	// MaxFileBytes caps the size of the files read_file reads and write_file
	// writes (default 10 MiB).
	MaxFileBytes int64
}

// withDefaults returns o with every zero or negative field set to its default.
func (o Options) withDefaults() Options {
	if o.HTTPTimeout <= 0 {
		o.HTTPTimeout = defaultHTTPTimeout
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = defaultMaxBodyBytes
	}
	if o.MaxFileBytes <= 0 {
		o.MaxFileBytes = defaultMaxFileBytes
	}
	return o
}

// builders maps each built-in template name to the constructor of its server.
// Constructors receive Options with defaults applied.
var builders = map[string]func(Options) (*server.MCPServer, error){
	BasicCalculator: newCalculatorServer,
	WebScraper:      newWebScraperServer,
	FileHandler:     newFileHandlerServer,
	DataProcessor:   newDataProcessorServer,
	APIIntegration:  newAPIIntegrationServer,
}

// NewServer builds the MCP server of a built-in template. An unknown name
// yields an error wrapping ErrUnknownTemplate that lists the valid names;
// file_handler_template without a usable Options.BaseDir yields an error
// (ErrBaseDirRequired when it is empty).
func NewServer(name string, opts Options) (*server.MCPServer, error) {
	build, ok := builders[name]
	if !ok {
		return nil, fmt.Errorf("%w %q (valid names: %s)", ErrUnknownTemplate, name, builtinNames())
	}
	return build(opts.withDefaults())
}

// builtinNames lists the built-in template names, comma separated.
func builtinNames() string {
	var names []string
	for _, t := range Builtins() {
		names = append(names, t.Name)
	}
	return strings.Join(names, ", ")
}

// newMCPServer returns the server shared by every template: named
// "metamcp-<template>", tools only, panics in handlers recovered, and
// structured results checked against each tool's output schema.
func newMCPServer(template string, tools ...server.ServerTool) *server.MCPServer {
	s := server.NewMCPServer("metamcp-"+template, Version,
		server.WithToolCapabilities(false),
		server.WithRecovery(),
		server.WithOutputSchemaValidation(),
	)
	s.AddTools(tools...)
	return s
}

// Serve runs a built-in template as an MCP server over in/out (newline
// delimited JSON-RPC) until in is closed, which returns nil, or ctx is
// cancelled, which returns ctx's error. Diagnostics go to stderr, never to
// out. mcp-go's stdio transport keeps one session per process, so a process
// runs at most one Serve at a time.
func Serve(ctx context.Context, name string, opts Options, in io.Reader, out io.Writer) error {
	s, err := NewServer(name, opts)
	if err != nil {
		return err
	}
	stdio := server.NewStdioServer(s)
	stdio.SetErrorLogger(log.New(os.Stderr, "metamcp-"+name+": ", log.LstdFlags))
	return stdio.Listen(ctx, in, out)
}
