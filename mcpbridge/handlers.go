package mcpbridge

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"time"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/metamcp/metamcp/actors"
	"github.com/metamcp/metamcp/gateway"
)

// askTimeout bounds waits for quick answers from the tree; calls and
// creations have their own bounds below.
const askTimeout = 10 * time.Second

func (b *Bridge) createTimeout() time.Duration {
	return b.sys.Config().StartTimeout() + 5*time.Second
}

func (b *Bridge) createServer(_ context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	a, err := parseArgs(req, "name", "template", "script_path", "server_type", "config")
	if err != nil {
		return failure(err, nil), nil
	}
	var cr actors.CreateRequest
	for _, f := range []struct {
		dst      *string
		name     string
		required bool
	}{{&cr.Name, "name", true}, {&cr.Template, "template", false}, {&cr.ScriptPath, "script_path", false}, {&cr.ServerType, "server_type", false}} {
		if *f.dst, err = a.str(f.name, f.required); err != nil {
			return failure(err, nil), nil
		}
	}
	if err := a.decode("config", &cr.Config); err != nil {
		return failure(err, nil), nil
	}
	res, err := b.sys.Ask(&actors.CreateServer{Request: cr}, b.createTimeout())
	if err != nil {
		return failure(err, map[string]any{"name": cr.Name}), nil
	}
	sc := res.(*actors.ServerCreated)
	return success(createdBody(sc.Server, sc.Tools, false)), nil
}

func createdBody(s actors.ServerInfo, tools []string, reused bool) map[string]any {
	status, msg := "created and running", fmt.Sprintf("Server %q started with %d tools.", s.Name, len(tools))
	if reused {
		status, msg = "reused from pool", fmt.Sprintf("Reusing pooled server %q (%d tools).", s.Name, len(tools))
	}
	return map[string]any{
		"server_id": s.ServerID, "name": s.Name, "status": status, "message": msg, "template": s.Template,
		"type": s.Type, "tools": tools, "pid": s.PID, "pooled": s.Pooled, "reused": reused,
	}
}

func (b *Bridge) executeOnServer(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	id, name, arguments, err := executeArgs(req)
	if err != nil {
		return failure(err, known(id, name)), nil
	}
	tr, err := b.sys.Call(&actors.CallTool{ServerID: id, Tool: name, Arguments: arguments, Ctx: ctx})
	if err != nil {
		return failure(err, map[string]any{"server_id": id, "tool": name}), nil
	}
	return jsonResult(executedBody(id, name, tr), tr.IsError), nil
}

// executeArgs reads execute_on_server's arguments.
func executeArgs(req mcp.CallToolRequest) (id, name string, arguments json.RawMessage, err error) {
	a, err := parseArgs(req, "server_id", "tool_name", "arguments")
	if err != nil {
		return "", "", nil, err
	}
	if id, err = a.str("server_id", true); err != nil {
		return "", "", nil, err
	}
	if name, err = a.str("tool_name", true); err != nil {
		return id, "", nil, err
	}
	if arguments, err = a.object("arguments"); err != nil {
		return id, name, nil, err
	}
	if arguments == nil {
		arguments = json.RawMessage("{}") // some servers reject a missing arguments object
	}
	return id, name, arguments, nil
}

// ExecuteArgs reads execute_on_server's raw arguments as the tool does: a
// front end that serves the call itself (package session) refuses exactly
// what the tool refuses.
func ExecuteArgs(raw json.RawMessage) (serverID, tool string, arguments json.RawMessage, err error) {
	var req mcp.CallToolRequest
	req.Params.RawArguments = raw
	return executeArgs(req)
}

