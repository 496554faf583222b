package child

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/metamcp/metamcp/wire"
)

// ProtocolVersion is the MCP version offered to children. Pinning it avoids
// the discovery fallback of newer servers; whatever version the child
// answers is accepted.
const ProtocolVersion = "2025-11-25"

// ClientName and ClientVersion are sent in initialize.
var (
	ClientName    = "metamcp"
	ClientVersion = "dev"
)

// Tool is one tool of the child, with its input schema exactly as sent.
type Tool struct {
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	InputSchema json.RawMessage `json:"inputSchema"`
	// Raw is the whole tool object as the child sent it.
	Raw json.RawMessage `json:"-"`
}

// Info is what the handshake learned about the child.
type Info struct {
	ProtocolVersion string          `json:"protocolVersion"`
	ServerName      string          `json:"serverName"`
	ServerVersion   string          `json:"serverVersion"`
	Instructions    string          `json:"instructions,omitempty"`
	Capabilities    json.RawMessage `json:"capabilities"`
	Tools           []Tool          `json:"tools"`
	Resources       []string        `json:"resources"`
	Prompts         []string        `json:"prompts"`
}

type initializeResult struct {
	ProtocolVersion string `json:"protocolVersion"`
	ServerInfo      struct {
		Name    string `json:"name"`
		Version string `json:"version"`
	} `json:"serverInfo"`
	Instructions string                     `json:"instructions"`
	Capabilities map[string]json.RawMessage `json:"capabilities"`
}

// Initialize performs the MCP handshake — initialize, notifications/
// initialized, then tools/list and, where the child declares them,
// resources/list and prompts/list — before ctx ends. On failure the error
// is a *StartError carrying the child's last stderr lines.
func (c *Conn) Initialize(ctx context.Context) (*Info, error) {
	info, err := c.handshake(ctx)
	if err != nil {
		if n, sample := c.Garbage(); n > 0 {
			err = fmt.Errorf("%w (it wrote %d line(s) on stdout that are not JSON-RPC, the last: %q)", err, n, sample)
		}
		return nil, &StartError{Err: err, Stderr: c.ring.tail(5)}
	}
	return info, nil
}

func (c *Conn) handshake(ctx context.Context) (*Info, error) {
	caps := c.opts.Capabilities
	if len(caps) == 0 {
		caps = json.RawMessage("{}")
	}
	params := map[string]any{
		"protocolVersion": ProtocolVersion,
		"capabilities":    caps,
		"clientInfo":      map[string]any{"name": ClientName, "version": ClientVersion},
	}
	raw, err := c.Request(ctx, "initialize", params)
	if err != nil {
		return nil, fmt.Errorf("initialize: %w", err)
	}
	var ir initializeResult
	if err := json.Unmarshal(raw, &ir); err != nil || ir.ProtocolVersion == "" {
		return nil, fmt.Errorf("initialize: %w: answer is not an initialize result", ErrProtocol)
	}
	if err := c.Notify(ctx, "notifications/initialized", nil); err != nil {
		return nil, fmt.Errorf("initialized: %w", err)
	}
	declared, _ := json.Marshal(ir.Capabilities)
	info := &Info{
		ProtocolVersion: ir.ProtocolVersion, ServerName: ir.ServerInfo.Name,
		ServerVersion: ir.ServerInfo.Version, Instructions: ir.Instructions,
		Capabilities: declared, Tools: []Tool{}, Resources: []string{}, Prompts: []string{},
	}
	if _, ok := ir.Capabilities["tools"]; ok {
		if info.Tools, err = c.ListTools(ctx); err != nil {
			return nil, err
		}
	}
	if _, ok := ir.Capabilities["resources"]; ok {
		if info.Resources, err = c.listNames(ctx, "resources/list", "resources", "uri"); err != nil {
			return nil, err
		}
	}
	if _, ok := ir.Capabilities["prompts"]; ok {
		if info.Prompts, err = c.listNames(ctx, "prompts/list", "prompts", "name"); err != nil {
			return nil, err
		}
	}
	return info, nil
}

// ListTools lists every tool of the child, following pagination, keeping
// each input schema byte for byte.
func (c *Conn) ListTools(ctx context.Context) ([]Tool, error) {
	var tools []Tool
	err := c.paginate(ctx, "tools/list", func(page json.RawMessage) error {
		var p struct {
			Tools []json.RawMessage `json:"tools"`
		}
		if err := json.Unmarshal(page, &p); err != nil {
			return err
		}
		for _, raw := range p.Tools {
			var t Tool
			if err := json.Unmarshal(raw, &t); err != nil {
				return err
			}
			t.Raw = raw
			tools = append(tools, t)
		}
		return nil
	})
	if tools == nil {
		tools = []Tool{}
	}
	return tools, err
}

