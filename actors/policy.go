package actors

import (
	"math"
	"math/rand/v2"
	"time"

	"github.com/metamcp/metamcp/config"
)

// RestartPolicy says how the root supervisor restarts a failed server.
// Zero fields mean the documented defaults (see withDefaults).
type RestartPolicy struct {
	// Kind is when to restart, as in Erlang/OTP: "permanent" (after any
	// exit), "transient" (only after an abnormal exit: a non-zero code, a
	// signal, a failed start) or "temporary" (never). Default permanent.
	Kind string
	// MaxRestarts within Window puts the server in crash_loop (default 5 in 60s).
	MaxRestarts int
	Window      time.Duration
	// Backoff between restarts: Initial × Multiplier^n, capped at Max, each
	// delay spread by ±Jitter (a fraction), reset after ResetAfter of uptime.
	Initial    time.Duration // default 100ms
	Max        time.Duration // default 30s
	Multiplier float64       // default 2
	Jitter     float64       // default 0.2
	ResetAfter time.Duration // default 60s
}

// Restart policy kinds.
const (
	Permanent = "permanent"
	Transient = "transient"
	Temporary = "temporary"
)

func (p RestartPolicy) withDefaults() RestartPolicy {
	if p.Kind == "" {
		p.Kind = Permanent
	}
	if p.MaxRestarts == 0 {
		p.MaxRestarts = 5
	}
	if p.Window == 0 {
		p.Window = 60 * time.Second
	}
	if p.Initial == 0 {
		p.Initial = 100 * time.Millisecond
	}
	if p.Max == 0 {
		p.Max = 30 * time.Second
	}
	if p.Multiplier == 0 {
		p.Multiplier = 2
	}
	if p.Jitter == 0 {
		p.Jitter = 0.2
	}
	if p.ResetAfter == 0 {
		p.ResetAfter = 60 * time.Second
	}
	return p
}

// restarts says whether a server that ended (normally or not) is restarted
// under this policy.
func (p RestartPolicy) restarts(abnormal bool) bool {
	switch p.Kind {
	case Temporary:
		return false
	case Transient:
		return abnormal
	}
	return true
}

// over lays the non-zero fields of o over p.
func (p RestartPolicy) over(o RestartPolicy) RestartPolicy {
	if o.Kind != "" {
		p.Kind = o.Kind
	}
	if o.MaxRestarts != 0 {
		p.MaxRestarts = o.MaxRestarts
	}
	if o.Window != 0 {
		p.Window = o.Window
	}
	if o.Initial != 0 {
		p.Initial = o.Initial
	}
	if o.Max != 0 {
		p.Max = o.Max
	}
	if o.Multiplier != 0 {
		p.Multiplier = o.Multiplier
	}
	if o.Jitter != 0 {
		p.Jitter = o.Jitter
	}
	if o.ResetAfter != 0 {
		p.ResetAfter = o.ResetAfter
	}
	return p
}

// policyFromConfig is the default policy the configuration sets.
func policyFromConfig(c *config.Config) RestartPolicy {
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	return RestartPolicy{
		Kind: c.RestartPolicy, MaxRestarts: c.RestartMaxRestarts,
		Window:  time.Duration(c.RestartWindowSeconds) * time.Second,
		Initial: ms(c.RestartInitialBackoffMS), Max: ms(c.RestartMaxBackoffMS),
		Multiplier: float64(c.RestartBackoffFactor),
		ResetAfter: time.Duration(c.RestartStableSeconds) * time.Second,
	}
}

// restartTracker applies a RestartPolicy to one server. It is owned by the
// root actor and not safe for concurrent use.
type restartTracker struct {
	policy   RestartPolicy
	attempt  int
	failures []time.Time
	random   func() float64 // in [0,1); injected by tests
}

func newRestartTracker(p RestartPolicy) *restartTracker {
	return &restartTracker{policy: p.withDefaults(), random: rand.Float64}
}

// fail records a failure at now, after the child had been up for upFor. It
// returns the delay before the next restart, or ok=false when the server
// has failed too often within the window and must not be restarted.
func (t *restartTracker) fail(now time.Time, upFor time.Duration) (delay time.Duration, ok bool) {
	p := t.policy
	if upFor >= p.ResetAfter {
		t.attempt = 0
	}
	cut := now.Add(-p.Window)
	kept := t.failures[:0]
	for _, f := range t.failures {
		if f.After(cut) {
			kept = append(kept, f)
		}
	}
	t.failures = append(kept, now)
	if len(t.failures) > p.MaxRestarts {
		return 0, false
	}
	base := float64(p.Initial) * math.Pow(p.Multiplier, float64(t.attempt))
	base = math.Min(base, float64(p.Max))
	t.attempt++
	spread := 1 + p.Jitter*(2*t.random()-1)
	return time.Duration(base * spread), true
}

// reset forgets past failures (a restart by hand).
func (t *restartTracker) reset() {
	t.attempt = 0
	t.failures = nil
}
