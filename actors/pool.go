package actors

import (
	"fmt"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/scheduler"
)

// poolActor keeps servers per template for reuse. A pooled server is shared:
// an MCP server takes concurrent calls. Reuse is a lookup in this actor's
// memory. A pooled server idle (no calls, none in flight) for longer than
// pool_idle_ttl_seconds is stopped. At most pool_max_per_template servers
// are kept per template; a new one is added only while every existing one
// has calls in flight.
//
// Started: schedules the idle sweep. Stopping: cancels it (the servers
// themselves are the root's children and stop with it).
type poolActor struct {
	deps     *deps
	root     *actor.PID
	now      func() time.Time
	entries  map[string][]*poolEntry // by template
	creating map[string][]*actor.PID // template → requesters waiting on a create
	// restoring counts, per template, restored pooled servers not ready
	// yet; parked are the requesters waiting for one of them.
	restoring map[string]int
	parked    map[string][]*actor.PID
	cancel    scheduler.CancelFunc
}

type poolEntry struct {
	id       string
	template string
	stats    *serverStats
	lastUsed time.Time
	created  *ServerCreated
}

func newPoolActor(d *deps, root *actor.PID) actor.Actor {
	return &poolActor{deps: d, root: root, now: d.now,
		entries: map[string][]*poolEntry{}, creating: map[string][]*actor.PID{},
		restoring: map[string]int{}, parked: map[string][]*actor.PID{}}
}

func (p *poolActor) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *actor.Started:
		if every := p.deps.cfg.PoolIdleTTL() / 4; every > 0 && !p.deps.noSweep {
			p.cancel = scheduler.NewTimerScheduler(ctx).SendRepeatedly(every, every, ctx.Self(), &poolSweep{})
		}
	case *actor.Stopping:
		if p.cancel != nil {
			p.cancel()
		}
	case *AcquirePooled:
		p.acquire(ctx, m.Template, ctx.Sender())
	case *poolRestoring:
		p.restoring[m.template]++
	case *poolRestoreEnded:
		p.restoreEnded(ctx, m.template)
	case *serverRemoved:
		p.removed(m.ID)
	case *adoptPooled:
		p.adopt(ctx, m)
	case *poolSweep:
		p.sweep(ctx)
	case *describe:
		byTemplate := map[string][]string{}
		for t, list := range p.entries {
			for _, e := range list {
				byTemplate[t] = append(byTemplate[t], e.id)
			}
		}
		respond(ctx, &TreeNode{Name: "pool", Kind: "pool", Actor: ctx.Self().Id, State: "running",
			Detail: map[string]any{"pooled": byTemplate, "idle_ttl_seconds": p.deps.cfg.PoolIdleTTLSeconds,
				"max_per_template": p.deps.cfg.PoolMaxPerTemplate}})
	}
}

func (p *poolActor) acquire(ctx actor.Context, template string, sender *actor.PID) {
	list := p.entries[template]
	best := leastBusy(list)
	if best != nil && (best.stats.inFlight.Load() == 0 || len(list) >= p.deps.cfg.PoolMaxPerTemplate) {
		best.lastUsed = p.now()
		p.publish(ctx, EventPoolReused, best.id, template)
		sendTo(ctx, sender, p.acquired(best, true))
		return
	}
	if best == nil && p.restoring[template] > 0 { // one is coming back from the last run
		p.parked[template] = append(p.parked[template], sender)
		return
	}
	if waiting, ok := p.creating[template]; ok {
		p.creating[template] = append(waiting, sender)
		return
	}
	p.creating[template] = []*actor.PID{sender}
	req := &CreateServer{Request: CreateRequest{Name: template + " (pooled)", Template: template, Pooled: true}}
	f := ctx.RequestFuture(p.root, req, p.deps.cfg.StartTimeout()+5*time.Second)
	ctx.ReenterAfter(f, func(res any, err error) { p.created(ctx, template, res, err) })
}