func (c *Conn) listNames(ctx context.Context, method, key, field string) ([]string, error) {
	names := []string{}
	err := c.paginate(ctx, method, func(page json.RawMessage) error {
		var p map[string][]map[string]any
		if err := json.Unmarshal(page, &p); err != nil {
			return err
		}
		for _, item := range p[key] {
			if s, ok := item[field].(string); ok {
				names = append(names, s)
			}
		}
		return nil
	})
	return names, err
}

const maxPages = 100

func (c *Conn) paginate(ctx context.Context, method string, each func(json.RawMessage) error) error {
	cursor := ""
	for range maxPages {
		var params any
		if cursor != "" {
			params = map[string]any{"cursor": cursor}
		}
		raw, err := c.Request(ctx, method, params)
		if err != nil {
			return fmt.Errorf("%s: %w", method, err)
		}
		if err := each(raw); err != nil {
			return fmt.Errorf("%s: %w: %v", method, ErrProtocol, err)
		}
		var next struct {
			NextCursor string `json:"nextCursor"`
		}
		_ = json.Unmarshal(raw, &next)
		if next.NextCursor == "" {
			return nil
		}
		cursor = next.NextCursor
	}
	return fmt.Errorf("%s: %w: more than %d pages", method, ErrProtocol, maxPages)
}

// CallTool calls a tool and returns the child's CallToolResult as it came.
func (c *Conn) CallTool(ctx context.Context, name string, args json.RawMessage) (json.RawMessage, error) {
	params := struct {
		Name      string          `json:"name"`
		Arguments json.RawMessage `json:"arguments,omitempty"`
	}{name, args}
	return c.Request(ctx, "tools/call", params)
}

// Ping sends an MCP ping and returns the round-trip time.
func (c *Conn) Ping(ctx context.Context) (time.Duration, error) {
	t0 := time.Now()
	_, err := c.Request(ctx, "ping", nil)
	return time.Since(t0), err
}

// Request sends one JSON-RPC request and waits for its result. When ctx
// ends first the request is cancelled at the child.
func (c *Conn) Request(ctx context.Context, method string, params any) (json.RawMessage, error) {
	raw, err := rawParams(params)
	if err != nil {
		return nil, err
	}
	res, id, err := c.peer.Call(ctx, method, raw)
	if err == nil {
		return res, nil
	}
	var rpc *wire.Error
	if errors.As(err, &rpc) {
		return nil, &RPCError{Code: rpc.Code, Message: rpc.Message, Data: rpc.Data}
	}
	if errors.Is(err, wire.ErrNotSent) {
		return nil, fmt.Errorf("%w: %w", ErrNotSent, c.errFor(ctx, err))
	}
	if ctx.Err() != nil { // Call has forgotten it: tell the child
		c.cancelled(id, ctx.Err().Error())
	}
	return nil, c.errFor(ctx, err)
}

func rawParams(params any) (json.RawMessage, error) {
	switch p := params.(type) {
	case nil:
		return nil, nil
	case json.RawMessage:
		return p, nil
	}
	return json.Marshal(params)
}

// Go sends a request with raw params and calls done with the child's
// answer, once: from the reading goroutine, or with an *ExitError when the
// child exits first. It does not wait. The id is for Cancel.
func (c *Conn) Go(method string, params json.RawMessage, done wire.Done) int64 {
	return c.peer.Go(method, params, done)
}

// NewID reserves a request id for Send.
func (c *Conn) NewID() int64 { return c.peer.NewID() }

// Send is Go with an id from NewID.
func (c *Conn) Send(id int64, method string, params json.RawMessage, done wire.Done) {
	c.peer.Send(id, method, params, done)
}

// Cancel stops waiting for request id and tells the child to stop working
// on it (notifications/cancelled), unless it has answered already: it
// reports whether it did (then the request's Done is never called).
func (c *Conn) Cancel(id int64, reason string) bool {
	if c.peer.Forget(id) {
		c.cancelled(id, reason)
		return true
	}
	return false
}

func (c *Conn) cancelled(id int64, reason string) {
	b := wire.AppendString([]byte(`{"requestId":`+strconv.FormatInt(id, 10)+`,"reason":`), reason)
	_ = c.peer.Notify("notifications/cancelled", append(b, '}'))
}

// Notify sends a notification to the child.
func (c *Conn) Notify(_ context.Context, method string, params any) error {
	raw, err := rawParams(params)
	if err != nil {
		return err
	}
	return c.peer.Notify(method, raw)
}
