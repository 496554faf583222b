package actors

import (
	"errors"
	"fmt"
	"time"

	"github.com/asynkron/protoactor-go/actor"
)

// stop stops a server's actor; the reply goes out when it has terminated,
// that is when its process has been stopped and reaped.
func (r *rootActor) stop(ctx actor.Context, m *StopServer) {
	e, err := r.lookup(m.ServerID)
	if err != nil {
		respond(ctx, err)
		return
	}
	if ctx.Sender() != nil {
		e.stopWaiters = append(e.stopWaiters, ctx.Sender())
	}
	for _, w := range e.respawn { // a restart by hand under way: the stop wins
		ctx.Send(w, fmt.Errorf("%w: %s was stopped during its restart", ErrStopping, e.spec.ID))
	}
	e.respawn = nil
	wasBackoff := e.state == StateBackoff
	r.cancelRestart(e)
	e.held.failAll(r.deps, fmt.Errorf("%w: %s", ErrStopping, e.spec.ID))
	if e.actor == nil { // restored, not started yet: nothing to stop
		e.state = StateStopping
		r.remove(ctx, e)
		return
	}
	if idle(e.state) {
		if !r.hasActor(e) { // its actor is gone
			r.remove(ctx, e)
			return
		}
		e.state = StateStopping // removed when its actor has terminated
		return
	}
	if e.state != StateStopping {
		// Poison, not Stop: calls already in the actor's mailbox are
		// answered (with ErrStopping) before it stops, so none is lost.
		e.state = StateStopping
		r.poison(ctx, e, wasBackoff)
	}
}

// poison stops a server actor after the messages in its mailbox. One in
// backoff is suspended, waiting for the restart just cancelled: it is
// resumed (as crashed: it answers what is queued as not running) so that
// it reaches the pill.
func (r *rootActor) poison(ctx actor.Context, e *entry, suspended bool) {
	ctx.Poison(e.actor)
	if sup, ok := ctx.(actor.Supervisor); ok && suspended {
		sup.ResumeChildren(e.actor)
	}
}

func (r *rootActor) terminated(ctx actor.Context, m *actor.Terminated) {
	e, ok := r.byActor[m.Who.Id]
	if !ok {
		return
	}
	delete(r.byActor, m.Who.Id)
	if e.respawn != nil {
		r.respawn(ctx, e)
		return
	}
	if idle(e.state) {
		return // stays listed until stopped or restarted by hand
	}
	r.remove(ctx, e)
}

func (r *rootActor) remove(ctx actor.Context, e *entry) {
	delete(r.entries, e.spec.ID)
	r.endPoolRestore(ctx, e)
	if !r.stopping { // before the reply: System.Ask syncs the record's removal
		r.forget(e.spec.ID)
	}
	reply := &ServerStopped{ServerID: e.spec.ID}
	for _, w := range e.stopWaiters {
		ctx.Send(w, reply)
	}
	if r.stopping {
		return // the events and pool actors stop with the tree; the record stays for the next run
	}
	if e.stats.everReady.Load() || e.state == StateStopping {
		r.publish(ctx, EventServerStopped, e.spec.ID, map[string]any{"name": e.spec.Name})
	}
	ctx.Send(r.pool, &serverRemoved{ID: e.spec.ID})
}

func (r *rootActor) cancelRestart(e *entry) {
	if e.timer != nil {
		e.timer.Stop()
		e.timer = nil
	}
	e.nextRestart = time.Time{}
}

// HandleFailure is the supervisor strategy for the root's children. It runs
// in the root's context. A failed server is restarted after a backoff, or
// put in crash_loop when it fails too often; the events and pool actors are
// restarted at once.
func (r *rootActor) HandleFailure(_ *actor.ActorSystem, sup actor.Supervisor, who *actor.PID,
	_ *actor.RestartStatistics, reason any, _ any) {
	r.dirDirty = true
	defer r.publishDirectory()
	e, ok := r.byActor[who.Id]
	if !ok {
		r.deps.log.Error().Interface("reason", reason).Str("actor", who.Id).Msg("actor failed; restarting")
		sup.RestartChildren(who)
		return
	}
	if r.stopping || e.state == StateStopping {
		sup.StopChildren(who)
		return
	}
	var c *crash
	abnormal := true
	if errors.As(asError(reason), &c) {
		e.failedGen = max(e.failedGen, c.gen)
		if c.exit != nil {
			e.lastExit = c.exit
			abnormal = c.exit.Code != 0 || c.exit.Signal != ""
		}
	}
	if !e.spec.Policy.restarts(abnormal) {
		r.ended(sup, e, reason)
		return
	}
	now := time.Now()
	upFor := time.Duration(0)
	if e.state == StateRunning {
		upFor = now.Sub(e.startedAt)
	}
	delay, ok := e.tracker.fail(now, upFor)
	if !ok {
		r.crashLoop(sup, e, reason)
		return
	}
	e.restarts++
	e.state, e.pid, e.nextRestart = StateBackoff, 0, now.Add(delay)
	e.timer = time.AfterFunc(delay, func() { sup.RestartChildren(who) })
	r.deps.root.Send(r.events, &publish{Event: Event{Event: EventRestartScheduled, ServerID: e.spec.ID,
		Data: map[string]any{"reason": fmt.Sprint(reason), "delay_ms": delay.Milliseconds(), "restarts": e.restarts,
			"next_restart_at": e.nextRestart.UTC()}}})
	r.deps.log.Warn().Str("server_id", e.spec.ID).Dur("delay", delay).Int("restarts", e.restarts).
		Interface("reason", reason).Msg("server failed; restart scheduled")
}

