package actors

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/metamcp/metamcp/actors/specstore"
)

// storedRequest is a CreateRequest as it is kept on disk (specstore):
// without env values, which the store seals apart.
type storedRequest struct {
	Name       string       `json:"name"`
	ServerType string       `json:"server_type,omitempty"`
	Template   string       `json:"template,omitempty"`
	ScriptPath string       `json:"script_path,omitempty"`
	Config     ServerConfig `json:"config"`
	Pooled     bool         `json:"pooled,omitempty"`
}

// persist records a server the client created, so that the next run can
// restore it. The write happens off the actor (System.Ask waits for it
// before it answers the create).
func (r *rootActor) persist(req CreateRequest, id string, createdAt time.Time) {
	if r.deps.specs == nil {
		return
	}
	rec, err := record(req, id, createdAt)
	if err != nil {
		r.deps.log.Error().Err(err).Str("server_id", id).Msg("server not recorded for restore")
		return
	}
	r.deps.specs.Put(rec)
}

// record is the record of a server for the store; decodeRecord reads it
// back.
func record(req CreateRequest, id string, createdAt time.Time) (specstore.Record, error) {
	env := req.Config.Env
	req.Config.Env = nil
	raw, err := json.Marshal(storedRequest{Name: req.Name, ServerType: req.ServerType, Template: req.Template,
		ScriptPath: req.ScriptPath, Config: req.Config, Pooled: req.Pooled})
	if err != nil {
		return specstore.Record{}, err
	}
	return specstore.Record{ServerID: id, Name: req.Name, CreatedAt: createdAt.UTC(), Request: raw, Env: env}, nil
}

// forget removes a server's record: it was stopped, or its create failed.
func (r *rootActor) forget(id string) {
	if r.deps.specs != nil {
		r.deps.specs.Delete(id)
	}
}

// restoreAll lists, under their server_ids, the servers the session's last
// run had, and starts them — at once, or at restoreGo when that has not
// come yet (so that a restore does not fork children before initialize is
// answered; calls to them are held meanwhile). They start concurrently (one
// server actor each); one that cannot be resolved or started is listed as
// restore_failed with the reason, and the others go on.
func (r *rootActor) restoreAll(ctx actor.Context, m *restoreServers) {
	for _, l := range m.records {
		if _, dup := r.entries[l.ServerID]; dup || r.stopping {
			continue
		}
		req, err := decodeRecord(l)
		e := &entry{restored: true, pending: &req, createdAt: l.CreatedAt, state: StateStarting, stats: &serverStats{},
			tracker: newRestartTracker(r.deps.resolver.policy)}
		e.spec = Spec{ID: l.ServerID, Name: l.Name, Template: req.Template, Type: req.ServerType, Pooled: req.Pooled}
		r.entries[l.ServerID] = e
		if err == nil { // checked now, so that a refusal is listed at once
			err = r.resolveRestored(ctx, e)
		}
		if err != nil {
			r.restoreFailed(ctx, e, err)
			continue
		}
		e.waitRestore = true
		if e.spec.Pooled && e.spec.Template != "" {
			ctx.Send(r.pool, &poolRestoring{template: e.spec.Template})
			e.poolPending = true
		}
		if r.forkOK {
			r.restoreOne(ctx, e, nil)
		}
	}
	if ctx.Sender() != nil {
		ctx.Respond(true)
	}
}

// restoreGo starts the restored servers still waiting.
func (r *rootActor) restoreGo(ctx actor.Context) {
	r.forkOK = true
	for _, e := range r.sortedEntries() {
		if e.waitRestore && e.actor == nil && e.state == StateStarting && !r.stopping {
			r.restoreOne(ctx, e, nil)
		}
	}
}

func decodeRecord(l specstore.Loaded) (CreateRequest, error) {
	if l.Err != nil {
		return CreateRequest{Name: l.Name}, l.Err
	}
	var s storedRequest
	if err := json.Unmarshal(l.Request, &s); err != nil {
		return CreateRequest{Name: l.Name}, fmt.Errorf("%w: %s: %v", specstore.ErrCorrupt, l.Path, err)
	}
	s.Config.Env = l.Env
	return CreateRequest{Name: s.Name, ServerType: s.ServerType, Template: s.Template, ScriptPath: s.ScriptPath,
		Config: s.Config, Pooled: s.Pooled}, nil
}

