package actors

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/metamcp/metamcp/actors/child"
	"github.com/metamcp/metamcp/actors/specstore"
	"github.com/metamcp/metamcp/config"
)

// Message is the closed set of messages metamcp's actors exchange. Requests
// from the front end are exported; the rest are internal. A request is
// answered with the reply type named in its comment, or with an error that
// wraps one of the sentinels in errors.go.
type Message interface{ metamcpMessage() }

// ---- Requests from the front end --------------------------------------

// CreateServer asks the root to start a server. Reply: *ServerCreated.
type CreateServer struct{ Request CreateRequest }

// CreateRequest is what create_server was given.
type CreateRequest struct {
	Name       string
	ServerType string // "python", "node", "executable"; with ScriptPath
	Template   string
	ScriptPath string
	Config     ServerConfig
	Pooled     bool
	// Configured: started from the configuration (start_servers), so not
	// recorded for restore; the configuration starts it on every run.
	Configured bool

	id string // a restored or configured server's own server_id; "" for a new one
}

// ConfiguredServer is the request that starts a template listed in
// start_servers: named after the template, under a server_id that is the
// same on every run (so are its gateway names and resource URIs).
func ConfiguredServer(template string) CreateRequest {
	sum := sha256.Sum256([]byte("start_servers\x00" + template))
	return CreateRequest{Name: template, Template: template, Configured: true,
		id: "srv_" + hex.EncodeToString(sum[:6])}
}

// ServerConfig is create_server's "config" argument.
type ServerConfig struct {
	TimeoutSeconds *int              `json:"timeout_seconds,omitempty"` // nil: the configured default
	MaxMemoryMB    *int              `json:"max_memory_mb,omitempty"`   // nil: the configured default
	Env            map[string]string `json:"env,omitempty"`
	Args           []string          `json:"args,omitempty"`
	Cwd            string            `json:"cwd,omitempty"`
	Restart        *RestartConfig    `json:"restart,omitempty"`
	// Tools filters the tools gateway mode lists; nil: the template's.
	Tools *config.ToolFilter `json:"tools,omitempty"`
}

// RestartConfig is create_server's "config.restart": this server's restart
// policy. Absent fields take the configured defaults (restart_* keys).
type RestartConfig struct {
	Policy           string   `json:"policy,omitempty"` // permanent, transient, temporary
	InitialBackoffMS *int     `json:"initial_backoff_ms,omitempty"`
	MaxBackoffMS     *int     `json:"max_backoff_ms,omitempty"`
	BackoffFactor    *float64 `json:"backoff_factor,omitempty"`
	MaxRestarts      *int     `json:"max_restarts,omitempty"`
	WindowSeconds    *int     `json:"window_seconds,omitempty"`
	StableSeconds    *int     `json:"stable_seconds,omitempty"`
}

// CallTool calls a tool on a server. Reply: *ToolResult. Ctx, when set, is
// the caller's context: its cancellation cancels the call at the child.
type CallTool struct {
	ServerID  string
	Tool      string
	Arguments json.RawMessage
	// Params, when set, are the whole params of the child's tools/call as
	// the gateway relays them (name, arguments, _meta); Tool is then for
	// the events only.
	Params   json.RawMessage
	Deadline time.Time // zero: the server's timeout from now
	Ctx      context.Context
	arrived  time.Time // when the root received it
}

// ListServers asks for every server. Reply: *ServerList.
type ListServers struct{}

// GetCapabilities asks what a server offers. Reply: *Capabilities.
type GetCapabilities struct{ ServerID string }

// StopServer stops and removes a server. Reply: *ServerStopped.
type StopServer struct{ ServerID string }

// RestartServer restarts a server by hand: one in crash_loop or stopped by
// its policy comes back, a running one is stopped and started again. Its
// server_id stays. Reply: *ServerCreated, when the new child is ready.
type RestartServer struct{ ServerID string }

// HealthCheck probes a server with an MCP ping. Reply: *Health. With
// Recent set (health_check_all uses RecentExchange), a server whose child
// answered a call or a ping within Recent is reported from that answer
// instead (Health.PingAgeMS says how old it is), without a new ping; zero:
// always ping.
type HealthCheck struct {
	ServerID string
	Recent   time.Duration
}

// AcquirePooled asks the pool for a server of a template. Reply: *PoolAcquired.
type AcquirePooled struct{ Template string }

// QueryEvents reads the event history. Reply: *EventPage.
type QueryEvents struct {
	Limit    int
	ServerID string
	Type     string
	AfterID  uint64    // only events with a larger id (to follow the history)
	Since    time.Time // only events at or after this time
	// Oldest asks for the oldest Limit matches above AfterID instead of
	// the newest: a follower pages forward with it and misses nothing.
	Oldest bool
}

// ParseSince reads a QueryEvents.Since as people give it: a duration back
// from now ("10m", "2h") or an RFC 3339 time.
func ParseSince(s string, now time.Time) (time.Time, error) {
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("since: want a duration (10m) or an RFC 3339 time, got %q", s)
}

// DescribeTree asks the supervision tree to describe itself: the root asks
// every actor under it, and each answers with its own state. Reply:
// *TreeNode, the root.
type DescribeTree struct{}

// ---- Replies ------------------------------------------------------------

// ServerCreated answers CreateServer.
type ServerCreated struct {
	Server ServerInfo
	Tools  []string
	stats  *serverStats
}

// ToolResult answers CallTool: the child's CallToolResult as it came.
type ToolResult struct {
	Result   json.RawMessage
	IsError  bool
	Duration time.Duration
}

// ServerList answers ListServers, ordered by creation time.
type ServerList struct{ Servers []ServerInfo }

