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
	r.cancelRestart(e)
	e.held.failAll(r.deps, fmt.Errorf("%w: %s", ErrStopping, e.spec.ID))
	if e.state == StateCrashLoop { // its actor is already gone
		r.remove(ctx, e)
		return
	}
	if e.state != StateStopping {
		// Poison, not Stop: calls already in the actor's mailbox are
		// answered (with ErrStopping) before it stops, so none is lost.
		e.state = StateStopping
		ctx.Poison(e.actor)
	}
}

func (r *rootActor) terminated(ctx actor.Context, m *actor.Terminated) {
	e, ok := r.byActor[m.Who.Id]
	if !ok {
		return
	}
	delete(r.byActor, m.Who.Id)
	if e.state == StateCrashLoop {
		return // stays listed until stopped or restarted by hand
	}
	r.remove(ctx, e)
}

func (r *rootActor) remove(ctx actor.Context, e *entry) {
	delete(r.entries, e.spec.ID)
	reply := &ServerStopped{ServerID: e.spec.ID}
	for _, w := range e.stopWaiters {
		ctx.Send(w, reply)
	}
	if r.stopping {
		return // the events and pool actors stop with the tree
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
	if errors.As(asError(reason), &c) && c.exit != nil {
		e.lastExit = c.exit
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
		Data: map[string]any{"reason": fmt.Sprint(reason), "delay_ms": delay.Milliseconds(), "restarts": e.restarts}}})
	r.deps.log.Warn().Str("server_id", e.spec.ID).Dur("delay", delay).Int("restarts", e.restarts).
		Interface("reason", reason).Msg("server failed; restart scheduled")
}

func (r *rootActor) crashLoop(sup actor.Supervisor, e *entry, reason any) {
	e.state, e.pid, e.nextRestart = StateCrashLoop, 0, time.Time{}
	e.stats.crashLooped.Store(true)
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
