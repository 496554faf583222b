package mcpbridge

import (
	"fmt"
	"strings"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/metamcp/metamcp/actors"
)

type tool struct {
	def    mcp.Tool
	handle server.ToolHandlerFunc
}

// tools is the table of metamcp's own tools.
func (b *Bridge) tools() []tool {
	names := b.sys.Catalog().Names()
	caps := b.sys.Catalog().Capabilities()
	return []tool{
		{mcp.NewTool("create_server",
			mcp.WithDescription("Start a child MCP server from a template or a script and wait until it is ready. "+
				"Returns its server_id and tool names. Templates: "+strings.Join(names, ", ")+"."),
			mcp.WithString("name", mcp.Required(), mcp.Description("A name for the server, for you to recognise it.")),
			mcp.WithString("template", mcp.Description("Template to start."), mcp.Enum(names...)),
			mcp.WithString("script_path", mcp.Description("Path of a script that is an MCP server on stdio (instead of a template).")),
			mcp.WithString("server_type", mcp.Description("How to run script_path: python (python3), node, or executable. Default: from the file extension."),
				mcp.Enum("python", "node", "executable")),
			mcp.WithObject("config", mcp.Description("Optional: timeout_seconds (per call), max_memory_mb, env (object), args (array), cwd, restart, tools."),
				mcp.Properties(map[string]any{
					"timeout_seconds": map[string]any{"type": "integer", "minimum": 1, "maximum": 3600},
					"max_memory_mb":   map[string]any{"type": "integer", "minimum": 16},
					"env":             map[string]any{"type": "object", "additionalProperties": map[string]any{"type": "string"}},
					"args":            map[string]any{"type": "array", "items": map[string]any{"type": "string"}},
					"cwd":             map[string]any{"type": "string"},
					"restart": map[string]any{"type": "object", "additionalProperties": false,
						"description": "Restart policy of this server; absent fields take the configured defaults.",
						"properties": map[string]any{
							"policy":             map[string]any{"type": "string", "enum": []string{"permanent", "transient", "temporary"}},
							"initial_backoff_ms": map[string]any{"type": "integer", "minimum": 1, "maximum": 600000},
							"max_backoff_ms":     map[string]any{"type": "integer", "minimum": 1, "maximum": 3600000},
							"backoff_factor":     map[string]any{"type": "number", "minimum": 1, "maximum": 10},
							"max_restarts":       map[string]any{"type": "integer", "minimum": 1, "maximum": 1000},
							"window_seconds":     map[string]any{"type": "integer", "minimum": 1, "maximum": 86400},
							"stable_seconds":     map[string]any{"type": "integer", "minimum": 1, "maximum": 86400},
						}},
					"tools": map[string]any{"type": "object", "additionalProperties": false,
						"description": "Which of this server's tools metamcp lists as its own (gateway mode): glob patterns on the tool names; deny wins; absent: the template's filter.",
						"properties": map[string]any{
							"allow": map[string]any{"type": "array", "items": map[string]any{"type": "string", "minLength": 1}},
							"deny":  map[string]any{"type": "array", "items": map[string]any{"type": "string", "minLength": 1}},
						}},
				})),
		), b.createServer},
		{mcp.NewTool("execute_on_server",
			mcp.WithDescription("Call a tool on a running server. Returns the server's result as it came "+
				"(status success, tool_error when the tool reported an error, or error when the call could not complete)."),
			mcp.WithString("server_id", mcp.Required(), mcp.Description("The server_id from create_server or list_servers.")),
			mcp.WithString("tool_name", mcp.Required(), mcp.Description("Name of the tool, as get_server_capabilities lists it.")),
			mcp.WithObject("arguments", mcp.Description("The tool's arguments, matching its inputSchema.")),
		), b.executeOnServer},
		{mcp.NewTool("orchestrate_task",
			mcp.WithDescription("Start (or reuse from the pool) one server per capability needed for a task, concurrently. "+
				"Known capabilities: "+strings.Join(caps, ", ")+"."),
			mcp.WithString("task_description", mcp.Required(), mcp.Description("What the task is.")),
			mcp.WithArray("required_capabilities", mcp.Required(), mcp.WithStringItems(),
				mcp.Description("Capabilities needed, e.g. [\"web_scraping\", \"data_analysis\"].")),
		), b.orchestrateTask},
		{mcp.NewTool("list_servers",
			mcp.WithDescription("List every server with its state, pid, restarts and uptime."),
			mcp.WithReadOnlyHintAnnotation(true),
		), b.listServers},
		{mcp.NewTool("get_server_capabilities",
			mcp.WithDescription("The tools (with full input schemas), resources and prompts of a server."),
			mcp.WithString("server_id", mcp.Required()),
			mcp.WithReadOnlyHintAnnotation(true),
		), b.getServerCapabilities},
		{mcp.NewTool("stop_server",
			mcp.WithDescription("Stop a server and remove it. Its process is stopped and reaped."),
			mcp.WithString("server_id", mcp.Required()),
			mcp.WithDestructiveHintAnnotation(true),
		), b.stopServer},
		{mcp.NewTool("restart_server",
			mcp.WithDescription("Restart a server under the same server_id: one in crash_loop or stopped by its restart policy comes back; "+
				"a running one is stopped and started again. Answers when the new process is ready."),
			mcp.WithString("server_id", mcp.Required()),
		), b.restartServer},
		{mcp.NewTool("stop_all_servers",
			mcp.WithDescription("Stop and remove every server."),
			mcp.WithDestructiveHintAnnotation(true),
		), b.stopAllServers},
		{mcp.NewTool("get_or_create_pooled_server",
			mcp.WithDescription("Get a running server of a template from the pool, or start one. Pooled servers are shared and stopped after being idle."),
			mcp.WithString("template", mcp.Required(), mcp.Enum(names...)),
			mcp.WithBoolean("use_pooling", mcp.DefaultBool(true), mcp.Description("false: always start a new, unpooled server.")),
		), b.getOrCreatePooled},
		{mcp.NewTool("health_check",
			mcp.WithDescription("Probe a server: an MCP ping, resident memory, calls, errors, uptime."),
			mcp.WithString("server_id", mcp.Required()),
			mcp.WithReadOnlyHintAnnotation(true),
		), b.healthCheck},
		{mcp.NewTool("health_check_all",
			mcp.WithDescription(fmt.Sprintf("Health of every server. A server that answered a call or a ping in the last %s "+
				"is reported from that answer (ping_age_ms says how old); the others are pinged, in parallel.", actors.RecentExchange)),
			mcp.WithBoolean("ping_all", mcp.DefaultBool(false), mcp.Description("true: ping every running server now.")),
			mcp.WithReadOnlyHintAnnotation(true),
		), b.healthCheckAll},
		{mcp.NewTool("get_event_history",
			mcp.WithDescription("Lifecycle events (created, started, crashed, restarted, stopped, tool calls, pool, security), newest page, oldest first; "+
				"the history persists across restarts of metamcp, each event marked with the run that recorded it (current_run is this one)."),
			mcp.WithNumber("limit", mcp.DefaultNumber(20), mcp.Min(1), mcp.Max(1000)),
			mcp.WithString("server_id", mcp.Description("Only events of this server.")),
			mcp.WithString("event_type", mcp.Description("Only events of this type, e.g. server_crashed.")),
			mcp.WithString("since", mcp.Description("Only events since a duration ago (\"10m\", \"2h\") or an RFC 3339 time.")),
			mcp.WithNumber("after_id", mcp.Min(0), mcp.Description("Page forward: the oldest events with a larger id "+
				"(give the last id you have; newest_id says how far the history goes).")),
			mcp.WithReadOnlyHintAnnotation(true),
		), b.getEventHistory},
		{mcp.NewTool("get_supervision_tree",
			mcp.WithDescription("The live supervision tree, as each actor describes itself: the root supervisor, "+
				"the event stream, the pool, the monitor and one node per server (state, pid, restarts, in-flight calls, last exit)."),
			mcp.WithReadOnlyHintAnnotation(true),
		), b.getSupervisionTree},
	}
}
