//go:build linux

package actors

import (
	"errors"
	"testing"
	"time"

	"github.com/metamcp/metamcp/config"
)

// With DeferStartup, Start leaves the guardian for later, and the first
// child waits for it: no child is ever forked without one.
func TestDeferredStartupGuardsFirstChild(t *testing.T) {
	ts := newTestSystem(t, func(_ *config.Config, o *Options) { o.DeferStartup = time.Hour })
	u := ts.deps.startup
	if u.guardian != nil {
		t.Fatal("guardian started although deferred")
	}
	ts.create(t, "fake")
	if u.guardian == nil {
		t.Fatal("a child started before the guardian")
	}
	g := u.guardian
	ts.StartBackground() // later triggers change nothing
	if u.guardian != g {
		t.Fatal("StartBackground started a second guardian")
	}
}

// A deferred start-up that never began still sweeps once, at shutdown,
// without starting a guardian for nothing.
func TestDeferredStartupSweepsAtShutdown(t *testing.T) {
	ts := newTestSystem(t, func(_ *config.Config, o *Options) { o.DeferStartup = time.Hour })
	if g := ts.deps.startup.end(); g != nil {
		t.Fatal("end started a guardian")
	}
	select {
	case <-ts.deps.startup.swept:
	default:
		t.Fatal("end returned before the sweep was done")
	}
}

// Once shutdown has begun (startup.end), no child is forked: a create that
// comes late fails instead of starting a process with no guardian.
func TestNoForkAfterStartupEnded(t *testing.T) {
	ts := newTestSystem(t, func(_ *config.Config, o *Options) { o.DeferStartup = time.Hour })
	if g := ts.deps.startup.end(); g != nil {
		t.Fatalf("a guardian was started by end: %v", g)
	}
	_, err := ts.ask(t, &CreateServer{Request: CreateRequest{Name: "late", Template: "fake"}})
	if !errors.Is(err, ErrShuttingDown) {
		t.Fatalf("create after end: %v, want ErrShuttingDown", err)
	}
	if n := len(ts.livePIDs(t)); n != 0 {
		t.Fatalf("%d children forked after end", n)
	}
}