// Capabilities answers GetCapabilities.
type Capabilities struct {
	Server    ServerInfo
	Tools     []child.Tool
	Resources []string
	Prompts   []string
	Info      *child.Info
}

// ServerStopped answers StopServer.
type ServerStopped struct{ ServerID string }

// PoolAcquired answers AcquirePooled.
type PoolAcquired struct {
	Server ServerInfo
	Tools  []string
	Reused bool
}

// EventPage answers QueryEvents: the newest matching events, oldest first,
// from this run and earlier ones (Event.Run tells them apart).
type EventPage struct {
	Events []Event
	Total  int    // events in the history: on disk, and queued for it
	Run    uint64 // the current run (Event.Run of what this run records)
	// Newest is the newest id in the history when the query ran: with
	// Oldest, a page shorter than Limit means nothing matched up to it, so
	// a follower may continue after it.
	Newest uint64
}

// ---- Internal -----------------------------------------------------------

type (
	// publish records an event in the history (to the event-stream actor).
	publish struct{ Event Event }
	// recentEvents asks the event-stream actor for the matches its ring
	// holds. Reply: *recentPage.
	recentEvents struct{ Query QueryEvents }
	// recentPage answers recentEvents: matches, oldest first; done when
	// the ring answered the whole query; else the store is to be asked
	// for ids below before.
	recentPage struct {
		events []Event
		before uint64
		done   bool
		newest uint64 // the newest id handed out
	}
	// whoAreYou asks the root for the PIDs of its fixed children.
	whoAreYou struct{}
	// statusUpdate tells the root what a server actor is doing.
	statusUpdate struct {
		conn  *child.Conn // the child, for the gateway's relay path
		Actor *actor.PID  // the server actor that sends it
		ID    string
		State string
		PID   int
		Group int    // process group of the child (its shim's pid, with a shim)
		Gen   uint64 // the server actor's connection
		Since time.Time
		Info  *child.Info
	}
	// unsent gives a server actor back a call that never reached its
	// child (connection gen had exited).
	unsent struct {
		gen  uint64
		call waitingCall
	}
	// childReady reports a finished handshake to the server actor.
	childReady struct {
		gen  uint64
		info *child.Info
	}
	// childStartFailed reports a failed start to the server actor.
	childStartFailed struct {
		gen uint64
		err error
	}
	// childExited reports that the process ended.
	childExited struct {
		gen  uint64
		exit child.Exit
	}
	// probe asks a server actor for live health figures.
	probe struct{}
	// serverRemoved tells the pool that a server is gone.
	serverRemoved struct{ ID string }
	// poolSweep asks the pool to evict idle servers.
	poolSweep struct{}
	// toolsChanged reports notifications/tools/list_changed from a child.
	toolsChanged struct{ gen uint64 }
	// toolsListed carries a refreshed tool list back to the server actor.
	toolsListed struct {
		gen   uint64
		tools []child.Tool
	}
	// describe asks one actor for its TreeNode.
	describe struct{}
	// sample asks the monitor actor for a scan of the process table.
	sample struct{}
	// usageReport carries a scan to the root.
	usageReport struct{ usage child.Usage }
	// overLimit tells a server actor its child's group uses more memory
	// than max_memory_mb: it kills the child.
	overLimit struct {
		gen        uint64
		rss, limit int64
	}
	// restoreServers asks the root to start again the servers of the
	// session's last run. Reply (once they are listed, and the pool told of
	// the pooled ones): true.
	restoreServers struct{ records []specstore.Loaded }
	// restoreGo tells the root that children may be forked now (the
	// guardian runs): the restored servers start.
	restoreGo struct{}
	// poolRestoring tells the pool that a pooled server of template is
	// being restored: acquirers of that template wait for it instead of
	// starting another.
	poolRestoring struct{ template string }
	// adoptPooled gives the pool a restored pooled server (announced by a
	// poolRestoring when pending).
	adoptPooled struct {
		template string
		created  *ServerCreated
		pending  bool
	}
	// poolRestoreEnded: an announced restore ended without a server.
	poolRestoreEnded struct{ template string }
	// expireWaiting asks an actor to fail the calls whose deadline passed
	// while they waited for a server to be ready.
	expireWaiting struct{ ID string }
)

func (CreateServer) metamcpMessage()     {}
func (CallTool) metamcpMessage()         {}
func (ListServers) metamcpMessage()      {}
func (GetCapabilities) metamcpMessage()  {}
func (StopServer) metamcpMessage()       {}
func (RestartServer) metamcpMessage()    {}
func (HealthCheck) metamcpMessage()      {}
func (AcquirePooled) metamcpMessage()    {}
func (QueryEvents) metamcpMessage()      {}
func (DescribeTree) metamcpMessage()     {}
func (describe) metamcpMessage()         {}
func (publish) metamcpMessage()          {}
func (whoAreYou) metamcpMessage()        {}
func (recentEvents) metamcpMessage()     {}
func (statusUpdate) metamcpMessage()     {}
func (unsent) metamcpMessage()           {}
func (childReady) metamcpMessage()       {}
func (childStartFailed) metamcpMessage() {}
func (childExited) metamcpMessage()      {}
func (probe) metamcpMessage()            {}
func (serverRemoved) metamcpMessage()    {}
func (poolSweep) metamcpMessage()        {}
func (toolsChanged) metamcpMessage()     {}
func (toolsListed) metamcpMessage()      {}
func (expireWaiting) metamcpMessage()    {}
func (sample) metamcpMessage()           {}
func (usageReport) metamcpMessage()      {}
func (overLimit) metamcpMessage()        {}
func (restoreServers) metamcpMessage()   {}
func (restoreGo) metamcpMessage()        {}
func (adoptPooled) metamcpMessage()      {}
func (poolRestoring) metamcpMessage()    {}
func (poolRestoreEnded) metamcpMessage() {}