// restoreOne resolves a restored server's request again (the
// configuration may have changed, or a restart_server retries) and spawns
// its actor. waiters are restart_server requesters, answered when
// it is ready or has failed.
func (r *rootActor) restoreOne(ctx actor.Context, e *entry, waiters []*actor.PID) {
	e.waitRestore = false
	e.restoreWait = append(e.restoreWait, waiters...)
	fail := func(err error) {
		r.answerRestore(ctx, e, err)
		r.restoreFailed(ctx, e, err)
	}
	if err := r.resolveRestored(ctx, e); err != nil {
		fail(err)
		return
	}
	if max, live := r.deps.cfg.MaxConcurrentServers, r.liveExcept(e); live >= max {
		fail(fmt.Errorf("%w: %d of %d servers are live; stop one and use restart_server, or raise max_concurrent_servers",
			ErrTooManyServers, live, max))
		return
	}
	e.state, e.restoreErr = StateStarting, ""
	spec, d, stats := e.spec, r.deps, e.stats
	pid, err := ctx.SpawnNamed(actor.PropsFromProducer(func() actor.Actor {
		return newServerActor(spec, stats, d)
	}), spec.ID)
	if err != nil {
		fail(fmt.Errorf("%w: spawning server actor: %v", ErrStartFailed, err))
		return
	}
	e.actor = pid
	r.byActor[pid.Id] = e
	for _, c := range e.held.take() { // calls made while it waited: the actor queues them until it is ready, in order
		r.deps.root.RequestWithCustomSender(pid, c.msg, c.sender)
	}
	t0 := time.Now()
	f := ctx.RequestFuture(pid, &CreateServer{}, d.cfg.StartTimeout()+5*time.Second)
	ctx.ReenterAfter(f, func(res any, err error) {
		if err == nil {
			if e2, ok := res.(error); ok {
				err = e2
			}
		}
		sc, ok := res.(*ServerCreated)
		if err != nil {
			r.answerRestore(ctx, e, err)
		} else {
			r.answerRestore(ctx, e, res)
		}
		if r.entries[e.spec.ID] != e || e.state == StateStopping || r.stopping {
			return // stopped or restarted by hand meanwhile: that path answers and removes
		}
		if err != nil || !ok {
			if err == nil {
				err = fmt.Errorf("unexpected reply %T", res)
			}
			if r.hasActor(e) && e.actor.Equal(pid) { // no answer in time: that start is abandoned
				ctx.Poison(pid)
			}
			r.restoreFailed(ctx, e, err)
			return
		}
		r.restoredOK(ctx, e, sc, time.Since(t0))
	})
}

// resolveRestored resolves a restored server's request under the current
// configuration (allowlist, confinement and templates as they are now)
// into its spec, keeping its server_id.
func (r *rootActor) resolveRestored(ctx actor.Context, e *entry) error {
	req := *e.pending
	req.id = e.spec.ID // what depends on the id (file_handler's own directory) is the same as before
	spec, err := r.deps.resolver.resolve(req)
	if err != nil {
		if errors.Is(err, ErrCommandNotAllowed) || errors.Is(err, ErrPathNotAllowed) {
			r.publish(ctx, EventSecurityViolation, e.spec.ID, map[string]any{"error": err.Error(), "name": e.spec.Name})
		}
		return err
	}
	e.spec, e.tracker = spec, newRestartTracker(spec.Policy)
	return nil
}

func (r *rootActor) restoredOK(ctx actor.Context, e *entry, sc *ServerCreated, took time.Duration) {
	e.pending = nil // resolved for good: a later restart_server reuses the spec
	r.publish(ctx, EventServerRestored, e.spec.ID, map[string]any{"name": e.spec.Name, "template": e.spec.Template,
		"pid": sc.Server.PID, "tools": len(sc.Tools), "took_ms": float64(took.Microseconds()) / 1000,
		"pooled": e.spec.Pooled})
	if e.spec.Pooled && e.spec.Template != "" {
		restored := *sc
		restored.Server.Restored = true
		ctx.Send(r.pool, &adoptPooled{template: e.spec.Template, created: &restored, pending: e.poolPending})
		e.poolPending = false
	}
}

// restoreFailed leaves a server that could not come back listed, with the
// reason, until restart_server retries it or stop_server drops it (and
// its record).
func (r *rootActor) restoreFailed(ctx actor.Context, e *entry, err error) {
	e.state, e.pid, e.restoreErr = StateRestoreFailed, 0, err.Error()
	e.stats.halted.Store(true)
	r.endPoolRestore(ctx, e)
	e.held.failAll(r.deps, r.restoreFailedError(e))
	r.publish(ctx, EventRestoreFailed, e.spec.ID, map[string]any{"name": e.spec.Name, "error": err.Error()})
	r.deps.log.Warn().Str("server_id", e.spec.ID).Err(err).Msg("server not restored")
}

// answerRestore answers the restart_server requests waiting for a restore.
func (r *rootActor) answerRestore(ctx actor.Context, e *entry, reply any) {
	for _, w := range e.restoreWait {
		ctx.Send(w, reply)
	}
	e.restoreWait = nil
}

// endPoolRestore tells the pool that a restore it waits for will bring no
// server, so that its waiting acquirers start one.
func (r *rootActor) endPoolRestore(ctx actor.Context, e *entry) {
	if e.poolPending {
		ctx.Send(r.pool, &poolRestoreEnded{template: e.spec.Template})
		e.poolPending = false
	}
}
