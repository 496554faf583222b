package actors

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/rs/zerolog"

	"github.com/metamcp/metamcp/actors/child"
	"github.com/metamcp/metamcp/wire"
)

// serverActor owns one child MCP server process.
//
// Started: it forks the child (once the instance's guardian runs: see
// startup) and starts the MCP handshake on a goroutine; until the handshake
// ends, calls wait in a queue (each until its deadline).
// When the handshake succeeds the server is running and the queue is served.
//
// While running, each call runs on its own goroutine, so a slow call never
// blocks the mailbox or other calls; the goroutine replies to the caller.
//
// When the child exits unexpectedly the calls in flight fail at once (the
// connection fails them) and the actor fails with a *crash: the root
// supervisor's policy decides whether and when it restarts. Restarting and
// Stopping: it stops the child by the ladder and waits for its goroutines,
// failing queued calls. A server actor never leaves a process running.
type serverActor struct {
	spec  Spec
	stats *serverStats
	deps  *deps
	log   zerolog.Logger

	conn      *child.Conn
	gen       uint64
	state     string
	info      *child.Info
	queue     waitList     // calls waiting for the handshake
	waiters   []*actor.PID // CreateServer requesters waiting for the first handshake
	failed    error        // why the first start failed, for a CreateServer still to come
	killedFor string       // why metamcp killed the current child (memory limit), or ""
	wg        sync.WaitGroup
	cancel    context.CancelFunc // ends every call goroutine's context
	connCtx   context.Context
}

// gens numbers connections across restarts, so that messages about an old
// child are recognised and dropped.
var gens struct {
	mu sync.Mutex
	n  uint64
}

func nextGen() uint64 {
	gens.mu.Lock()
	defer gens.mu.Unlock()
	gens.n++
	return gens.n
}

func newServerActor(spec Spec, stats *serverStats, d *deps) actor.Actor {
	return &serverActor{spec: spec, stats: stats, deps: d,
		log: d.log.With().Str("server_id", spec.ID).Str("name", spec.Name).Logger()}
}

func (a *serverActor) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *actor.Started:
		a.start(ctx)
	case *CreateServer:
		a.awaitReady(ctx)
	case *childReady:
		a.ready(ctx, m)
	case *childStartFailed:
		a.startFailed(ctx, m)
	case *childExited:
		a.exited(ctx, m)
	case *CallTool:
		a.call(ctx, m)
	case *probe:
		a.probe(ctx)
	case *overLimit:
		a.overLimit(ctx, m)
	case *describe:
		d := map[string]any{"generation": a.gen, "in_flight": a.stats.inFlight.Load(), "queued": a.queue.len()}
		if a.conn != nil {
			d["pid"], d["group"] = a.conn.PID(), a.conn.GroupID()
		}
		state := a.state
		if state == stateCrashed {
			state = "crashed"
		}
		respond(ctx, &TreeNode{Name: a.spec.ID, Kind: "server", Actor: ctx.Self().Id, State: state, Detail: d})
	case *toolsChanged:
		a.refreshTools(ctx, m)
	case *toolsListed:
		a.toolsListed(ctx, m)
	case *expireWaiting:
		a.queue.expire(a.deps, ctx.Self(), a.spec.ID, func() error {
			return a.notReadyError()
		})
	case *unsent:
		a.requeue(ctx, m)
	case *actor.Restarting:
		a.handBack(ctx)
		a.shutdown(fmt.Errorf("%w: it is restarting", ErrNotRunning))
		a.failWaiters(ctx, fmt.Errorf("%w: it is restarting", ErrNotRunning))
	case *actor.Stopping:
		if a.state == stateCrashed { // crash_loop: the root answers its calls, saying so
			a.handBack(ctx)
		}
		a.state = StateStopping
		a.shutdown(ErrStopping)
		a.failWaiters(ctx, fmt.Errorf("%w: %s was stopped before it was ready", ErrStopping, a.spec.ID))
	}
}

