package actors

import (
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/rs/zerolog"
)

// Event types recorded in the history.
const (
	EventServerCreated     = "server_created"
	EventServerStarted     = "server_started"
	EventServerStartFailed = "server_start_failed"
	EventServerCrashed     = "server_crashed"
	EventCrashLoop         = "server_crash_loop"
	EventServerRestarted   = "server_restarted"
	EventRestartScheduled  = "restart_scheduled"
	EventServerStopped     = "server_stopped"
	EventServerExited      = "server_exited"     // ended; its restart policy does not restart it
	EventRestartRequested  = "restart_requested" // restart_server
	EventMemoryExceeded    = "memory_limit_exceeded"
	EventOrphansSwept      = "orphans_swept" // processes of an earlier run, killed at start-up
	EventToolExecuted      = "tool_executed"
	EventToolError         = "tool_error"
	EventToolTimeout       = "tool_timeout"
	EventToolsChanged      = "tools_changed"
	EventPoolAdded         = "pool_added"
	EventPoolReused        = "pool_reused"
	EventPoolEvicted       = "pool_evicted"
	EventSecurityViolation = "security_violation"
)

// Event is one entry of the history.
type Event struct {
	ID        uint64         `json:"id"`
	Timestamp time.Time      `json:"timestamp"`
	Event     string         `json:"event"`
	ServerID  string         `json:"server_id,omitempty"`
	Data      map[string]any `json:"data,omitempty"`
}

// eventsActor keeps the event history: a ring of the newest events.
//
// Started: nothing to do. Restarting and Stopping: nothing to release; the
// history is in memory and a restart of this actor starts it empty.
type eventsActor struct {
	ring   []Event
	next   int
	size   int
	lastID uint64
	log    zerolog.Logger
	notify func(Event) // Options.OnEvent, or nil
}

func newEventsActor(capacity int, log zerolog.Logger, notify func(Event)) actor.Actor {
	return &eventsActor{ring: make([]Event, capacity), log: log, notify: notify}
}

func (a *eventsActor) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *publish:
		a.record(m.Event)
	case *QueryEvents:
		respond(ctx, a.query(m))
	case *describe:
		respond(ctx, &TreeNode{Name: "events", Kind: "events", Actor: ctx.Self().Id, State: "running",
			Detail: map[string]any{"held": a.size, "capacity": len(a.ring), "last_id": a.lastID}})
	}
}

func (a *eventsActor) record(e Event) {
	a.lastID++
	e.ID = a.lastID
	if e.Timestamp.IsZero() {
		e.Timestamp = time.Now().UTC()
	}
	a.ring[a.next] = e
	a.next = (a.next + 1) % len(a.ring)
	if a.size < len(a.ring) {
		a.size++
	}
	a.log.Debug().Str("event", e.Event).Str("server_id", e.ServerID).Interface("data", e.Data).Msg("event")
	if a.notify != nil {
		a.notify(e)
	}
}

// defaultEventLimit is the page size of a query that gives none.
const defaultEventLimit = 100

// query walks from the newest event back, keeping matches up to the limit,
// and returns them oldest first.
func (a *eventsActor) query(q *QueryEvents) *EventPage {
	if q.Limit <= 0 {
		q.Limit = defaultEventLimit
	}
	out := make([]Event, 0, min(q.Limit, a.size))
	for i := 0; i < a.size && len(out) < q.Limit; i++ {
		e := a.ring[(a.next-1-i+len(a.ring))%len(a.ring)]
		if e.ID <= q.AfterID || (!q.Since.IsZero() && e.Timestamp.Before(q.Since)) {
			break // older from here on
		}
		if (q.ServerID == "" || e.ServerID == q.ServerID) && (q.Type == "" || e.Event == q.Type) {
			out = append(out, e)
		}
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return &EventPage{Events: out, Total: a.size}
}

// respond answers the sender of the current message, if there is one.
func respond(ctx actor.Context, reply any) {
	if ctx.Sender() != nil {
		ctx.Respond(reply)
	}
}
