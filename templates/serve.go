package templates

import (
	"context"
	"io"
	"time"

	"github.com/mark3labs/mcp-go/server"
)

// Options tune the built-in template servers. Zero values mean defaults.
type Options struct {
	// BaseDir confines file_handler_template. Required for it.
	BaseDir string
	// HTTPTimeout bounds fetch_url and make_request (default 30s).
	HTTPTimeout time.Duration
	// MaxBodyBytes caps the body read by fetch_url and make_request (default 5 MiB).
	MaxBodyBytes int64
}

// NewServer builds the MCP server of a built-in template.
func NewServer(name string, opts Options) (*server.MCPServer, error) {
	return nil, ErrUnknownTemplate // filled in by the template implementations
}

// Serve runs a built-in template as an MCP server over in/out until in is
// closed or ctx is cancelled.
func Serve(ctx context.Context, name string, opts Options, in io.Reader, out io.Writer) error {
	s, err := NewServer(name, opts)
	if err != nil {
		return err
	}
	return server.NewStdioServer(s).Listen(ctx, in, out)
}
