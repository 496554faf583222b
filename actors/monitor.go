package actors

import (
	"errors"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/scheduler"
	"github.com/rs/zerolog"

	"github.com/metamcp/metamcp/actors/child"
)

// monitorActor samples the process table for the root supervisor: every
// memory_check_interval_ms it reads every process's resident memory and
// CPU time once, by process group, and sends the scan to the root, which
// matches groups to servers and enforces max_memory_mb. One scan serves
// all servers, however many there are. The scan runs in this actor, so a
// slow /proc never delays the root or a server actor.
//
// Started: schedules the first sample; each scan schedules the next.
// Stopping: cancels it.
type monitorActor struct {
	every  time.Duration
	cancel scheduler.CancelFunc
	scans  int
	procs  int           // in the last scan
	took   time.Duration // the last scan
	off    bool          // not on this platform
	log    zerolog.Logger
}

func newMonitorActor(every time.Duration, log zerolog.Logger) actor.Actor {
	return &monitorActor{every: every, log: log}
}

func (m *monitorActor) next(ctx actor.Context) {
	m.cancel = scheduler.NewTimerScheduler(ctx).SendOnce(m.every, ctx.Self(), &sample{})
}

func (m *monitorActor) Receive(ctx actor.Context) {
	switch ctx.Message().(type) {
	case *actor.Started:
		m.next(ctx)
	case *sample:
		t0 := time.Now()
		u, err := child.ScanUsage()
		if errors.Is(err, child.ErrNoUsage) {
			m.off = true // not on this platform: nothing to do, ever
			return
		}
		m.next(ctx) // counted from the end of this scan: a slow /proc never piles scans up
		if err != nil {
			m.log.Warn().Err(err).Msg("scanning the process table failed; memory limits wait for the next scan")
			return
		}
		m.scans, m.took, m.procs = m.scans+1, time.Since(t0), 0
		for _, g := range u.Groups {
			m.procs += len(g)
		}
		ctx.Send(ctx.Parent(), &usageReport{usage: u})
	case *describe:
		state := "running"
		if m.off {
			state = "off"
		}
		respond(ctx, &TreeNode{Name: "monitor", Kind: "monitor", Actor: ctx.Self().Id, State: state,
			Detail: map[string]any{"interval_ms": m.every.Milliseconds(), "scans": m.scans,
				"last_scan_ms": float64(m.took.Microseconds()) / 1000, "processes_seen": m.procs}})
	case *actor.Stopping:
		if m.cancel != nil {
			m.cancel()
		}
	}
}
