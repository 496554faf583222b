//go:build linux

package actors

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/metamcp/metamcp/config"
)

func TestCreateCallStop(t *testing.T) {
	ts := newTestSystem(t, nil)
	sc := ts.create(t, "fake")
	if sc.Server.PID <= 0 || sc.Server.Status != StateRunning || len(sc.Tools) != 7 {
		t.Fatalf("created = %+v tools %v", sc.Server, sc.Tools)
	}
	r, err := ts.call(t, sc.Server.ServerID, "echo", map[string]any{"text": "hello"})
	if err != nil || resultText(t, r) != "hello" || r.IsError {
		t.Fatalf("echo = %v, %v", r, err)
	}
	r, err = ts.call(t, sc.Server.ServerID, "fail", nil)
	if err != nil || !r.IsError {
		t.Fatalf("fail tool: isError=%v err=%v", r != nil && r.IsError, err)
	}
	if _, err := ts.ask(t, &StopServer{ServerID: sc.Server.ServerID}); err != nil {
		t.Fatal(err)
	}
	if !processGone(sc.Server.PID) {
		t.Fatalf("pid %d still there after stop", sc.Server.PID)
	}
	if _, err := ts.call(t, sc.Server.ServerID, "echo", nil); !errors.Is(err, ErrUnknownServer) {
		t.Fatalf("call after stop: %v, want ErrUnknownServer", err)
	}
}

// A slow call must not hold up other calls to the same server.
func TestCallsRunConcurrently(t *testing.T) {
	ts := newTestSystem(t, nil)
	id := ts.create(t, "fake").Server.ServerID
	slow := make(chan error, 1)
	go func() {
		_, err := ts.call(t, id, "sleep", map[string]any{"ms": 20000})
		slow <- err
	}()
	checkFor(t, 5*time.Second, 5*time.Millisecond, func() error {
		if n := ts.server(t, id).InFlight; n != 1 {
			return fmt.Errorf("in flight = %d, want 1", n)
		}
		return nil
	})
	for i := range 20 {
		r, err := ts.call(t, id, "echo", map[string]any{"text": strconv.Itoa(i)})
		if err != nil || resultText(t, r) != strconv.Itoa(i) {
			t.Fatalf("echo %d while a slow call runs: %v %v", i, r, err)
		}
	}
	select {
	case err := <-slow:
		t.Fatalf("the slow call ended early: %v", err)
	default:
	}
	if _, err := ts.ask(t, &StopServer{ServerID: id}); err != nil {
		t.Fatal(err)
	}
	if err := <-slow; !errors.Is(err, ErrStopping) {
		t.Fatalf("slow call after stop: %v, want ErrStopping", err)
	}
}