// ExecuteAnswer is execute_on_server's CallToolResult, as JSON, for a call
// that a front end made itself: the same as the tool's answer.
func ExecuteAnswer(serverID, tool string, tr *actors.ToolResult, err error) json.RawMessage {
	var res *mcp.CallToolResult
	if err != nil {
		res = failure(err, map[string]any{"server_id": serverID, "tool": tool})
	} else {
		res = jsonResult(executedBody(serverID, tool, tr), tr.IsError)
	}
	b, mErr := json.Marshal(res)
	if mErr != nil {
		b, _ = json.Marshal(failure(mErr, nil))
	}
	return b
}

// known is what a failure's answer says of the call: what was read of it.
func known(id, name string) map[string]any {
	extra := map[string]any{}
	if id != "" {
		extra["server_id"] = id
	}
	if name != "" {
		extra["tool"] = name
	}
	return extra
}

func executedBody(id, name string, tr *actors.ToolResult) executed {
	body := executed{ServerID: id, Tool: name, Result: tr.Result, Status: "success",
		DurationMS: float64(tr.Duration.Microseconds()) / 1000}
	if tr.IsError {
		body.Status = "tool_error"
	}
	return body
}

type executed struct {
	ServerID   string          `json:"server_id"`
	Tool       string          `json:"tool"`
	Result     json.RawMessage `json:"result"`
	Status     string          `json:"status"`
	DurationMS float64         `json:"duration_ms"`
}

func (b *Bridge) listServers(_ context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	if _, err := parseArgs(req); err != nil {
		return failure(err, nil), nil
	}
	res, err := b.sys.Ask(&actors.ListServers{}, askTimeout)
	if err != nil {
		return failure(err, nil), nil
	}
	list := res.(*actors.ServerList)
	return success(map[string]any{"servers": list.Servers, "total": len(list.Servers)}), nil
}

func (b *Bridge) getServerCapabilities(_ context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	id, err := serverIDArg(req)
	if err != nil {
		return failure(err, nil), nil
	}
	res, err := b.sys.Ask(&actors.GetCapabilities{ServerID: id}, askTimeout)
	if err != nil {
		return failure(err, map[string]any{"server_id": id}), nil
	}
	c := res.(*actors.Capabilities)
	return success(map[string]any{
		"server_id": id, "name": c.Server.Name, "status": "success", "tools": c.Tools,
		"gateway_tools": b.gatewayNames(id),
		"resources":     c.Resources, "prompts": c.Prompts, "server_status": c.Server.Status,
		"protocol_version": c.Info.ProtocolVersion,
		"server_info":      map[string]any{"name": c.Info.ServerName, "version": c.Info.ServerVersion},
	}), nil
}

func serverIDArg(req mcp.CallToolRequest) (string, error) {
	a, err := parseArgs(req, "server_id")
	if err != nil {
		return "", err
	}
	return a.str("server_id", true)
}

func (b *Bridge) stopServer(_ context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	id, err := serverIDArg(req)
	if err != nil {
		return failure(err, nil), nil
	}
	if _, err := b.sys.Ask(&actors.StopServer{ServerID: id}, askTimeout); err != nil {
		return failure(err, map[string]any{"server_id": id}), nil
	}
	return success(map[string]any{"server_id": id, "status": "stopped and removed",
		"message": "Server " + id + " stopped; its process was reaped."}), nil
}

func (b *Bridge) restartServer(_ context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	id, err := serverIDArg(req)
	if err != nil {
		return failure(err, nil), nil
	}
	// The old process may take the whole stop ladder to go.
	res, err := b.sys.Ask(&actors.RestartServer{ServerID: id}, b.createTimeout()+2*time.Second)
	if err != nil {
		return failure(err, map[string]any{"server_id": id}), nil
	}
	sc := res.(*actors.ServerCreated)
	body := createdBody(sc.Server, sc.Tools, false)
	body["status"] = "restarted"
	body["message"] = fmt.Sprintf("Server %s restarted by request; new pid %d, %d tools.", id, sc.Server.PID, len(sc.Tools))
	return success(body), nil
}

