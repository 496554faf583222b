package actors

import (
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/metamcp/metamcp/actors/child"
)

// rootActor is the root supervisor. Under it live the event-stream actor,
// the pool actor and one server actor per child MCP server.
//
// It keeps the registry of servers — a mirror of what each server actor
// reports, plus what supervision decides — so that list_servers and health
// checks answer at once even while a server actor is suspended for a
// restart. It routes requests to server actors by id, and it is the
// supervisor strategy for its children: a failed server actor is restarted
// after a jittered exponential backoff, and one that fails too often within
// the window is stopped and left listed in crash_loop.
//
// Started: spawns the event-stream and pool actors. Stopping: cancels
// pending restarts; protoactor then stops every child, and each server
// actor stops its process.
type rootActor struct {
	deps     *deps
	entries  map[string]*entry // by server id
	byActor  map[string]*entry // by actor id
	events   *actor.PID
	pool     *actor.PID
	monitor  *actor.PID
	stopping bool
	forkOK   bool // restoreGo has come: restored servers start at once
	dirDirty bool // the directory may be out of date (publishDirectory)
}

type entry struct {
	spec        Spec
	actor       *actor.PID
	stats       *serverStats
	state       string
	pid         int
	group       int    // process group of the child
	gen         uint64 // the server actor's current connection
	failedGen   uint64 // the newest connection that failed: its late updates are stale
	usage       groupUsage
	createdAt   time.Time
	startedAt   time.Time
	info        *child.Info
	conn        *child.Conn // the child of connection connGen, for the gateway's relay
	connGen     uint64
	restarts    int
	lastExit    *child.Exit
	nextRestart time.Time
	tracker     *restartTracker
	timer       *time.Timer
	stopWaiters []*actor.PID
	respawn     []*actor.PID   // restart_server requesters; non-nil while a restart by hand is under way
	held        waitList       // calls that arrived during a backoff
	restored    bool           // from the session's last run: a failed first start leaves it listed
	waitRestore bool           // restored, listed, and waiting for restoreGo to start
	poolPending bool           // restored pooled: the pool was told (poolRestoring) and waits for the outcome
	restoreWait []*actor.PID   // restart_server requesters of a restore under way
	pending     *CreateRequest // a restored server's request, until it has started once
	restoreErr  string         // why its restore failed
}

// hasActor says whether the entry's server actor is alive (not yet
// terminated).
func (r *rootActor) hasActor(e *entry) bool {
	if e.actor == nil {
		return false
	}
	_, ok := r.byActor[e.actor.Id]
	return ok
}

var _ actor.SupervisorStrategy = (*rootActor)(nil)

func newRootActor(d *deps) actor.Actor {
	return &rootActor{deps: d, entries: map[string]*entry{}, byActor: map[string]*entry{}}
}

func (r *rootActor) Receive(ctx actor.Context) {
	switch ctx.Message().(type) {
	case *CallTool, *ListServers, *GetCapabilities, *DescribeTree, *HealthCheck, *usageReport, *whoAreYou:
	default: // anything else may change what the directory shows
		r.dirDirty = true
		defer r.publishDirectory()
	}
	switch m := ctx.Message().(type) {
	case *actor.Started:
		r.spawnFixed(ctx)
	case *whoAreYou:
		ctx.Respond([2]*actor.PID{r.events, r.pool})
	case *CreateServer:
		r.create(ctx, m)
	case *restoreServers:
		r.restoreAll(ctx, m)
	case *restoreGo:
		r.restoreGo(ctx)
	case *CallTool:
		r.route(ctx, m)
	case *expireWaiting:
		if e, ok := r.entries[m.ID]; ok {
			e.held.expire(r.deps, ctx.Self(), e.spec.ID, func() error { return r.heldError(e) })
		}
	case *ListServers:
		respond(ctx, r.list())
	case *GetCapabilities:
		r.capabilities(ctx, m)
	case *StopServer:
		r.stop(ctx, m)
	case *RestartServer:
		r.restart(ctx, m)
	case *DescribeTree:
		r.describeTree(ctx)
	case *HealthCheck:
		r.health(ctx, m)
	case *statusUpdate:
		r.update(m)
	case *usageReport:
		r.usage(ctx, m)
	case *actor.Terminated:
		r.terminated(ctx, m)
	case *actor.Stopping:
		r.stopping = true
		for _, e := range r.entries {
			r.cancelRestart(e)
			e.held.failAll(r.deps, ErrShuttingDown)
		}
	}
}

func (r *rootActor) spawnFixed(ctx actor.Context) {
	size, log := r.deps.cfg.EventHistorySize, r.deps.log
	r.events, _ = ctx.SpawnNamed(actor.PropsFromProducer(func() actor.Actor {
		return newEventsActor(size, r.deps.store, log.With().Str("actor", "events").Logger(), r.deps.onEvent)
	}), "events")
	r.deps.events = r.events
	self := ctx.Self()
	r.pool, _ = ctx.SpawnNamed(actor.PropsFromProducer(func() actor.Actor {
		return newPoolActor(r.deps, self)
	}), "pool")
	every := time.Duration(r.deps.cfg.MemoryCheckIntervalMS) * time.Millisecond
	if every <= 0 {
		every = time.Second
	}
	r.monitor, _ = ctx.SpawnNamed(actor.PropsFromProducer(func() actor.Actor {
		return newMonitorActor(every, log.With().Str("actor", "monitor").Logger())
	}), "monitor")
}

