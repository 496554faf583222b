//go:build linux

package actors

import (
	"testing"
	"time"
)

func TestRestartTrackerDelays(t *testing.T) {
	tr := newRestartTracker(RestartPolicy{MaxRestarts: 100, Window: time.Hour})
	tr.random = func() float64 { return 0.5 } // no jitter
	t0 := time.Unix(0, 0)
	want := []time.Duration{100, 200, 400, 800, 1600, 3200, 6400, 12800, 25600, 30000, 30000}
	for i, w := range want {
		d, ok := tr.fail(t0.Add(time.Duration(i)*time.Second), 0)
		if !ok || d != w*time.Millisecond {
			t.Fatalf("failure %d: delay %v ok %v, want %v", i+1, d, ok, w*time.Millisecond)
		}
	}
	// After a stable run the backoff starts again from the initial delay.
	if d, _ := tr.fail(t0.Add(time.Minute), 2*time.Minute); d != 100*time.Millisecond {
		t.Fatalf("after a stable run: %v, want 100ms", d)
	}
}

func TestRestartTrackerJitterBounds(t *testing.T) {
	for _, r := range []float64{0, 0.999999} {
		tr := newRestartTracker(RestartPolicy{Jitter: 0.2})
		tr.random = func() float64 { return r }
		d, _ := tr.fail(time.Unix(0, 0), 0)
		if d < 80*time.Millisecond || d > 120*time.Millisecond {
			t.Fatalf("random %v: delay %v outside 100ms ±20%%", r, d)
		}
	}
}

func TestRestartTrackerIntensity(t *testing.T) {
	tr := newRestartTracker(RestartPolicy{MaxRestarts: 3, Window: 10 * time.Second})
	t0 := time.Unix(1000, 0)
	for i := range 3 {
		if _, ok := tr.fail(t0.Add(time.Duration(i)*time.Second), 0); !ok {
			t.Fatalf("failure %d refused", i+1)
		}
	}
	if _, ok := tr.fail(t0.Add(3*time.Second), 0); ok {
		t.Fatal("4th failure within the window allowed a restart")
	}
	// Failures older than the window no longer count.
	tr.reset()
	for i := range 3 {
		tr.fail(t0.Add(time.Duration(i)*time.Second), 0)
	}
	if _, ok := tr.fail(t0.Add(20*time.Second), 0); !ok {
		t.Fatal("a failure after the window was refused")
	}
}
