package mcpbridge

import (
	"context"
	"io"
	"log"
	"sync"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
	"github.com/rs/zerolog"

	"github.com/metamcp/metamcp/actors"
)

// Bridge is the MCP server the client talks to.
type Bridge struct {
	sys   *actors.System
	srv   *server.MCPServer
	log   zerolog.Logger
	hooks *server.Hooks
	// gateway: the children's tools are listed (their gateway names shown)
	gateway bool
}

// Instructions tell the AI client how to use metamcp's tools.
const Instructions = `metamcp starts and supervises other MCP servers for you.
Start one with create_server (a template such as basic_calculator, or a script) or get_or_create_pooled_server,
look at its tools with get_server_capabilities, and call them with execute_on_server.
orchestrate_task starts one server per capability you need. Servers that crash are restarted under the same server_id.`

// Options shape the front end for a mode (docs/gateway.md).
type Options struct {
	// NoMetaTools leaves the meta tools out (mode gateway).
	NoMetaTools bool
	// Gateway declares what a gateway session (package session) serves
	// besides tools: resources with subscriptions, prompts, logging and
	// completion, each with list changes.
	Gateway bool
	// GatewayTools: the children's tools are listed too (expose_tools);
	// get_server_capabilities shows their gateway names.
	GatewayTools bool
}

// New builds the MCP server with metamcp's tools.
func New(sys *actors.System, version string, log zerolog.Logger) *Bridge {
	return NewWith(sys, version, log, Options{})
}

// NewWith builds the MCP server for a mode.
func NewWith(sys *actors.System, version string, log zerolog.Logger, o Options) *Bridge {
	b := &Bridge{sys: sys, log: log, hooks: &server.Hooks{}, gateway: o.GatewayTools}
	opts := []server.ServerOption{server.WithHooks(b.hooks), server.WithToolCapabilities(true),
		server.WithInstructions(Instructions), server.WithRecovery()}
	if o.Gateway {
		opts = append(opts, server.WithResourceCapabilities(true, true), server.WithPromptCapabilities(true),
			server.WithLogging(), server.WithCompletions())
	}
	b.srv = server.NewMCPServer("metamcp", version, opts...)
	if o.NoMetaTools {
		return b
	}
	for _, t := range b.tools() {
		b.srv.AddTool(t.def, b.guard(t.def.Name, t.handle))
	}
	return b
}

// MCPServer exposes the underlying server (for in-process tests).
func (b *Bridge) MCPServer() *server.MCPServer { return b.srv }

// OnInitialize calls f with the client's name and version when the client
// introduces itself: in initialize or, from protocol 2026-07-28 on (no
// handshake), in the first request whose _meta names it, and again only
// when that changes. Call it before Serve; f must not block.
func (b *Bridge) OnInitialize(f func(name, version string)) {
	var mu sync.Mutex
	var last mcp.Implementation
	report := func(c mcp.Implementation) {
		mu.Lock()
		defer mu.Unlock()
		if c.Name != "" && (c.Name != last.Name || c.Version != last.Version) {
			last = c
			f(c.Name, c.Version)
		}
	}
	b.hooks.AddAfterInitialize(func(_ context.Context, _ any, req *mcp.InitializeRequest, _ *mcp.InitializeResult) {
		report(req.Params.ClientInfo)
	})
	b.hooks.AddBeforeAny(func(ctx context.Context, _ any, _ mcp.MCPMethod, _ any) {
		if info := server.RequestProtocolInfoFromContext(ctx); info != nil && info.ClientInfo != nil {
			report(*info.ClientInfo)
		}
	})
}

// Serve speaks MCP over in/out until in ends or ctx is cancelled.
func (b *Bridge) Serve(ctx context.Context, in io.Reader, out io.Writer) error {
	std := server.NewStdioServer(b.srv)
	std.SetErrorLogger(log.New(logWriter{b.log}, "", 0))
	server.WithWorkerPoolSize(100)(std)
	server.WithQueueSize(1000)(std)
	return std.Listen(ctx, in, out)
}

// guard logs each call and turns a panic into a tool error, so that no
// handler can end the session.
func (b *Bridge) guard(name string, h server.ToolHandlerFunc) server.ToolHandlerFunc {
	return func(ctx context.Context, req mcp.CallToolRequest) (res *mcp.CallToolResult, err error) {
		t0 := time.Now()
		defer func() {
			if p := recover(); p != nil {
				b.log.Error().Str("tool", name).Interface("panic", p).Msg("tool handler panicked")
				res, err = failure(errInternal, nil), nil
			}
			ev := b.log.Debug()
			if res != nil && res.IsError {
				ev = b.log.Info()
			}
			ev.Str("tool", name).Dur("took", time.Since(t0)).Bool("is_error", res != nil && res.IsError).Msg("tool call")
		}()
		return h(ctx, req)
	}
}

// logWriter sends mcp-go's log lines to zerolog.
type logWriter struct{ log zerolog.Logger }

func (w logWriter) Write(p []byte) (int, error) {
	w.log.Warn().Str("lib", "mcp-go").Msg(string(trimNL(p)))
	return len(p), nil
}

func trimNL(p []byte) []byte {
	for len(p) > 0 && (p[len(p)-1] == '\n' || p[len(p)-1] == '\r') {
		p = p[:len(p)-1]
	}
	return p
}
