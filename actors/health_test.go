//go:build linux

package actors

import (
	"fmt"
	"testing"
	"time"
)

func (ts *testSystem) health(t *testing.T, id string, recent time.Duration) *Health {
	t.Helper()
	res, err := ts.ask(t, &HealthCheck{ServerID: id, Recent: recent})
	if err != nil {
		t.Fatal(err)
	}
	return res.(*Health)
}

// A child's last answer stands in for a ping only when asked (Recent), only
// within the window, and only for the child that gave it.
func TestHealthFromRecentAnswer(t *testing.T) {
	ts := newTestSystem(t, nil)
	sc := ts.create(t, "fake")
	id := sc.Server.ServerID

	// Right after the handshake nothing has been answered yet: pinged.
	if h := ts.health(t, id, RecentExchange); !h.Healthy || h.PingMS == nil || h.PingAgeMS != nil {
		t.Fatalf("fresh server: %+v", h)
	}
	// That ping counts as an answer.
	if h := ts.health(t, id, RecentExchange); !h.Healthy || h.PingAgeMS == nil || h.PingVia != "ping" || h.PingMS == nil {
		t.Fatalf("after a ping: %+v", h)
	}
	// So does a call, also one whose tool failed.
	if _, err := ts.call(t, id, "fail", nil); err != nil {
		t.Fatal(err)
	}
	h := ts.health(t, id, RecentExchange)
	if !h.Healthy || h.PingVia != "call" || h.PingAgeMS == nil || *h.PingAgeMS > 1000 || h.PID != sc.Server.PID ||
		h.RSSMB == nil || *h.RSSMB <= 0 { // memory too, before the monitor's first scan
		t.Fatalf("after a call: %+v", h)
	}
	// Without Recent (health_check), or outside the window: a real ping.
	if h := ts.health(t, id, 0); !h.Healthy || h.PingAgeMS != nil {
		t.Fatalf("health_check: %+v", h)
	}
	time.Sleep(2 * time.Millisecond)
	if h := ts.health(t, id, time.Millisecond); !h.Healthy || h.PingAgeMS != nil {
		t.Fatalf("stale answer used: %+v", h)
	}

	// Once the child is dead and reaped, its answer no longer stands for
	// it, even before the root has heard of the exit.
	if _, err := ts.call(t, id, "fail", nil); err != nil {
		t.Fatal(err)
	}
	kill(t, sc.Server.PID)
	checkFor(t, 5*time.Second, 100*time.Microsecond, func() error {
		if !processGone(sc.Server.PID) {
			return fmt.Errorf("pid %d not reaped yet", sc.Server.PID)
		}
		return nil
	})
	if h := ts.health(t, id, time.Hour); h.Healthy && h.PingAgeMS != nil && h.PID == sc.Server.PID {
		t.Fatalf("a dead child reported healthy from its last answer: %+v", h)
	}

	// The answer of a child that has since died is not the new child's.
	checkFor(t, 10*time.Second, 10*time.Millisecond, func() error {
		if s := ts.server(t, id); s.Status != StateRunning || s.Restarts < 1 {
			return fmt.Errorf("status %s restarts %d", s.Status, s.Restarts)
		}
		return nil
	})
	h = ts.health(t, id, time.Hour)
	if !h.Healthy || h.PingAgeMS != nil || h.PID == sc.Server.PID {
		t.Fatalf("after a restart: %+v", h)
	}
}
