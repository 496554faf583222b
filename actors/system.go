package actors

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/rs/zerolog"

	"github.com/metamcp/metamcp/actors/child"
	"github.com/metamcp/metamcp/actors/eventstore"
	"github.com/metamcp/metamcp/actors/specstore"
	"github.com/metamcp/metamcp/config"
	"github.com/metamcp/metamcp/templates"
)

// Options build a System.
type Options struct {
	Config  *config.Config
	Catalog *templates.Catalog
	Log     zerolog.Logger
	// Executable runs the built-in templates ("metamcp template run NAME")
	// and the process shim ("metamcp shim ..."). Default: this process's
	// own executable.
	Executable string
	// Policy overrides fields of the configured default restart policy
	// (the restart_* keys); tests use it for short backoffs.
	Policy RestartPolicy
	// Now is the pool's clock (default time.Now); tests inject their own.
	Now func() time.Time
	// NoSweep turns off the pool's timed idle sweep (tests send poolSweep).
	NoSweep bool
	// OnEvent, when set, sees every event as it is recorded (metrics). It
	// is called from the event-stream actor and must not block.
	OnEvent func(Event)
	// Session names the state this instance uses: the event store is
	// Config.SessionDir(Session)/events.db, the server records are beside
	// it (specstore). Default Config.Session.
	Session string
	// DeferStartup, when positive, lets Start return before starting the
	// guardian and sweeping orphans of an earlier metamcp: they run at
	// StartBackground, before the first child is forked, or this long
	// after Start, whichever comes first (see startup). Zero: Start does
	// both before it returns.
	DeferStartup time.Duration

	// ChildCapabilities are the client capabilities metamcp declares to
	// each child in initialize (default {}): a gateway front end declares
	// what it forwards (sampling, elicitation, roots).
	ChildCapabilities json.RawMessage

	storeOptions func(*eventstore.Options) // tests: adjust the event store's options
}

// deps is what every actor of one System shares. Written before the actors
// that read it are spawned, immutable after.
type deps struct {
	cfg      *config.Config
	log      zerolog.Logger
	resolver *resolver
	root     *actor.RootContext
	events   *actor.PID
	now      func() time.Time
	noSweep  bool
	shim     string // runs each child under "shim" (process_shim on), or ""
	owner    string // this instance's METAMCP_OWNER mark, or ""
	onEvent  func(Event)
	store    *eventstore.Store
	specs    *specstore.Store // the servers to restore in the next run
	startup  *startup         // server actors run its begin before forking a child
	dir      directory        // the gateway's snapshot of the servers (directory.go)
	clients  clientsHolder    // who answers the children's requests (relay.go)
	// childCaps are the client capabilities declared to every child.
	childCaps json.RawMessage
}

// reply sends a message to a requester from outside an actor context.
func (d *deps) reply(to *actor.PID, msg any) {
	if to != nil {
		d.root.Send(to, msg)
	}
}

// System is a running supervision tree. Its methods are safe for concurrent
// use.
type System struct {
	as      *actor.ActorSystem
	root    *actor.PID
	pool    *actor.PID
	events  *actor.PID
	deps    *deps
	closing atomic.Bool // Shutdown has begun: no more round trips to the root
}

// Start opens the session's event store, builds the actor system and spawns
// the root supervisor, which spawns the event-stream and pool actors. It
// fails, starting nothing, when another instance holds the session's store
// (eventstore.ErrLocked).
func Start(o Options) (*System, error) {
	if o.Executable == "" {
		exe, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("finding own executable: %w", err)
		}
		o.Executable = exe
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Session == "" {
		o.Session = o.Config.Session
	}
	// The session's state opens while the actor system is built (each costs
	// milliseconds of a cold start); nothing is spawned before both are done.
	state := make(chan sessionState, 1)
	go func() { state <- openSession(o) }()
	plog := o.Log.With().Str("lib", "protoactor").Logger()
	as := actor.NewActorSystem(
		actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger {
			return slog.New(zerolog.NewSlogHandler(plog))
		}),
		actor.WithDeveloperSupervisionLogging(false), // it prints to stdout
	)
	st := <-state
	if st.err != nil { // a second instance of the session stops here
		as.Shutdown()
		return nil, st.err
	}
	store, specs, records := st.store, st.specs, st.records
	policy := policyFromConfig(o.Config).over(o.Policy).withDefaults()
	d := &deps{cfg: o.Config, log: o.Log, root: as.Root, onEvent: o.OnEvent, now: o.Now, noSweep: o.NoSweep,
		resolver: &resolver{cfg: o.Config, catalog: o.Catalog, self: o.Executable, policy: policy}, store: store,
		specs: specs, childCaps: o.ChildCapabilities}
	d.owner = child.NewOwnerMark()
	d.startup = &startup{exe: o.Executable, owner: d.owner, log: o.Log, root: as.Root, swept: make(chan struct{})}
	if shimOn(o.Config.ProcessShim) {
		d.shim = o.Executable
	}
	root, err := as.Root.SpawnNamed(actor.PropsFromProducer(func() actor.Actor { return newRootActor(d) }), "root")
	if err != nil {
		as.Shutdown()
		_, _ = store.Close(), specs.Close()
		return nil, fmt.Errorf("spawning root supervisor: %w", err)
	}
	res, err := as.Root.RequestFuture(root, &whoAreYou{}, 5*time.Second).Result()
	if err != nil {
		_ = as.Root.StopFuture(root).Wait()
		as.Shutdown()
		_, _ = store.Close(), specs.Close()
		return nil, fmt.Errorf("starting root supervisor: %w", err)
	}
	fixed := res.([2]*actor.PID)
	s := &System{as: as, root: root, events: fixed[0], pool: fixed[1], deps: d}
	d.startup.events = s.events
	if len(records) > 0 { // listed before Start returns; forked once the guardian runs
		if _, err := as.Root.RequestFuture(root, &restoreServers{records: records}, 5*time.Second).Result(); err != nil {
			o.Log.Error().Err(err).Msg("restoring the last run's servers")
		}
		d.startup.then = func() { as.Root.Send(root, &restoreGo{}) }
	}
	if o.DeferStartup > 0 {
		d.startup.deferFor(o.DeferStartup)
	} else {
		d.startup.begin()
	}
	if os.Getpid() == 1 && !shimOn(o.Config.ProcessShim) {
		o.Log.Warn().Msg("metamcp runs as PID 1: orphans of its children are re-parented to it and nothing reaps them; " +
			"run it under an init (docker --init, tini) or set process_shim to on")
	}
	return s, nil
}