func (a *serverActor) start(ctx actor.Context) {
	a.gen = nextGen()
	a.state = StateStarting
	a.connCtx, a.cancel = context.WithCancel(context.Background())
	self, root, gen := ctx.Self(), ctx.ActorSystem().Root, a.gen
	if !a.deps.startup.begin() { // no child before the guardian (see startup), nor once shutdown has begun
		ctx.Send(self, &childStartFailed{gen: gen, err: ErrShuttingDown})
		return
	}
	conn, err := child.Start(child.Options{
		Command: a.spec.Command, Args: a.spec.Args, Env: a.spec.Env, Dir: a.spec.Dir,
		Log: a.log, Shim: a.deps.shim, Owner: a.deps.owner,
		OnExit:       func(e child.Exit) { root.Send(self, &childExited{gen: gen, exit: e}) },
		Capabilities: a.deps.childCaps,
		OnNotification: func(m *wire.Msg) {
			if m.Method == "notifications/tools/list_changed" {
				root.Send(self, &toolsChanged{gen: gen})
			}
			if c := a.deps.clients.get(); c != nil {
				c.ChildNotification(a.spec.ID, m)
			}
		},
		OnRequest: a.childRequest,
	})
	if err != nil {
		ctx.Send(self, &childStartFailed{gen: gen, err: err})
		return
	}
	a.conn = conn
	a.tell(ctx, StateStarting, nil)
	timeout := a.deps.cfg.StartTimeout()
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		hctx, done := context.WithTimeout(a.connCtx, timeout)
		defer done()
		info, err := conn.Initialize(hctx)
		if errors.Is(err, child.ErrTimeout) {
			err = fmt.Errorf("no answer to initialize within %s: %w", timeout, err)
		}
		if err != nil {
			root.Send(self, &childStartFailed{gen: gen, err: err})
			return
		}
		root.Send(self, &childReady{gen: gen, info: info})
	}()
}

// childRequest hands a request of the child (sampling, elicitation,
// roots) to the client, or refuses it when there is none.
func (a *serverActor) childRequest(conn *child.Conn, m *wire.Msg) {
	if m.Method == "ping" {
		_ = conn.Respond(m.ID, nil)
		return
	}
	c := a.deps.clients.get()
	if c == nil {
		_ = conn.RespondError(m.ID, &wire.Error{Code: wire.CodeMethodNotFound,
			Message: m.Method + " is not available: no MCP client is connected to metamcp to answer it"})
		return
	}
	id := m.ID
	c.ChildRequest(a.spec.ID, m, func(result json.RawMessage, e *wire.Error) {
		if e != nil {
			_ = conn.RespondError(id, e)
			return
		}
		_ = conn.Respond(id, result)
	})
}

// tell keeps the root's view of this server current.
func (a *serverActor) tell(ctx actor.Context, state string, info *child.Info) {
	pid, group := 0, 0
	if a.conn != nil {
		pid, group = a.conn.PID(), a.conn.GroupID()
	}
	ctx.Send(ctx.Parent(), &statusUpdate{Actor: ctx.Self(), ID: a.spec.ID, State: state, PID: pid, Group: group, Gen: a.gen,
		Since: time.Now(), Info: info, conn: a.conn})
}

// failWaiters answers the create or restart requests still waiting for a
// handshake that will not come.
func (a *serverActor) failWaiters(ctx actor.Context, err error) {
	for _, w := range a.waiters {
		ctx.Send(w, err)
	}
	a.waiters = nil
}

// notReadyError fails a call that waited for a start past its deadline.
func (a *serverActor) notReadyError() error {
	if a.stats.everReady.Load() {
		return fmt.Errorf("%w: %s is restarting after a crash; the new process was not ready before the call's deadline",
			ErrCallTimeout, a.spec.ID)
	}
	return fmt.Errorf("%w: %s did not finish starting before the call's deadline", ErrCallTimeout, a.spec.ID)
}

// overLimit kills a child whose process group uses more memory than its
// max_memory_mb; the exit then goes to the supervisor like any crash.
func (a *serverActor) overLimit(ctx actor.Context, m *overLimit) {
	if m.gen != a.gen || a.state != StateRunning || a.killedFor != "" {
		return
	}
	rssMB := math.Ceil(float64(m.rss)/(1<<20)*10) / 10 // over the limit shows as over
	a.killedFor = fmt.Sprintf("memory limit exceeded: %.1f MB resident, max_memory_mb %d", rssMB, m.limit>>20)
	a.log.Warn().Float64("rss_mb", rssMB).Int64("limit_mb", m.limit>>20).Msg("killing child over its memory limit")
	a.publish(ctx, EventMemoryExceeded, map[string]any{"rss_mb": rssMB, "max_memory_mb": m.limit >> 20,
		"pid": a.conn.PID()})
	a.conn.Kill()
}

func (a *serverActor) awaitReady(ctx actor.Context) {
	switch {
	case a.state == StateRunning:
		respond(ctx, a.created())
	case a.failed != nil:
		a.tell(ctx, stateFailed, nil) // unlisted before the requester hears
		respond(ctx, a.failed)
		ctx.Stop(ctx.Self())
	default:
		a.waiters = append(a.waiters, ctx.Sender())
	}
}