func (p *poolActor) created(ctx actor.Context, template string, res any, err error) {
	waiters := p.creating[template]
	delete(p.creating, template)
	if err == nil {
		if e, ok := res.(error); ok {
			err = e
		}
	}
	sc, ok := res.(*ServerCreated)
	if err != nil || !ok {
		if err == nil {
			err = fmt.Errorf("unexpected reply %T", res)
		}
		for _, w := range waiters {
			sendTo(ctx, w, err)
		}
		return
	}
	e := &poolEntry{id: sc.Server.ServerID, template: template, stats: sc.stats, lastUsed: p.now(), created: sc}
	p.entries[template] = append(p.entries[template], e)
	p.publish(ctx, EventPoolAdded, e.id, template)
	for i, w := range waiters {
		sendTo(ctx, w, p.acquired(e, i > 0))
	}
}

// adopt takes a restored pooled server back into the pool, and hands it
// to the requesters that waited for it.
func (p *poolActor) adopt(ctx actor.Context, m *adoptPooled) {
	if m.pending {
		p.restoring[m.template]--
	}
	var e *poolEntry
	for _, x := range p.entries[m.template] {
		if x.id == m.created.Server.ServerID {
			e = x
		}
	}
	if e == nil {
		e = &poolEntry{id: m.created.Server.ServerID, template: m.template, stats: m.created.stats,
			lastUsed: p.now(), created: m.created}
		p.entries[m.template] = append(p.entries[m.template], e)
	}
	waiters := p.parked[m.template]
	delete(p.parked, m.template)
	for _, w := range waiters {
		if e.stats.halted.Load() { // it failed in the meantime: the usual way
			p.acquire(ctx, m.template, w)
			continue
		}
		p.publish(ctx, EventPoolReused, e.id, m.template)
		sendTo(ctx, w, p.acquired(e, true))
	}
}

// restoreEnded: an announced restore brought no server; when none is
// left coming, the requesters that waited go the usual way (reuse or a
// new server).
func (p *poolActor) restoreEnded(ctx actor.Context, template string) {
	if p.restoring[template]--; p.restoring[template] > 0 {
		return
	}
	delete(p.restoring, template)
	waiters := p.parked[template]
	delete(p.parked, template)
	for _, w := range waiters {
		p.acquire(ctx, template, w)
	}
}

func (p *poolActor) acquired(e *poolEntry, reused bool) *PoolAcquired {
	return &PoolAcquired{Server: e.created.Server, Tools: e.created.Tools, Reused: reused}
}

func leastBusy(list []*poolEntry) *poolEntry {
	var best *poolEntry
	for _, e := range list {
		if e.stats.halted.Load() {
			continue
		}
		if best == nil || e.stats.inFlight.Load() < best.stats.inFlight.Load() {
			best = e
		}
	}
	return best
}

func (p *poolActor) removed(id string) {
	for t, list := range p.entries {
		for i, e := range list {
			if e.id == id {
				p.entries[t] = append(list[:i:i], list[i+1:]...)
				if len(p.entries[t]) == 0 {
					delete(p.entries, t)
				}
				return
			}
		}
	}
}

// sweep stops pooled servers idle for longer than the TTL.
func (p *poolActor) sweep(ctx actor.Context) {
	now, ttl := p.now(), p.deps.cfg.PoolIdleTTL()
	for _, list := range p.entries {
		for _, e := range expired(list, now, ttl) {
			p.publish(ctx, EventPoolEvicted, e.id, e.template)
			ctx.Send(p.root, &StopServer{ServerID: e.id})
			p.removed(e.id)
		}
	}
}

// expired lists the entries with nothing in flight whose last use — by the
// pool or by any call — is at least ttl before now.
func expired(list []*poolEntry, now time.Time, ttl time.Duration) []*poolEntry {
	var out []*poolEntry
	for _, e := range list {
		last := e.lastUsed
		if a := e.stats.lastActive(); a.After(last) {
			last = a
		}
		if e.stats.inFlight.Load() == 0 && now.Sub(last) >= ttl {
			out = append(out, e)
		}
	}
	return out
}

func (p *poolActor) publish(ctx actor.Context, kind, id, template string) {
	ctx.Send(p.deps.events, &publish{Event: Event{Event: kind, ServerID: id, Data: map[string]any{"template": template}}})
}

func sendTo(ctx actor.Context, to *actor.PID, msg any) {
	if to != nil {
		ctx.Send(to, msg)
	}
}