// StartBackground starts what Options.DeferStartup left for later — the
// guardian and the sweep of orphans of an earlier metamcp — unless that
// has started already. It returns once the guardian runs: call it on a
// goroutine of its own where that wait matters.
func (s *System) StartBackground() { s.deps.startup.begin() }

// sessionState is what openSession opened.
type sessionState struct {
	store   *eventstore.Store
	specs   *specstore.Store
	records []specstore.Loaded
	err     error
}

// openSession opens the session's event store (first: it holds the
// session) and its server records.
func openSession(o Options) sessionState {
	store, err := openStore(o)
	if err != nil {
		return sessionState{err: err}
	}
	specs, records, err := openSpecs(o)
	if err != nil {
		_ = store.Close()
		return sessionState{err: err}
	}
	return sessionState{store: store, specs: specs, records: records}
}

// openStore opens the session's event store, sized so that the ring of
// event_history_size events always holds what the store has queued and not
// yet written, which queries rely on: at most the queue twice (the writer
// takes what is queued into the commit under way, and the queue fills again
// meanwhile) plus one batch, so a third of the ring each.
func openStore(o Options) (*eventstore.Store, error) {
	dir, err := o.Config.SessionDir(o.Session)
	if err != nil {
		return nil, err
	}
	ring := o.Config.EventHistorySize
	so := eventstore.Options{
		Path:           filepath.Join(dir, eventstore.FileName),
		Log:            o.Log.With().Str("component", "eventstore").Logger(),
		QueueSize:      max(1, min(4096, ring/3)),
		BatchSize:      max(1, min(256, ring/3)),
		RetentionCount: o.Config.EventRetentionCount,
		RetentionAge:   o.Config.EventRetention(),
	}
	if o.storeOptions != nil {
		o.storeOptions(&so)
	}
	store, err := eventstore.Open(so)
	if errors.Is(err, eventstore.ErrLocked) {
		return nil, fmt.Errorf("event history: %w", err)
	}
	if err != nil { // a full or read-only disk must not keep the client's servers from running
		o.Log.Error().Err(err).Msg("event history not kept on disk this run (in memory only); servers run as usual")
		return eventstore.OpenMemory(so, err), nil
	}
	return store, nil
}

// openSpecs opens the session's server records and, with restore_servers
// on, reads them; with it off, the records of the last run are dropped
// (this run's servers are recorded afresh).
func openSpecs(o Options) (*specstore.Store, []specstore.Loaded, error) {
	dir, err := o.Config.SessionDir(o.Session)
	if err != nil {
		return nil, nil, err
	}
	// A full or read-only disk: servers run, but are neither recorded nor restored.
	unavailable := func(err error) (*specstore.Store, []specstore.Loaded, error) {
		o.Log.Error().Err(err).Msg("server records unavailable: servers of the last run are not restored, and this run's will not be")
		return nil, nil, nil
	}
	specs, err := specstore.Open(dir, o.Log.With().Str("component", "specstore").Logger())
	if err != nil {
		return unavailable(err)
	}
	records, err := specs.Load()
	if err != nil {
		_ = specs.Close()
		return unavailable(err)
	}
	if o.Config.RestoreServers {
		return specs, records, nil
	}
	for _, l := range records {
		specs.Delete(l.ServerID)
	}
	if len(records) > 0 {
		o.Log.Info().Int("servers", len(records)).Msg("restore_servers is off: the last run's servers are not restored, and forgotten")
	}
	return specs, nil, nil
}

