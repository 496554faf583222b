package actors

import (
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/metamcp/metamcp/actors/child"
)

// RecentExchange is how recently a child must have answered a call or a
// ping for health_check_all to count it as alive without pinging it again.
const RecentExchange = 5 * time.Second

// health answers from the registry, with a live probe of the server actor
// when it is running — unless m.Recent allows the child's last answer to
// stand in for the ping. The probe is awaited without blocking the root.
func (r *rootActor) health(ctx actor.Context, m *HealthCheck) {
	e, err := r.lookup(m.ServerID)
	if err != nil {
		respond(ctx, err)
		return
	}
	if e.state != StateRunning {
		h := r.healthFromEntry(e)
		h.Error = "server is " + e.state
		respond(ctx, h)
		return
	}
	if m.Recent > 0 {
		now := time.Now()
		if x, ok := e.stats.recentAnswer(e.gen, now, m.Recent); ok {
			respond(ctx, r.healthFromAnswer(e, x, now))
			return
		}
	}
	f := ctx.RequestFuture(e.actor, &probe{}, pingTimeout+time.Second)
	ctx.ReenterAfter(f, func(res any, err error) {
		h := r.healthFromEntry(e)
		p, ok := res.(*Health)
		switch {
		case err != nil:
			h.Error = "probe failed: " + err.Error()
		case ok:
			h.Healthy, h.PingMS, h.RSSMB, h.Error = p.Healthy, p.PingMS, p.RSSMB, p.Error
			if p.PID != 0 {
				h.PID = p.PID
			}
		}
		respond(ctx, h)
	})
}

// healthFromAnswer reports a running server from its child's last answer:
// its round trip stands for the ping, and the resident memory is the
// server process's at the monitor's last scan.
func (r *rootActor) healthFromAnswer(e *entry, x *exchange, now time.Time) *Health {
	h := r.healthFromEntry(e)
	ms, age := float64(x.rtt.Microseconds())/1000, float64(now.Sub(x.at).Microseconds())/1000
	h.Healthy, h.PingMS, h.PingAgeMS, h.PingVia = true, &ms, &age, x.via
	if x.pid != 0 {
		h.PID = x.pid
	}
	rss := int64(0)
	if u := e.usage; u.sampled && u.serverRSS > 0 {
		rss = u.serverRSS
	} else if n, err := child.ProcessResident(h.PID); err == nil { // no scan yet: one read of /proc
		rss = n
	}
	if rss > 0 {
		mb := float64(rss) / (1 << 20)
		h.RSSMB = &mb
	}
	return h
}

func (r *rootActor) healthFromEntry(e *entry) *Health {
	s := e.stats
	h := &Health{
		ServerID: e.spec.ID, Status: e.state, PID: e.pid, Restarts: e.restarts,
		InFlight: s.inFlight.Load(), CallsTotal: s.callsTotal.Load(), ErrorsTotal: s.errorsTotal.Load(),
		TimeoutLimit: e.spec.Timeout.Seconds(), MaxMemoryMB: e.spec.MaxMemoryMB,
		CreatedAt: e.createdAt.UTC(), LastActivity: s.lastActive().UTC(),
	}
	if !e.nextRestart.IsZero() {
		t := e.nextRestart.UTC()
		h.NextRestartAt = &t
	}
	if e.state == StateRunning {
		h.UptimeSeconds = time.Since(e.startedAt).Seconds()
		h.IdleSeconds = time.Since(s.lastActive()).Seconds()
		if u := e.usage; u.sampled {
			mb := float64(u.rss) / (1 << 20)
			cpu := u.cpuPercent
			h.GroupRSSMB, h.CPUPercent, h.Processes = &mb, &cpu, u.procs
		}
	}
	return h
}
