package actors

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/rs/zerolog"

	"github.com/metamcp/metamcp/actors/child"
	"github.com/metamcp/metamcp/config"
	"github.com/metamcp/metamcp/templates"
)

// Options build a System.
type Options struct {
	Config  *config.Config
	Catalog *templates.Catalog
	Log     zerolog.Logger
	// Executable runs the built-in templates ("metamcp template run NAME")
	// and the process shim ("metamcp shim ..."). Default: this process's
	// own executable.
	Executable string
	// Policy overrides fields of the configured default restart policy
	// (the restart_* keys); tests use it for short backoffs.
	Policy RestartPolicy
	// Now is the pool's clock (default time.Now); tests inject their own.
	Now func() time.Time
	// NoSweep turns off the pool's timed idle sweep (tests send poolSweep).
	NoSweep bool
	// OnEvent, when set, sees every event as it is recorded (metrics). It
	// is called from the event-stream actor and must not block.
	OnEvent func(Event)
}

// deps is what every actor of one System shares. Written before the actors
// that read it are spawned, immutable after.
type deps struct {
	cfg      *config.Config
	log      zerolog.Logger
	resolver *resolver
	root     *actor.RootContext
	events   *actor.PID
	now      func() time.Time
	noSweep  bool
	shim     string // runs each child under "shim" (process_shim on), or ""
	owner    string // this instance's METAMCP_OWNER mark, or ""
	onEvent  func(Event)
}

// reply sends a message to a requester from outside an actor context.
func (d *deps) reply(to *actor.PID, msg any) {
	if to != nil {
		d.root.Send(to, msg)
	}
}

// System is a running supervision tree. Its methods are safe for concurrent
// use.
type System struct {
	as     *actor.ActorSystem
	root   *actor.PID
	pool   *actor.PID
	events *actor.PID
	deps   *deps
	swept  chan struct{} // closed when the start-up sweep is done
	// guardian kills what is left if this process dies (Linux), or nil.
	guardian *child.Guardian
}

// Start builds the actor system and spawns the root supervisor, which
// spawns the event-stream and pool actors.
func Start(o Options) (*System, error) {
	if o.Executable == "" {
		exe, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("finding own executable: %w", err)
		}
		o.Executable = exe
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	plog := o.Log.With().Str("lib", "protoactor").Logger()
	as := actor.NewActorSystem(
		actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger {
			return slog.New(zerolog.NewSlogHandler(plog))
		}),
		actor.WithDeveloperSupervisionLogging(false), // it prints to stdout
	)
	policy := policyFromConfig(o.Config).over(o.Policy).withDefaults()
	d := &deps{cfg: o.Config, log: o.Log, root: as.Root, onEvent: o.OnEvent, now: o.Now, noSweep: o.NoSweep,
		resolver: &resolver{cfg: o.Config, catalog: o.Catalog, self: o.Executable, policy: policy}}
	d.owner = child.NewOwnerMark()
	if shimOn(o.Config.ProcessShim) {
		d.shim = o.Executable
	}
	root, err := as.Root.SpawnNamed(actor.PropsFromProducer(func() actor.Actor { return newRootActor(d) }), "root")
	if err != nil {
		return nil, fmt.Errorf("spawning root supervisor: %w", err)
	}
	res, err := as.Root.RequestFuture(root, &whoAreYou{}, 5*time.Second).Result()
	if err != nil {
		return nil, fmt.Errorf("starting root supervisor: %w", err)
	}
	fixed := res.([2]*actor.PID)
	s := &System{as: as, root: root, events: fixed[0], pool: fixed[1], deps: d, swept: make(chan struct{})}
	if g, err := child.StartGuardian(o.Executable, d.owner); err == nil {
		s.guardian = g
	} else if !errors.Is(err, child.ErrNoUsage) {
		o.Log.Warn().Err(err).Msg("no guardian: children may outlive a killed metamcp")
	}
	if os.Getpid() == 1 && !shimOn(o.Config.ProcessShim) {
		o.Log.Warn().Msg("metamcp runs as PID 1: orphans of its children are re-parented to it and nothing reaps them; " +
			"run it under an init (docker --init, tini) or set process_shim to on")
	}
	go s.sweep()
	return s, nil
}

// shimOn reads process_shim: "auto" is on where there is no guardian
// (macOS), off where the guardian covers it (Linux).
func shimOn(v string) bool {
	switch v {
	case "on":
		return true
	case "off":
		return false
	}
	return runtime.GOOS == "darwin"
}

// sweep kills what an earlier metamcp left running, once, at start-up.
func (s *System) sweep() {
	defer close(s.swept)
	if n := child.SweepOrphans(); n > 0 {
		s.deps.log.Warn().Int("killed", n).Msg("killed processes left running by an earlier metamcp")
		s.as.Root.Send(s.events, &publish{Event: Event{Event: EventOrphansSwept, Data: map[string]any{"killed": n}}})
	}
}

// Ask sends a request to the root supervisor (or, for AcquirePooled and
// QueryEvents, to the pool or event-stream actor) and waits for the reply
// until timeout. An error reply is returned as the error. A CallTool with a
// Ctx is answered soon after that context ends, so no wait outlives its
// caller for long.
func (s *System) Ask(msg Message, timeout time.Duration) (any, error) {
	to := s.root
	switch msg.(type) {
	case *AcquirePooled:
		to = s.pool
	case *QueryEvents:
		to = s.events
	}
	res, err := s.as.Root.RequestFuture(to, msg, timeout).Result()
	if errors.Is(err, actor.ErrTimeout) {
		return nil, fmt.Errorf("%w: no answer within %s", ErrCallTimeout, timeout)
	}
	if err != nil {
		return nil, err
	}
	if e, ok := res.(error); ok {
		return nil, e
	}
	return res, nil
}

// Catalog returns the templates this system can start.
func (s *System) Catalog() *templates.Catalog { return s.deps.resolver.catalog }

// Config returns the configuration the system runs with.
func (s *System) Config() *config.Config { return s.deps.cfg }

// Shutdown stops the whole tree: every server actor stops its process by
// the ladder, in parallel. It returns when all are stopped and reaped.
func (s *System) Shutdown() error {
	<-s.swept
	err := s.as.Root.StopFuture(s.root).Wait()
	s.as.Shutdown()
	if s.guardian != nil {
		_ = s.guardian.Stop()
	}
	if err != nil {
		return fmt.Errorf("stopping root supervisor: %w", err)
	}
	return nil
}