// shimOn reads process_shim: "auto" is on where there is no guardian
// (macOS), off where the guardian covers it (Linux).
func shimOn(v string) bool {
	switch v {
	case "on":
		return true
	case "off":
		return false
	}
	return runtime.GOOS == "darwin"
}

// Ask sends a request to the root supervisor (or, for AcquirePooled, to the
// pool; QueryEvents is answered by the event-stream actor and the event
// store, see queryEvents) and waits for the reply until timeout. An error
// reply is returned as the error. A CallTool with a
// Ctx is answered soon after that context ends, so no wait outlives its
// caller for long.
func (s *System) Ask(msg Message, timeout time.Duration) (any, error) {
	to := s.root
	switch m := msg.(type) {
	case *AcquirePooled:
		to = s.pool
	case *QueryEvents:
		return s.queryEvents(*m, timeout)
	}
	res, err := s.request(to, msg, timeout)
	switch msg.(type) {
	case *CreateServer, *AcquirePooled, *StopServer:
		if err != nil && !s.closing.Load() {
			// A failed create is forgotten when the root hears of it, which
			// can be after the requester hears: a round trip through the
			// root's mailbox puts the removal in the queue first. (Not once
			// the root is going: it would never answer.)
			_, _ = s.request(s.root, &whoAreYou{}, timeout)
		}
		if s.deps.specs != nil {
			s.deps.specs.Sync() // what the client hears of is on disk (a no-op when nothing is queued)
		}
	}
	return res, err
}

func (s *System) request(to *actor.PID, msg Message, timeout time.Duration) (any, error) {
	res, err := s.as.Root.RequestFuture(to, msg, timeout).Result()
	if errors.Is(err, actor.ErrTimeout) {
		return nil, fmt.Errorf("%w: no answer within %s", ErrCallTimeout, timeout)
	}
	if err != nil {
		return nil, err
	}
	if e, ok := res.(error); ok {
		return nil, e
	}
	return res, nil
}

// queryEvents answers QueryEvents: the event-stream actor's ring for the
// recent past, then — when the ring does not answer the whole query — the
// store, on the caller's goroutine, for the ids below what the ring holds.
// Together they are complete: the ring holds every id the store has not
// written yet.
func (s *System) queryEvents(q QueryEvents, timeout time.Duration) (any, error) {
	if q.Limit <= 0 {
		q.Limit = defaultEventLimit
	}
	res, err := s.request(s.events, &recentEvents{Query: q}, timeout)
	if err != nil {
		return nil, err
	}
	recent := res.(*recentPage)
	events := recent.events
	if q.Oldest && !recent.done { // the store's ids are all older than the ring's: they come first
		older, err := s.deps.store.Query(eventstore.Query{Oldest: true, Limit: q.Limit, ServerID: q.ServerID,
			Type: q.Type, AfterID: q.AfterID, Before: recent.before, Since: q.Since})
		if err != nil {
			return nil, fmt.Errorf("event history: %w", err)
		}
		events = append(older, events...)
		if len(events) > q.Limit {
			events = events[:q.Limit]
		}
	} else if !q.Oldest && !recent.done && recent.before > q.AfterID+1 {
		older, err := s.deps.store.Query(eventstore.Query{Limit: q.Limit - len(events), ServerID: q.ServerID,
			Type: q.Type, AfterID: q.AfterID, Before: recent.before, Since: q.Since})
		if err != nil {
			return nil, fmt.Errorf("event history: %w", err)
		}
		events = append(older, events...)
	}
	if events == nil {
		events = []Event{} // "events": [] on the wire, never null
	}
	st := s.deps.store.Stats()
	return &EventPage{Events: events, Total: int(st.Stored + st.Queued), Run: st.Run, Newest: recent.newest}, nil
}

// Catalog returns the templates this system can start.
func (s *System) Catalog() *templates.Catalog { return s.deps.resolver.catalog }

// Config returns the configuration the system runs with.
func (s *System) Config() *config.Config { return s.deps.cfg }

// Shutdown stops the whole tree: every server actor stops its process by
// the ladder, in parallel. It returns when all are stopped and reaped.
func (s *System) Shutdown() error {
	s.closing.Store(true)
	guardian := s.deps.startup.end()
	err := s.as.Root.StopFuture(s.root).Wait()
	s.as.Shutdown()
	if guardian != nil {
		_ = guardian.Stop()
	}
	storeErr := s.deps.store.Close() // after the tree: its last events are written
	if s.deps.specs != nil {
		_ = s.deps.specs.Close()
	}
	if err != nil {
		return fmt.Errorf("stopping root supervisor: %w", err)
	}
	return storeErr
}
