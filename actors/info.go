package actors

import (
	"sync/atomic"
	"time"

	"github.com/metamcp/metamcp/actors/child"
)

// Server states, as list_servers and health_check show them.
const (
	StateStarting  = "starting"
	StateRunning   = "running"
	StateBackoff   = "backoff"
	StateCrashLoop = "crash_loop"
	StateStopping  = "stopping"
	StateStopped   = "stopped" // ended, and its restart policy does not restart it
	// StateRestoreFailed: a server of the session's last run that could not
	// be started again (ServerInfo.Error says why).
	StateRestoreFailed = "restore_failed"

	stateCrashed = "crashed" // a failed server actor's own state, never listed
	stateFailed  = "failed"  // the first start failed: the server is unlisted at once
)

// ServerInfo is one row of list_servers.
type ServerInfo struct {
	ServerID      string      `json:"server_id"`
	Name          string      `json:"name"`
	Template      string      `json:"template"`
	Type          string      `json:"type"`
	Status        string      `json:"status"`
	PID           int         `json:"pid"`
	Restarts      int         `json:"restarts"`
	CreatedAt     time.Time   `json:"created_at"`
	UptimeSeconds float64     `json:"uptime_seconds"`
	Pooled        bool        `json:"pooled"`
	Command       string      `json:"command"`
	Args          []string    `json:"args"`
	ToolCount     int         `json:"tool_count"`
	InFlight      int64       `json:"in_flight"`
	RSSMB         *float64    `json:"rss_mb,omitempty"`      // the server's process group, at the last scan
	CPUPercent    *float64    `json:"cpu_percent,omitempty"` // of one core, between the last two scans
	NextRestartAt *time.Time  `json:"next_restart_at,omitempty"`
	LastExit      *child.Exit `json:"last_exit,omitempty"`
	Restored      bool        `json:"restored,omitempty"` // brought back from the session's last run
	Error         string      `json:"error,omitempty"`    // why a restore failed
}

// idle says whether a listed server has no process and none coming: it
// waits for restart_server or stop_server.
func idle(state string) bool {
	return state == StateCrashLoop || state == StateStopped || state == StateRestoreFailed
}

// Health answers HealthCheck.
type Health struct {
	ServerID      string     `json:"server_id"`
	Healthy       bool       `json:"healthy"`
	Status        string     `json:"status"`
	PID           int        `json:"pid"`
	UptimeSeconds float64    `json:"uptime_seconds"`
	IdleSeconds   float64    `json:"idle_seconds"`
	Restarts      int        `json:"restarts"`
	PingMS        *float64   `json:"ping_ms"`
	PingAgeMS     *float64   `json:"ping_age_ms,omitempty"` // ping_ms is from an earlier exchange, this long ago
	PingVia       string     `json:"ping_via,omitempty"`    // that exchange: "call" or "ping"
	RSSMB         *float64   `json:"rss_mb"`
	GroupRSSMB    *float64   `json:"group_rss_mb,omitempty"` // the server and what it started, at the last scan
	CPUPercent    *float64   `json:"cpu_percent,omitempty"`  // of one core, between the last two scans
	Processes     int        `json:"processes,omitempty"`    // in the server's process group, at the last scan
	InFlight      int64      `json:"in_flight"`
	CallsTotal    int64      `json:"calls_total"`
	ErrorsTotal   int64      `json:"errors_total"`
	TimeoutLimit  float64    `json:"timeout_limit"`
	MaxMemoryMB   int        `json:"max_memory_mb"`
	CreatedAt     time.Time  `json:"created_at"`
	LastActivity  time.Time  `json:"last_activity"`
	NextRestartAt *time.Time `json:"next_restart_at,omitempty"` // in backoff
	Error         string     `json:"error,omitempty"`
}

// serverStats are a server's counters. They outlive restarts of its actor
// and are written with atomics by the goroutines that run calls, so that
// the root and the pool can read them without asking the (possibly busy or
// suspended) server actor.
type serverStats struct {
	inFlight     atomic.Int64
	callsTotal   atomic.Int64
	errorsTotal  atomic.Int64
	lastActivity atomic.Int64 // unix nanoseconds
	everReady    atomic.Bool  // the child has completed a handshake at least once
	halted       atomic.Bool  // set by the root when it no longer restarts it (crash_loop, stopped)
	lastAnswer   atomic.Pointer[exchange]
}

// exchange is a request the child answered: a call (with a result or a
// JSON-RPC error) or a ping.
type exchange struct {
	at     time.Time     // when the answer arrived
	rtt    time.Duration // request sent → answer arrived
	via    string        // "call" or "ping"
	gen    uint64        // the server actor's connection to the child
	pid    int
	exited <-chan struct{} // closed once that child has exited (child.Conn.Reaped)
}

func (s *serverStats) touch(now time.Time) { s.lastActivity.Store(now.UnixNano()) }

// answered records an answer from the child; one that arrived earlier than
// the one recorded (calls end out of order) is dropped.
func (s *serverStats) answered(x *exchange) {
	for {
		old := s.lastAnswer.Load()
		if old != nil && (old.gen > x.gen || (old.gen == x.gen && old.at.After(x.at))) {
			return
		}
		if s.lastAnswer.CompareAndSwap(old, x) {
			return
		}
	}
}

// recentAnswer returns the child's last answer if it came through
// connection gen no longer than maxAge before now and that child has not
// exited since.
func (s *serverStats) recentAnswer(gen uint64, now time.Time, maxAge time.Duration) (*exchange, bool) {
	x := s.lastAnswer.Load()
	if x == nil || x.gen != gen || now.Sub(x.at) > maxAge {
		return nil, false
	}
	select {
	case <-x.exited:
		return nil, false
	default:
	}
	if !child.Alive(x.pid) { // dead and reaped, and the waiter has not said so yet
		return nil, false
	}
	return x, true
}

func (s *serverStats) lastActive() time.Time { return time.Unix(0, s.lastActivity.Load()) }