func TestCrashFailsInFlightCallsAndRestarts(t *testing.T) {
	ts := newTestSystem(t, nil)
	sc := ts.create(t, "fake")
	id, pid1 := sc.Server.ServerID, sc.Server.PID

	inflight := make(chan error, 1)
	go func() {
		_, err := ts.call(t, id, "sleep", map[string]any{"ms": 25000})
		inflight <- err
	}()
	checkFor(t, 5*time.Second, 5*time.Millisecond, func() error {
		if ts.server(t, id).InFlight != 1 {
			return errors.New("sleep not in flight yet")
		}
		return nil
	})
	_, err := ts.call(t, id, "crash", nil)
	if !errors.Is(err, ErrCrashed) || !strings.Contains(err.Error(), "exited with code 3") ||
		!strings.Contains(err.Error(), "boom: crashing on purpose") {
		t.Fatalf("crash call: %v; want ErrCrashed naming the exit and the last stderr line", err)
	}
	select { // the other call fails at once, not at its 25 s
	case err := <-inflight:
		if !errors.Is(err, ErrCrashed) {
			t.Fatalf("in-flight call: %v, want ErrCrashed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("in-flight call did not fail when the child died")
	}
	checkFor(t, 10*time.Second, 10*time.Millisecond, func() error {
		s := ts.server(t, id)
		if s.Status != StateRunning || s.Restarts != 1 || s.PID == pid1 || s.PID == 0 {
			return fmt.Errorf("server = %s restarts %d pid %d", s.Status, s.Restarts, s.PID)
		}
		return nil
	})
	r, err := ts.call(t, id, "echo", map[string]any{"text": "again"})
	if err != nil || resultText(t, r) != "again" {
		t.Fatalf("call after restart: %v %v", r, err)
	}
	if !processGone(pid1) {
		t.Fatalf("crashed child %d not reaped", pid1)
	}
	s := ts.server(t, id)
	if s.LastExit == nil || s.LastExit.Code != 3 {
		t.Fatalf("last exit = %+v, want code 3", s.LastExit)
	}
	page := ts.events(t, id)
	for _, want := range []string{EventServerCreated, EventServerStarted, EventServerCrashed, EventRestartScheduled, EventServerRestarted} {
		if !hasEvent(page, want) {
			t.Errorf("no %s event in %v", want, eventNames(page))
		}
	}
}

func TestKilledFromOutsideIsRestarted(t *testing.T) {
	ts := newTestSystem(t, nil)
	sc := ts.create(t, "fake")
	kill(t, sc.Server.PID)
	checkFor(t, 10*time.Second, 10*time.Millisecond, func() error {
		s := ts.server(t, sc.Server.ServerID)
		if s.Status != StateRunning || s.Restarts < 1 {
			return fmt.Errorf("status %s restarts %d", s.Status, s.Restarts)
		}
		if s.LastExit == nil || s.LastExit.Signal != "SIGKILL" {
			return fmt.Errorf("last exit %+v, want SIGKILL", s.LastExit)
		}
		return nil
	})
	r, err := ts.call(t, sc.Server.ServerID, "pid", nil)
	if err != nil || resultText(t, r) == strconv.Itoa(sc.Server.PID) {
		t.Fatalf("pid after restart = %v %v (old pid %d)", r, err, sc.Server.PID)
	}
}

func TestStartFailures(t *testing.T) {
	// 3 s: a race-built child on a loaded 2-core machine can take over 1 s
	// just to start and die.
	ts := newTestSystem(t, func(c *config.Config, _ *Options) { c.StartTimeoutSeconds = 3 },
		fakeTemplate(t, "dies", "die_at_start", nil), fakeTemplate(t, "hangs", "hang_init", nil))
	for _, tc := range []struct{ template, want string }{
		{"dies", "fatal: no config found"},
		{"hangs", "no answer to initialize within 3s"},
	} {
		t.Run(tc.template, func(t *testing.T) {
			_, err := ts.ask(t, &CreateServer{Request: CreateRequest{Name: "x", Template: tc.template}})
			if !errors.Is(err, ErrStartFailed) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("create: %v; want ErrStartFailed mentioning %q", err, tc.want)
			}
		})
	}
	checkFor(t, 5*time.Second, 10*time.Millisecond, func() error {
		if pids := ts.livePIDs(t); len(pids) != 0 {
			return fmt.Errorf("failed servers still listed: %v", pids)
		}
		res, _ := ts.ask(t, &ListServers{})
		if n := len(res.(*ServerList).Servers); n != 0 {
			return fmt.Errorf("%d servers listed", n)
		}
		return nil
	})
	if !strings.Contains(ts.logs.String(), "thinking about it") {
		t.Error("the hanging child's stderr was not logged")
	}
}

func TestCallTimeoutCancelsAtChild(t *testing.T) {
	ts := newTestSystem(t, nil)
	res, err := ts.ask(t, &CreateServer{Request: CreateRequest{Name: "t", Template: "fake",
		Config: ServerConfig{TimeoutSeconds: ptr(1)}}})
	if err != nil {
		t.Fatal(err)
	}
	id := res.(*ServerCreated).Server.ServerID
	_, err = ts.call(t, id, "sleep", map[string]any{"ms": 20000})
	if !errors.Is(err, ErrCallTimeout) || !strings.Contains(err.Error(), "cancelled at the server") {
		t.Fatalf("slow call: %v, want ErrCallTimeout", err)
	}
	checkFor(t, 5*time.Second, 10*time.Millisecond, func() error {
		if !strings.Contains(ts.logs.String(), "sleep cancelled by client") {
			return errors.New("the child never saw notifications/cancelled")
		}
		return nil
	})
	if !hasEvent(ts.events(t, id), EventToolTimeout) {
		t.Error("no tool_timeout event")
	}
	if r, err := ts.call(t, id, "echo", map[string]any{"text": "still here"}); err != nil || resultText(t, r) != "still here" {
		t.Fatalf("server after timeout: %v %v", r, err)
	}
}

func TestCrashLoop(t *testing.T) {
	marker := t.TempDir() + "/marker"
	ts := newTestSystem(t, func(_ *config.Config, o *Options) {
		o.Policy = RestartPolicy{MaxRestarts: 3, Window: time.Minute, Initial: 10 * time.Millisecond, Max: 40 * time.Millisecond}
	}, fakeTemplate(t, "once", "once", map[string]string{"METAMCP_FAKE_MARKER": marker}))
	healthy := ts.create(t, "fake").Server.ServerID
	id := ts.create(t, "once").Server.ServerID
	if _, err := ts.call(t, id, "crash", nil); !errors.Is(err, ErrCrashed) {
		t.Fatalf("crash: %v", err)
	}
	checkFor(t, 10*time.Second, 10*time.Millisecond, func() error {
		if s := ts.server(t, id); s.Status != StateCrashLoop {
			return fmt.Errorf("status %s restarts %d", s.Status, s.Restarts)
		}
		return nil
	})
	s := ts.server(t, id)
	if s.Restarts != 3 || s.PID != 0 {
		t.Errorf("crash_loop server: restarts %d pid %d, want 3 and 0", s.Restarts, s.PID)
	}
	_, err := ts.call(t, id, "echo", nil)
	if !errors.Is(err, ErrNotRunning) || !strings.Contains(err.Error(), "crash_loop") {
		t.Fatalf("call to crash_loop server: %v", err)
	}
	if r, err := ts.call(t, healthy, "echo", map[string]any{"text": "fine"}); err != nil || resultText(t, r) != "fine" {
		t.Fatalf("other server during crash loop: %v %v", r, err)
	}
	if !hasEvent(ts.events(t, id), EventCrashLoop) {
		t.Error("no server_crash_loop event")
	}
	// The backoff sequence: 10, 20, 40 ms (×2, capped at 40), each ±20 %.
	var delays []int64
	for _, e := range ts.events(t, id).Events {
		if e.Event == EventRestartScheduled {
			delays = append(delays, e.Data["delay_ms"].(int64))
		}
	}
	want := []int64{10, 20, 40}
	if len(delays) != len(want) {
		t.Fatalf("restart delays %v, want about %v", delays, want)
	}
	for i, d := range delays {
		if lo, hi := want[i]*8/10, want[i]*12/10; d < lo || d > hi {
			t.Errorf("restart %d after %d ms, want %d ms ±20%% (all: %v)", i+1, d, want[i], delays)
		}
	}
	if _, err := ts.ask(t, &StopServer{ServerID: id}); err != nil {
		t.Fatalf("stopping a crash_loop server: %v", err)
	}
}

func TestMaxConcurrentServers(t *testing.T) {
	ts := newTestSystem(t, func(c *config.Config, _ *Options) { c.MaxConcurrentServers = 2 })
	ts.create(t, "fake")
	ts.create(t, "fake")
	_, err := ts.ask(t, &CreateServer{Request: CreateRequest{Name: "third", Template: "fake"}})
	if !errors.Is(err, ErrTooManyServers) || !strings.Contains(err.Error(), "max_concurrent_servers") {
		t.Fatalf("third create: %v", err)
	}
}

func (ts *testSystem) events(t *testing.T, id string) *EventPage {
	t.Helper()
	res, err := ts.ask(t, &QueryEvents{Limit: 1000, ServerID: id})
	if err != nil {
		t.Fatal(err)
	}
	return res.(*EventPage)
}

func hasEvent(p *EventPage, kind string) bool {
	for _, e := range p.Events {
		if e.Event == kind {
			return true
		}
	}
	return false
}

func eventNames(p *EventPage) []string {
	var out []string
	for _, e := range p.Events {
		out = append(out, e.Event)
	}
	return out
}

// A child that cannot even be executed fails its create at once, with the
// reason, and leaves nothing listed.
func TestForkFailure(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "notabinary")
	if err := os.WriteFile(bad, []byte{0, 1, 2, 3}, 0o755); err != nil {
		t.Fatal(err)
	}
	ts := newTestSystem(t, func(c *config.Config, _ *Options) {
		c.AllowedCommands = append(c.AllowedCommands, "notabinary")
	}, config.Template{Name: "bad", Command: bad})
	t0 := time.Now()
	_, err := ts.ask(t, &CreateServer{Request: CreateRequest{Name: "bad", Template: "bad"}})
	if !errors.Is(err, ErrStartFailed) || !strings.Contains(err.Error(), "exec format error") {
		t.Fatalf("create: %v", err)
	}
	if d := time.Since(t0); d > 5*time.Second {
		t.Fatalf("create took %s: the failure was not answered directly", d)
	}
	checkFor(t, 5*time.Second, 10*time.Millisecond, func() error {
		res, _ := ts.ask(t, &ListServers{})
		if n := len(res.(*ServerList).Servers); n != 0 {
			return fmt.Errorf("%d servers listed", n)
		}
		return nil
	})
}