func (r *rootActor) create(ctx actor.Context, m *CreateServer) {
	if r.stopping {
		respond(ctx, ErrShuttingDown)
		return
	}
	if _, dup := r.entries[m.Request.id]; dup && m.Request.Configured {
		respond(ctx, fmt.Errorf("%w: %s (%s) is running already", ErrBadRequest, m.Request.Name, m.Request.id))
		return
	}
	spec, err := r.deps.resolver.resolve(m.Request)
	if err != nil {
		if errors.Is(err, ErrCommandNotAllowed) || errors.Is(err, ErrPathNotAllowed) {
			r.publish(ctx, EventSecurityViolation, "", map[string]any{"error": err.Error(), "name": m.Request.Name})
		}
		respond(ctx, err)
		return
	}
	if max, live := r.deps.cfg.MaxConcurrentServers, r.live(); live >= max {
		respond(ctx, fmt.Errorf("%w: %d of %d servers are live; stop one (stop_server) or raise max_concurrent_servers",
			ErrTooManyServers, live, max))
		return
	}
	stats := &serverStats{}
	d := r.deps
	pid, err := ctx.SpawnNamed(actor.PropsFromProducer(func() actor.Actor {
		return newServerActor(spec, stats, d)
	}), spec.ID)
	if err != nil {
		respond(ctx, fmt.Errorf("spawning server actor: %w", err))
		return
	}
	e := &entry{spec: spec, actor: pid, stats: stats, state: StateStarting, createdAt: time.Now(),
		tracker: newRestartTracker(spec.Policy)}
	r.entries[spec.ID], r.byActor[pid.Id] = e, e
	if !m.Request.Configured {
		r.persist(m.Request, spec.ID, e.createdAt)
	}
	r.publish(ctx, EventServerCreated, spec.ID, map[string]any{"name": spec.Name, "template": spec.Template,
		"type": spec.Type, "command": spec.Command, "pooled": spec.Pooled})
	ctx.Forward(pid) // the server actor answers when its handshake is done
}

// route forwards a call to its server actor, which answers the caller.
// During a backoff the call is held here until the new child starts, or
// fails at its deadline saying when the next attempt is.
func (r *rootActor) route(ctx actor.Context, m *CallTool) {
	e, err := r.lookup(m.ServerID)
	if err != nil {
		respond(ctx, err)
		return
	}
	m.arrived = time.Now()
	if m.Deadline.IsZero() {
		m.Deadline = m.arrived.Add(e.spec.Timeout)
	}
	switch e.state {
	case StateStopping:
		respond(ctx, fmt.Errorf("%w: %s", ErrStopping, m.ServerID))
	case StateCrashLoop:
		respond(ctx, r.crashLoopError(e))
	case StateStopped:
		respond(ctx, r.notRunningError(e))
	case StateRestoreFailed:
		respond(ctx, r.restoreFailedError(e))
	case StateBackoff:
		e.held.add(r.deps, ctx.Self(), e.spec.ID, waitingCall{msg: m, sender: ctx.Sender()})
	default:
		if e.actor == nil { // restored, its start not begun yet (see restoreGo)
			e.held.add(r.deps, ctx.Self(), e.spec.ID, waitingCall{msg: m, sender: ctx.Sender()})
			return
		}
		ctx.Forward(e.actor)
	}
}

// heldError fails a call held past its deadline.
func (r *rootActor) heldError(e *entry) error {
	if e.pending != nil && !e.stats.everReady.Load() {
		return fmt.Errorf("%w: %s is being restored from the last run and was not ready before the call's deadline",
			ErrCallTimeout, e.spec.ID)
	}
	return r.restartingError(e)
}

func (r *rootActor) restartingError(e *entry) error {
	next := "now"
	if d := time.Until(e.nextRestart); !e.nextRestart.IsZero() && d > 0 {
		next = "in " + d.Round(time.Millisecond).String()
	}
	return fmt.Errorf("%w: %s is restarting after a crash (restart %d), next attempt %s",
		ErrCallTimeout, e.spec.ID, e.restarts, next)
}

func (r *rootActor) crashLoopError(e *entry) error {
	detail := ""
	if e.lastExit != nil {
		detail = "; last exit: " + e.lastExit.String()
		if l := e.lastExit.LastStderr(); l != "" {
			detail += "; last stderr: " + l
		}
	}
	return fmt.Errorf("%w: %s is in crash_loop after %d restarts%s", ErrNotRunning, e.spec.ID, e.restarts, detail)
}

func (r *rootActor) restoreFailedError(e *entry) error {
	return fmt.Errorf("%w: %s could not be restored from the last run: %s; use restart_server to try again or stop_server to drop it",
		ErrNotRunning, e.spec.ID, e.restoreErr)
}

