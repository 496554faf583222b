package actors

import (
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/metamcp/metamcp/actors/child"
)

// groupUsage is what the last scans saw of one server's process group.
type groupUsage struct {
	at         time.Time
	rss        int64         // bytes, the group without metamcp's shim
	serverRSS  int64         // bytes, the server process itself
	cpu        time.Duration // CPU time of the group's live processes
	cpuPercent float64       // of one core, between the last two scans
	procs      int
	sampled    bool
}

// usage matches a scan of the process table to the servers and kills the
// children over their memory limit (the server actor does the killing, so
// that the exit is reported like any crash and the policy decides).
func (r *rootActor) usage(ctx actor.Context, m *usageReport) {
	for _, e := range r.entries {
		if e.state != StateRunning || e.group <= 0 {
			continue
		}
		procs, ok := m.usage.Groups[e.group]
		if !ok {
			continue
		}
		e.usage = e.usage.next(m.usage.At, procs, e.group, e.pid)
		limit := int64(e.spec.MaxMemoryMB) << 20
		if limit > 0 && e.usage.rss > limit {
			ctx.Send(e.actor, &overLimit{gen: e.gen, rss: e.usage.rss, limit: limit})
		}
	}
}

// next folds a new scan of a group into u. The group's leader is left out
// when it is not the server itself: then it is metamcp's shim.
func (u groupUsage) next(at time.Time, procs []child.ProcUsage, group, server int) groupUsage {
	n := groupUsage{at: at, sampled: true}
	for _, p := range procs {
		if p.PID == group && group != server {
			continue
		}
		n.rss += p.RSSBytes
		if p.PID == server {
			n.serverRSS = p.RSSBytes
		}
		n.cpu += p.CPU
		n.procs++
	}
	if u.sampled && at.After(u.at) && n.cpu >= u.cpu {
		n.cpuPercent = 100 * float64(n.cpu-u.cpu) / float64(at.Sub(u.at))
	}
	return n
}
