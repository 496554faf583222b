package actors

import (
	"github.com/asynkron/protoactor-go/actor"
	"github.com/rs/zerolog"

	"github.com/metamcp/metamcp/actors/eventstore"
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
	EventServerRestored    = "server_restored"       // started again from the session's last run
	EventRestoreFailed     = "server_restore_failed" // could not be; listed as restore_failed
)

// Event is one entry of the history. Run is the run of metamcp that
// recorded it: events of earlier runs come from the event store.
type Event = eventstore.Event

// eventsActor records the event history: each event is numbered and queued
// for the event store (actors/eventstore), which writes it to disk off this
// actor, and kept in a ring of the newest events. The ring answers for the
// recent past (and holds what the store has not written yet, or dropped);
// the store answers for the rest (System.Ask merges the two).
//
// Started: nothing to do; the store is open before the tree starts.
// Restarting: the ring starts empty; ids go on from the store. Stopping:
// nothing to release; System.Shutdown closes the store after the tree, so
// the last events are written.
type eventsActor struct {
	ring   []Event
	next   int
	size   int
	lastID uint64
	store  *eventstore.Store
	log    zerolog.Logger
	notify func(Event) // Options.OnEvent, or nil
}

func newEventsActor(capacity int, store *eventstore.Store, log zerolog.Logger, notify func(Event)) actor.Actor {
	// lastID starts at the store's: a history of earlier runs is "newest"
	// up to there before this run records anything.
	return &eventsActor{ring: make([]Event, capacity), store: store, log: log, notify: notify,
		lastID: store.Stats().LastID}
}

func (a *eventsActor) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *publish:
		a.record(m.Event)
	case *recentEvents:
		respond(ctx, a.recent(m))
	case *describe:
		st := a.store.Stats()
		respond(ctx, &TreeNode{Name: "events", Kind: "events", Actor: ctx.Self().Id, State: "running",
			Detail: map[string]any{"held": a.size, "capacity": len(a.ring), "last_id": a.lastID,
				"run": st.Run, "stored": st.Stored, "queued": st.Queued, "dropped_from_disk": st.Dropped,
				"store": st.Path}})
	}
}

// record numbers the event and queues it for the store (Append does not
// block), then keeps it in the ring.
func (a *eventsActor) record(e Event) {
	e, _ = a.store.Append(e) // a drop is counted and logged by the store; the ring keeps the event
	a.lastID = e.ID
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

// recent walks the ring from the newest event back, keeping matches up to
// the limit, and returns them oldest first, with the id below which the
// store must be asked: the oldest id the ring holds (the ring holds every
// id from there up).
func (a *eventsActor) recent(m *recentEvents) *recentPage {
	if m.Query.Oldest {
		return a.recentForward(&m.Query)
	}
	q := &m.Query
	out := make([]Event, 0, min(q.Limit, a.size))
	page := &recentPage{before: a.store.Stats().LastID + 1}
	for i := 0; i < a.size && len(out) < q.Limit; i++ {
		e := a.ring[(a.next-1-i+len(a.ring))%len(a.ring)]
		page.before = e.ID
		if e.ID <= q.AfterID || (!q.Since.IsZero() && e.Timestamp.Before(q.Since)) {
			page.done = true // older from here on
			break
		}
		if (q.ServerID == "" || e.ServerID == q.ServerID) && (q.Type == "" || e.Event == q.Type) {
			out = append(out, e)
		}
	}
	if len(out) == q.Limit {
		page.done = true
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	page.events = out
	page.newest = a.lastID
	return page
}

// recentForward answers an Oldest query from the ring: the oldest matches
// above AfterID it holds, and the id below which the store must be asked
// (done when there is nothing below to ask for).
func (a *eventsActor) recentForward(q *QueryEvents) *recentPage {
	page := &recentPage{before: a.store.Stats().LastID + 1, newest: a.lastID}
	oldest := (a.next - a.size + len(a.ring)) % len(a.ring)
	if a.size > 0 {
		page.before = a.ring[oldest].ID
	}
	page.done = q.AfterID+1 >= page.before
	for i := 0; i < a.size && len(page.events) < q.Limit; i++ {
		e := a.ring[(oldest+i)%len(a.ring)]
		if e.ID <= q.AfterID || (!q.Since.IsZero() && e.Timestamp.Before(q.Since)) {
			continue
		}
		if (q.ServerID == "" || e.ServerID == q.ServerID) && (q.Type == "" || e.Event == q.Type) {
			page.events = append(page.events, e)
		}
	}
	return page
}

// respond answers the sender of the current message, if there is one.
func respond(ctx actor.Context, reply any) {
	if ctx.Sender() != nil {
		ctx.Respond(reply)
	}
}