func (r *rootActor) notRunningError(e *entry) error {
	detail := ""
	if e.lastExit != nil {
		detail = " (" + e.lastExit.String() + ")"
	}
	return fmt.Errorf("%w: %s ended%s and its restart policy %q does not restart it; use restart_server to start it again",
		ErrNotRunning, e.spec.ID, detail, e.spec.Policy.Kind)
}

// live counts the servers that have or will have a process: all but the
// idle ones (crash_loop, stopped by their policy, restore_failed) and the
// restored ones still waiting for restoreGo (each is counted when it
// starts, oldest first). Pooled ones count.
func (r *rootActor) live() int { return r.liveExcept(nil) }

func (r *rootActor) liveExcept(x *entry) int {
	n := 0
	for _, e := range r.entries {
		if e != x && !idle(e.state) && !e.waitRestore {
			n++
		}
	}
	return n
}

func (r *rootActor) lookup(id string) (*entry, error) {
	e, ok := r.entries[id]
	if !ok {
		return nil, fmt.Errorf("%w %q: use list_servers to see the live ones", ErrUnknownServer, id)
	}
	return e, nil
}

func (r *rootActor) list() *ServerList {
	out := make([]ServerInfo, 0, len(r.entries))
	for _, e := range r.sortedEntries() {
		out = append(out, r.info(e))
	}
	return &ServerList{Servers: out}
}

// sortedEntries returns the servers oldest first (by creation, then id):
// the order of list_servers and of the tree.
func (r *rootActor) sortedEntries() []*entry {
	out := make([]*entry, 0, len(r.entries))
	for _, e := range r.entries {
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].createdAt.Equal(out[j].createdAt) {
			return out[i].createdAt.Before(out[j].createdAt)
		}
		return out[i].spec.ID < out[j].spec.ID
	})
	return out
}

func (r *rootActor) info(e *entry) ServerInfo {
	si := ServerInfo{
		ServerID: e.spec.ID, Name: e.spec.Name, Template: e.spec.Template, Type: e.spec.Type,
		Status: e.state, PID: e.pid, Restarts: e.restarts, CreatedAt: e.createdAt.UTC(),
		Pooled: e.spec.Pooled, Command: e.spec.Command, Args: e.spec.Args,
		InFlight: e.stats.inFlight.Load(), LastExit: e.lastExit, Restored: e.restored, Error: e.restoreErr,
	}
	if e.state == StateRunning {
		si.UptimeSeconds = time.Since(e.startedAt).Seconds()
	}
	if e.info != nil {
		si.ToolCount = len(e.info.Tools)
	}
	if u := e.usage; u.sampled && e.state == StateRunning {
		mb, cpu := float64(u.rss)/(1<<20), u.cpuPercent
		si.RSSMB, si.CPUPercent = &mb, &cpu
	}
	if !e.nextRestart.IsZero() {
		t := e.nextRestart.UTC()
		si.NextRestartAt = &t
	}
	return si
}

func (r *rootActor) capabilities(ctx actor.Context, m *GetCapabilities) {
	e, err := r.lookup(m.ServerID)
	if err != nil {
		respond(ctx, err)
		return
	}
	if e.info == nil {
		respond(ctx, fmt.Errorf("%w: %s has not finished starting (%s)", ErrNotRunning, e.spec.ID, e.state))
		return
	}
	respond(ctx, &Capabilities{Server: r.info(e), Tools: e.info.Tools, Resources: e.info.Resources,
		Prompts: e.info.Prompts, Info: e.info})
}

func (r *rootActor) update(m *statusUpdate) {
	e, ok := r.entries[m.ID]
	if !ok || e.state == StateStopping {
		return
	}
	if m.Gen != 0 && m.Gen <= e.failedGen {
		return // sent before its failure, overtaken by it (failures are system messages)
	}
	if m.Actor != nil && (e.actor == nil || !m.Actor.Equal(e.actor)) {
		return // from an earlier server actor of this server, overtaken by its Terminated
	}
	if m.State == stateFailed { // its first start failed
		if e.restored { // listed, with the reason, once the root hears it
			e.state, e.pid = StateRestoreFailed, 0
			return
		}
		delete(r.entries, m.ID) // the create failed: gone from the list now, removed when terminated
		r.forget(m.ID)
		return
	}
	if m.Gen != e.gen { // a new child: its usage starts afresh
		e.usage = groupUsage{}
	}
	e.state, e.pid, e.group, e.gen = m.State, m.PID, m.Group, m.Gen
	if m.Info != nil {
		e.info = m.Info
	}
	if m.conn != nil {
		e.conn, e.connGen = m.conn, m.Gen
	}
	if m.State == StateRunning {
		e.startedAt, e.nextRestart = m.Since, time.Time{}
	}
	// The new child is starting: its actor holds calls until it is ready.
	for _, c := range e.held.take() {
		r.deps.root.RequestWithCustomSender(e.actor, c.msg, c.sender)
	}
}

func (r *rootActor) publish(ctx actor.Context, kind, id string, data map[string]any) {
	ctx.Send(r.events, &publish{Event: Event{Event: kind, ServerID: id, Data: data}})
}
