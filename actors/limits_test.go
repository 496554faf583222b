//go:build linux

package actors

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/metamcp/metamcp/config"
)

// A child whose process group grows past max_memory_mb is killed: the call
// fails with the exit, a memory_limit_exceeded event is recorded, and the
// restart policy brings the server back. Other servers are not touched.
func TestMemoryLimitKillsChild(t *testing.T) {
	t.Parallel()
	ts := newTestSystem(t, func(c *config.Config, _ *Options) { c.MemoryCheckIntervalMS = 50 })
	limit := 150
	res, err := ts.ask(t, &CreateServer{Request: CreateRequest{Name: "hog", Template: "fake",
		Config: ServerConfig{MaxMemoryMB: &limit}}})
	if err != nil {
		t.Fatal(err)
	}
	hog := res.(*ServerCreated).Server
	calm := ts.create(t, "fake").Server
	// Below the limit, health shows the group's memory and CPU.
	checkFor(t, 5*time.Second, 20*time.Millisecond, func() error {
		h, err := ts.ask(t, &HealthCheck{ServerID: hog.ServerID})
		if err != nil {
			return err
		}
		hh := h.(*Health)
		if hh.GroupRSSMB == nil || hh.CPUPercent == nil || *hh.GroupRSSMB <= 0 || *hh.GroupRSSMB > float64(limit) || hh.Processes < 1 {
			return fmt.Errorf("health before the hog: %+v", hh)
		}
		return nil
	})
	t0 := time.Now()
	_, err = ts.call(t, hog.ServerID, "hog", map[string]any{"mb": 400})
	if !errors.Is(err, ErrCrashed) || !strings.Contains(err.Error(), "SIGKILL") {
		t.Fatalf("hog call: %v, want ErrCrashed by SIGKILL", err)
	}
	t.Logf("killed %s after the call began", time.Since(t0).Round(time.Millisecond))
	page := ts.events(t, hog.ServerID)
	var ev *Event
	for i := range page.Events {
		if page.Events[i].Event == EventMemoryExceeded {
			ev = &page.Events[i]
		}
	}
	if ev == nil || ev.Data["max_memory_mb"] != int64(limit) || ev.Data["rss_mb"].(float64) <= float64(limit) {
		t.Fatalf("memory_limit_exceeded event: %+v in %v", ev, eventNames(page))
	}
	s := ts.waitState(t, hog.ServerID, StateRunning, 1)
	if s.LastExit == nil || s.LastExit.Signal != "SIGKILL" {
		t.Errorf("last exit %+v, want SIGKILL", s.LastExit)
	}
	if r, err := ts.call(t, calm.ServerID, "echo", map[string]any{"text": "calm"}); err != nil || resultText(t, r) != "calm" {
		t.Errorf("the other server: %v", err)
	}
	if got := ts.server(t, calm.ServerID); got.Restarts != 0 || got.PID != calm.PID {
		t.Errorf("the other server was touched: %+v", got)
	}
}