func (a *serverActor) created() *ServerCreated {
	names := make([]string, 0, len(a.info.Tools))
	for _, t := range a.info.Tools {
		names = append(names, t.Name)
	}
	return &ServerCreated{Tools: names, stats: a.stats, Server: ServerInfo{
		ServerID: a.spec.ID, Name: a.spec.Name, Template: a.spec.Template, Type: a.spec.Type,
		Status: StateRunning, PID: a.conn.PID(), CreatedAt: a.conn.StartedAt(), Pooled: a.spec.Pooled,
		Command: a.spec.Command, Args: a.spec.Args, ToolCount: len(names),
	}}
}

func (a *serverActor) ready(ctx actor.Context, m *childReady) {
	if m.gen != a.gen || a.state != StateStarting {
		return
	}
	a.state, a.info = StateRunning, m.info
	a.stats.touch(time.Now())
	a.tell(ctx, StateRunning, m.info)
	kind := EventServerStarted
	if a.stats.everReady.Swap(true) {
		kind = EventServerRestarted
	}
	a.publish(ctx, kind, map[string]any{"pid": a.conn.PID(), "tools": len(m.info.Tools),
		"protocol_version": m.info.ProtocolVersion, "server": m.info.ServerName})
	a.log.Info().Int("pid", a.conn.PID()).Int("tools", len(m.info.Tools)).Str("event", kind).Msg("server ready")
	reply := a.created()
	for _, w := range a.waiters {
		ctx.Send(w, reply)
	}
	a.waiters = nil
	for _, q := range a.queue.take() {
		a.dispatch(ctx, q.msg, q.sender)
	}
}

func (a *serverActor) startFailed(ctx actor.Context, m *childStartFailed) {
	if m.gen != a.gen || a.state != StateStarting {
		return
	}
	if a.stats.everReady.Load() && a.conn != nil && isClosed(a.conn.Reaped()) {
		// A restart's child died during its handshake: its exit, which is
		// always reported (childExited), records it as the crash it is, so
		// that the event does not depend on which message comes first.
		return
	}
	a.log.Warn().Err(m.err).Msg("server failed to start")
	a.publish(ctx, EventServerStartFailed, map[string]any{"error": m.err.Error()})
	if a.stats.everReady.Load() {
		a.state = stateCrashed
		for _, w := range a.waiters { // restart_server requesters
			ctx.Send(w, fmt.Errorf("%w: %v", ErrStartFailed, m.err))
		}
		a.waiters = nil
		panic(&crash{reason: "restart failed: " + m.err.Error(), gen: a.gen})
	}
	// The first start failed: the create fails and the server is removed.
	// The CreateServer the root forwarded may not have arrived yet (a fork
	// can fail before it does): then the actor stays until it answers it.
	err := fmt.Errorf("%w: %w", ErrStartFailed, m.err)
	a.shutdown(err)
	a.failed = err
	if len(a.waiters) == 0 {
		return
	}
	a.tell(ctx, stateFailed, nil) // unlisted before the requesters hear
	for _, w := range a.waiters {
		ctx.Send(w, err)
	}
	a.waiters = nil
	ctx.Stop(ctx.Self())
}

func (a *serverActor) exited(ctx actor.Context, m *childExited) {
	if m.gen != a.gen || a.state == StateStopping {
		return
	}
	ex := m.exit
	a.log.Warn().Str("exit", ex.String()).Str("last_stderr", ex.LastStderr()).Msg("child exited unexpectedly")
	a.publish(ctx, EventServerCrashed, map[string]any{"exit": ex.String(), "code": ex.Code,
		"signal": ex.Signal, "stderr": ex.Stderr})
	if a.state == StateStarting && !a.stats.everReady.Load() {
		a.startFailed(ctx, &childStartFailed{gen: m.gen, err: &child.StartError{
			Err: fmt.Errorf("child %s during start", ex.String()), Stderr: ex.Stderr}})
		return
	}
	if a.state == StateStarting { // a restart that died starting: its requesters hear now
		for _, w := range a.waiters {
			ctx.Send(w, fmt.Errorf("%w: child %s during start", ErrStartFailed, ex.String()))
		}
		a.waiters = nil
	}
	a.state = stateCrashed // if resumed (crash_loop), it answers calls as not running
	reason := "child " + ex.String()
	if a.killedFor != "" {
		reason = "child killed: " + a.killedFor
	}
	panic(&crash{reason: reason, exit: &ex, gen: a.gen})
}

// shutdown stops the child and every goroutine of this actor, and fails
// the calls still queued.
func (a *serverActor) shutdown(why error) {
	if a.cancel != nil {
		a.cancel()
	}
	if a.conn != nil {
		a.conn.Close()
	}
	a.wg.Wait()
	a.queue.failAll(a.deps, why)
}

func (a *serverActor) publish(ctx actor.Context, kind string, data map[string]any) {
	ctx.Send(a.deps.events, &publish{Event: Event{Event: kind, ServerID: a.spec.ID, Data: data}})
}