func (b *Bridge) getOrCreatePooled(_ context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	a, err := parseArgs(req, "template", "use_pooling")
	if err != nil {
		return failure(err, nil), nil
	}
	tmpl, err := a.str("template", true)
	if err != nil {
		return failure(err, nil), nil
	}
	pooling, err := a.boolean("use_pooling", true)
	if err != nil {
		return failure(err, nil), nil
	}
	if !pooling {
		res, err := b.sys.Ask(&actors.CreateServer{Request: actors.CreateRequest{Name: tmpl, Template: tmpl}}, b.createTimeout())
		if err != nil {
			return failure(err, map[string]any{"template": tmpl}), nil
		}
		sc := res.(*actors.ServerCreated)
		return success(createdBody(sc.Server, sc.Tools, false)), nil
	}
	res, err := b.sys.Ask(&actors.AcquirePooled{Template: tmpl}, b.createTimeout()+time.Second)
	if err != nil {
		return failure(err, map[string]any{"template": tmpl}), nil
	}
	pa := res.(*actors.PoolAcquired)
	return success(createdBody(pa.Server, pa.Tools, pa.Reused)), nil
}

func (b *Bridge) healthCheck(_ context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	id, err := serverIDArg(req)
	if err != nil {
		return failure(err, nil), nil
	}
	res, err := b.sys.Ask(&actors.HealthCheck{ServerID: id}, askTimeout)
	if err != nil {
		return failure(err, map[string]any{"server_id": id}), nil
	}
	return success(res.(*actors.Health)), nil
}

func (b *Bridge) getEventHistory(_ context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	a, err := parseArgs(req, "limit", "server_id", "event_type", "since", "after_id")
	if err != nil {
		return failure(err, nil), nil
	}
	q := &actors.QueryEvents{}
	since, err := a.str("since", false)
	if err != nil {
		return failure(err, nil), nil
	}
	if since != "" {
		if q.Since, err = actors.ParseSince(since, time.Now()); err != nil {
			return failure(fmt.Errorf("argument \"since\": %w", err), nil), nil
		}
	}
	after, err := a.integer("after_id", -1, 0, math.MaxInt)
	if err != nil {
		return failure(err, nil), nil
	}
	if after >= 0 {
		q.AfterID, q.Oldest = uint64(after), true
	}
	if q.Limit, err = a.integer("limit", 20, 1, 1000); err != nil {
		return failure(err, nil), nil
	}
	if q.ServerID, err = a.str("server_id", false); err != nil {
		return failure(err, nil), nil
	}
	if q.Type, err = a.str("event_type", false); err != nil {
		return failure(err, nil), nil
	}
	res, err := b.sys.Ask(q, askTimeout)
	if err != nil {
		return failure(err, nil), nil
	}
	page := res.(*actors.EventPage)
	return success(map[string]any{"events": page.Events, "total_in_history": page.Total,
		"returned": len(page.Events), "current_run": page.Run, "newest_id": page.Newest}), nil
}

func (b *Bridge) getSupervisionTree(_ context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	if _, err := parseArgs(req); err != nil {
		return failure(err, nil), nil
	}
	res, err := b.sys.Ask(&actors.DescribeTree{}, askTimeout)
	if err != nil {
		return failure(err, nil), nil
	}
	return success(map[string]any{"tree": res, "status": "success"}), nil
}

// gatewayNames maps each tool of a server to the name a client of the
// gateway calls it by (docs/gateway.md); empty when children's tools are
// not listed.
func (b *Bridge) gatewayNames(id string) map[string]string {
	names := map[string]string{}
	if !b.gateway {
		return names
	}
	reserved := map[string]bool{}
	for name := range b.srv.ListTools() {
		reserved[name] = true
	}
	for _, t := range gateway.Tools(b.sys.Directory(), reserved) {
		if t.Ref.ServerID == id {
			names[t.Ref.Name] = t.Name
		}
	}
	return names
}
