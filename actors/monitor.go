package actors

import (
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/scheduler"

	"github.com/metamcp/metamcp/actors/child"
)

// monitorActor samples the process table for the root supervisor: every
// memory_check_interval_ms it reads every process's resident memory and
// CPU time once, by process group, and sends the scan to the root, which
// matches groups to servers and enforces max_memory_mb. One scan serves
// all servers, however many there are. The scan runs in this actor, so a
// slow /proc never delays the root or a server actor.
//
// Started: schedules the sampling. Stopping: cancels it.
type monitorActor struct {
	every  time.Duration
	cancel scheduler.CancelFunc
}

func newMonitorActor(every time.Duration) actor.Actor { return &monitorActor{every: every} }

func (m *monitorActor) Receive(ctx actor.Context) {
	switch ctx.Message().(type) {
	case *actor.Started:
		m.cancel = scheduler.NewTimerScheduler(ctx).SendRepeatedly(m.every, m.every, ctx.Self(), &sample{})
	case *sample:
		u, err := child.ScanUsage()
		if err != nil {
			m.cancel() // not on this platform: nothing to do, ever
			return
		}
		ctx.Send(ctx.Parent(), &usageReport{usage: u})
	case *actor.Stopping:
		if m.cancel != nil {
			m.cancel()
		}
	}
}
