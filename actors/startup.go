package actors

import (
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/rs/zerolog"

	"github.com/metamcp/metamcp/actors/child"
)

// startup is the start-up work that does not have to be done before metamcp
// answers its client's initialize: starting the guardian (one fork and exec
// of this binary, whose own start competes for the CPU with ours) and
// sweeping the orphans of an earlier metamcp (a read of every process's
// environment).
//
// It runs once, at the first of: begin (System.StartBackground, which serve
// calls once the first initialize is answered), Options.DeferStartup after
// Start, or the first child about to be forked. The last makes the delay
// safe: no child is started before the guardian is, so a SIGKILL of metamcp
// in the window leaves nothing behind that the guardian would have killed.
// What the delay costs is only that orphans of an earlier metamcp live that
// much longer. end, at shutdown, sweeps if nothing has yet (without starting
// a guardian that would guard nothing) and waits for the sweep.
type startup struct {
	once     sync.Once
	exe      string // runs "exe guard"
	owner    string // this instance's mark
	log      zerolog.Logger
	root     *actor.RootContext
	events   *actor.PID      // set before anything calls begin
	timer    *time.Timer     // the latest begin runs, when deferred
	swept    chan struct{}   // closed when the sweep is done
	guardian *child.Guardian // written inside once; read after it
	then     func()          // run once the guardian runs (set before begin can run), or nil
	ended    atomic.Bool     // end has been called: no child may be forked any more
}

// begin starts the guardian, waits until it runs, and starts the sweep; at
// most once. Every caller returns only once the guardian has started. It
// says whether a child may be forked: not once end has been called (the
// instance is shutting down, and its guardian may be gone).
func (u *startup) begin() bool {
	u.once.Do(func() {
		if g, err := child.StartGuardian(u.exe, u.owner); err == nil {
			u.guardian = g
		} else if !errors.Is(err, child.ErrNoUsage) {
			u.log.Warn().Err(err).Msg("no guardian: children may outlive a killed metamcp")
		}
		go u.sweep()
		if u.then != nil {
			u.then()
		}
	})
	return !u.ended.Load()
}

// end makes sure the sweep has run and waits for it; it returns the
// guardian, if one was started. From now on begin says no.
func (u *startup) end() *child.Guardian {
	u.ended.Store(true)
	if u.timer != nil { // set in Start, before anything can call end
		u.timer.Stop()
	}
	u.once.Do(func() { go u.sweep() })
	<-u.swept
	return u.guardian
}

// deferFor runs begin after d, unless something runs it first (then the
// timer's begin does nothing).
func (u *startup) deferFor(d time.Duration) {
	u.timer = time.AfterFunc(d, func() { u.begin() })
}

// sweep kills what an earlier metamcp left running.
func (u *startup) sweep() {
	defer close(u.swept)
	if n := child.SweepOrphans(); n > 0 {
		u.log.Warn().Int("killed", n).Msg("killed processes left running by an earlier metamcp")
		u.root.Send(u.events, &publish{Event: Event{Event: EventOrphansSwept, Data: map[string]any{"killed": n}}})
	}
}