// ended leaves a server its policy does not restart (temporary, or
// transient after a clean exit) listed as stopped, with its last exit,
// until stop_server removes it or restart_server starts it again.
func (r *rootActor) ended(sup actor.Supervisor, e *entry, reason any) {
	e.state, e.pid, e.nextRestart = StateStopped, 0, time.Time{}
	e.stats.halted.Store(true) // the pool hands it out no more
	e.held.failAll(r.deps, r.notRunningError(e))
	r.deps.root.Send(r.events, &publish{Event: Event{Event: EventServerExited, ServerID: e.spec.ID,
		Data: map[string]any{"reason": fmt.Sprint(reason), "policy": e.spec.Policy.Kind}}})
	r.deps.log.Warn().Str("server_id", e.spec.ID).Str("policy", e.spec.Policy.Kind).Interface("reason", reason).
		Msg("server ended; its restart policy does not restart it")
	r.deps.root.Poison(e.actor)
	sup.ResumeChildren(e.actor)
}

func (r *rootActor) crashLoop(sup actor.Supervisor, e *entry, reason any) {
	e.state, e.pid, e.nextRestart = StateCrashLoop, 0, time.Time{}
	e.stats.halted.Store(true)
	e.held.failAll(r.deps, r.crashLoopError(e))
	p := e.tracker.policy
	r.deps.root.Send(r.events, &publish{Event: Event{Event: EventCrashLoop, ServerID: e.spec.ID,
		Data: map[string]any{"reason": fmt.Sprint(reason), "restarts": e.restarts,
			"detail": fmt.Sprintf("more than %d failures within %s", p.MaxRestarts, p.Window)}}})
	r.deps.log.Error().Str("server_id", e.spec.ID).Interface("reason", reason).Msg("server in crash_loop; not restarting")
	// Resume the failed instance behind a poison pill, so that it answers the
	// calls waiting in its mailbox (as not running) and then stops.
	r.deps.root.Poison(e.actor)
	sup.ResumeChildren(e.actor)
}

func asError(v any) error {
	if err, ok := v.(error); ok {
		return err
	}
	return fmt.Errorf("%v", v)
}

// restart handles restart_server. A server whose actor is gone (crash_loop,
// or stopped by its policy) gets a new one at once; a live one is stopped
// first and gets its new actor when the old one has terminated. Either way
// the requester is answered by the new server actor once its child is
// ready, and the server_id stays.
func (r *rootActor) restart(ctx actor.Context, m *RestartServer) {
	e, err := r.lookup(m.ServerID)
	if err != nil {
		respond(ctx, err)
		return
	}
	if r.stopping || (e.state == StateStopping && e.respawn == nil) {
		respond(ctx, fmt.Errorf("%w: %s", ErrStopping, e.spec.ID))
		return
	}
	live := r.hasActor(e)
	if live && e.pending != nil && e.state == StateStarting && !e.stats.everReady.Load() {
		// A restore under way: this request waits for it with the others.
		if ctx.Sender() != nil {
			e.restoreWait = append(e.restoreWait, ctx.Sender())
		}
		return
	}
	if idle(e.state) {
		if max, n := r.deps.cfg.MaxConcurrentServers, r.live(); n >= max {
			respond(ctx, fmt.Errorf("%w: %d of %d servers are live; stop one (stop_server) or raise max_concurrent_servers",
				ErrTooManyServers, n, max))
			return
		}
	}
	if ctx.Sender() != nil {
		e.respawn = append(e.respawn, ctx.Sender())
	} else if e.respawn == nil {
		e.respawn = []*actor.PID{}
	}
	wasBackoff := e.state == StateBackoff
	r.cancelRestart(e)
	e.tracker.reset()
	e.stats.halted.Store(false)
	if !live {
		r.respawn(ctx, e)
		return
	}
	if e.state != StateStopping {
		e.state = StateStopping
		e.held.failAll(r.deps, fmt.Errorf("%w: %s is being restarted by request", ErrNotRunning, e.spec.ID))
		r.poison(ctx, e, wasBackoff)
	}
}

// respawn gives a server a new actor, which answers the restart requests.
func (r *rootActor) respawn(ctx actor.Context, e *entry) {
	waiters := e.respawn
	e.respawn = nil
	if r.stopping {
		for _, w := range waiters {
			ctx.Send(w, ErrShuttingDown)
		}
		r.remove(ctx, e)
		return
	}
	if e.pending != nil { // restored, and never started in this run: resolve it again
		r.restoreOne(ctx, e, waiters)
		return
	}
	spec, stats, d := e.spec, e.stats, r.deps
	pid, err := ctx.SpawnNamed(actor.PropsFromProducer(func() actor.Actor {
		return newServerActor(spec, stats, d)
	}), spec.ID)
	if err != nil {
		for _, w := range waiters {
			ctx.Send(w, fmt.Errorf("%w: spawning server actor: %v", ErrStartFailed, err))
		}
		e.state = StateCrashLoop
		return
	}
	e.actor, e.state, e.pid = pid, StateStarting, 0
	r.byActor[pid.Id] = e
	e.restarts++
	r.publish(ctx, EventRestartRequested, e.spec.ID, map[string]any{"restarts": e.restarts})
	for _, w := range waiters {
		r.deps.root.RequestWithCustomSender(pid, &CreateServer{}, w)
	}
}
