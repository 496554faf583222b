//go:build linux

package actors

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/metamcp/metamcp/config"
)

// createWith creates a "fake" server with the given restart config.
func (ts *testSystem) createWith(t *testing.T, rc *RestartConfig) string {
	t.Helper()
	res, err := ts.ask(t, &CreateServer{Request: CreateRequest{Name: "fake", Template: "fake",
		Config: ServerConfig{Restart: rc}}})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	return res.(*ServerCreated).Server.ServerID
}

// waitState waits until the server is in state with at least restarts.
func (ts *testSystem) waitState(t *testing.T, id, state string, restarts ...int) ServerInfo {
	t.Helper()
	min := 0
	if len(restarts) > 0 {
		min = restarts[0]
	}
	var s ServerInfo
	checkFor(t, 10*time.Second, 5*time.Millisecond, func() error {
		if s = ts.server(t, id); s.Status != state || s.Restarts < min {
			return fmt.Errorf("%s is %s after %d restarts, want %s after %d", id, s.Status, s.Restarts, state, min)
		}
		return nil
	})
	return s
}

// endBy makes the child end: "exit" cleanly (code 0), "crash" with code 3.
func (ts *testSystem) endBy(t *testing.T, id, tool string) {
	t.Helper()
	if _, err := ts.call(t, id, tool, nil); !errors.Is(err, ErrCrashed) {
		t.Fatalf("%s: %v, want ErrCrashed", tool, err)
	}
}

func TestRestartPolicies(t *testing.T) {
	t.Parallel()
	ts := newTestSystem(t, nil)
	cases := []struct {
		policy, end string
		restarted   bool
	}{
		{Permanent, "exit", true},
		{Permanent, "crash", true},
		{Transient, "exit", false},
		{Transient, "crash", true},
		{Temporary, "exit", false},
		{Temporary, "crash", false},
	}
	for _, c := range cases {
		id := ts.createWith(t, &RestartConfig{Policy: c.policy})
		ts.endBy(t, id, c.end)
		if c.restarted {
			s := ts.waitState(t, id, StateRunning, 1)
			if s.Restarts != 1 {
				t.Errorf("%s after %s: restarts %d, want 1", c.policy, c.end, s.Restarts)
			}
			continue
		}
		s := ts.waitState(t, id, StateStopped)
		if s.LastExit == nil || s.PID != 0 || s.Restarts != 0 {
			t.Errorf("%s after %s: %+v, want stopped with its last exit, no pid, no restart", c.policy, c.end, s)
		}
		_, err := ts.call(t, id, "echo", map[string]any{"text": "x"})
		if !errors.Is(err, ErrNotRunning) || !strings.Contains(err.Error(), "restart_server") {
			t.Errorf("call to a stopped %s server: %v", c.policy, err)
		}
		// It stays stopped: no restart comes later.
		time.Sleep(100 * time.Millisecond)
		if s := ts.server(t, id); s.Status != StateStopped {
			t.Errorf("%s after %s: %s later, want still stopped", c.policy, c.end, s.Status)
		}
		if !hasEvent(ts.events(t, id), EventServerExited) {
			t.Errorf("%s after %s: no %s event", c.policy, c.end, EventServerExited)
		}
	}
}

// The configured default policy applies when create_server names none.
func TestRestartPolicyFromConfig(t *testing.T) {
	t.Parallel()
	ts := newTestSystem(t, func(c *config.Config, _ *Options) { c.RestartPolicy = Temporary })
	id := ts.createWith(t, nil)
	ts.endBy(t, id, "crash")
	ts.waitState(t, id, StateStopped)
	// An explicit policy overrides it.
	id2 := ts.createWith(t, &RestartConfig{Policy: Permanent})
	ts.endBy(t, id2, "crash")
	ts.waitState(t, id2, StateRunning, 1)
}

func TestRestartServerFromCrashLoop(t *testing.T) {
	t.Parallel()
	ts := newTestSystem(t, nil)
	two := 2
	id := ts.createWith(t, &RestartConfig{MaxRestarts: &two})
	for i := range 3 {
		ts.waitState(t, id, StateRunning, i)
		ts.endBy(t, id, "crash")
	}
	ts.waitState(t, id, StateCrashLoop)
	res, err := ts.ask(t, &RestartServer{ServerID: id})
	if err != nil {
		t.Fatalf("restart_server: %v", err)
	}
	c := res.(*ServerCreated)
	if c.Server.ServerID != id || c.Server.PID == 0 || len(c.Tools) == 0 {
		t.Fatalf("restart_server answered %+v", c)
	}
	s := ts.waitState(t, id, StateRunning, 3)
	if s.Restarts != 3 {
		t.Errorf("restarts %d, want 3 (two by policy, one by hand)", s.Restarts)
	}
	if r, err := ts.call(t, id, "echo", map[string]any{"text": "back"}); err != nil || resultText(t, r) != "back" {
		t.Fatalf("call after restart_server: %v", err)
	}
	// The intensity count starts afresh: one more crash restarts it.
	ts.endBy(t, id, "crash")
	ts.waitState(t, id, StateRunning, 4)
	if !hasEvent(ts.events(t, id), EventRestartRequested) {
		t.Errorf("no %s event", EventRestartRequested)
	}
}

func TestRestartServerRunningAndStopped(t *testing.T) {
	t.Parallel()
	ts := newTestSystem(t, nil)
	id := ts.createWith(t, nil)
	pid1 := ts.server(t, id).PID
	res, err := ts.ask(t, &RestartServer{ServerID: id})
	if err != nil {
		t.Fatalf("restart_server of a running server: %v", err)
	}
	if pid2 := res.(*ServerCreated).Server.PID; pid2 == pid1 || pid2 == 0 {
		t.Fatalf("pid %d after restart, was %d", pid2, pid1)
	}
	if !processGone(pid1) {
		t.Errorf("old child %d still there", pid1)
	}
	tmp := ts.createWith(t, &RestartConfig{Policy: Temporary})
	ts.endBy(t, tmp, "exit")
	ts.waitState(t, tmp, StateStopped)
	if _, err := ts.ask(t, &RestartServer{ServerID: tmp}); err != nil {
		t.Fatalf("restart_server of a stopped temporary server: %v", err)
	}
	ts.waitState(t, tmp, StateRunning)
	if _, err := ts.ask(t, &RestartServer{ServerID: "srv_nope"}); !errors.Is(err, ErrUnknownServer) {
		t.Errorf("unknown server: %v", err)
	}
	// stop_server removes a stopped server too.
	ts.endBy(t, tmp, "exit")
	ts.waitState(t, tmp, StateStopped)
	if _, err := ts.ask(t, &StopServer{ServerID: tmp}); err != nil {
		t.Fatalf("stop_server of a stopped server: %v", err)
	}
}

// Servers that have no process (crash_loop, stopped) do not count towards
// max_concurrent_servers.
func TestMaxServersCountsLiveOnly(t *testing.T) {
	t.Parallel()
	ts := newTestSystem(t, func(c *config.Config, _ *Options) { c.MaxConcurrentServers = 1 })
	id := ts.createWith(t, &RestartConfig{Policy: Temporary})
	if _, err := ts.ask(t, &CreateServer{Request: CreateRequest{Name: "x", Template: "fake"}}); !errors.Is(err, ErrTooManyServers) {
		t.Fatalf("second server: %v, want ErrTooManyServers", err)
	}
	ts.endBy(t, id, "exit")
	ts.waitState(t, id, StateStopped)
	ts.createWith(t, nil)
}

func TestRestartConfigValidation(t *testing.T) {
	t.Parallel()
	r := &resolver{cfg: ptr(config.Defaults()), policy: RestartPolicy{}}
	zero, big, f := 0, 5000000, 0.5
	for _, c := range []struct {
		rc   RestartConfig
		want string
	}{
		{RestartConfig{Policy: "sometimes"}, "policy"},
		{RestartConfig{InitialBackoffMS: &zero}, "initial_backoff_ms"},
		{RestartConfig{MaxBackoffMS: &big}, "max_backoff_ms"},
		{RestartConfig{BackoffFactor: &f}, "backoff_factor"},
		{RestartConfig{MaxRestarts: &zero}, "max_restarts"},
		{RestartConfig{WindowSeconds: &zero}, "window_seconds"},
	} {
		var s Spec
		err := r.restartPolicy(&s, &c.rc)
		if !errors.Is(err, ErrBadRequest) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want ErrBadRequest naming %s", c.rc, err, c.want)
		}
	}
	var s Spec
	ten := 10
	if err := r.restartPolicy(&s, &RestartConfig{Policy: Transient, MaxRestarts: &ten}); err != nil ||
		s.Policy.Kind != Transient || s.Policy.MaxRestarts != 10 || s.Policy.Initial != 100*time.Millisecond {
		t.Errorf("valid: %v %+v", err, s.Policy)
	}
}

// stop_server and restart_server reach a server in backoff (its actor is
// suspended, waiting for the restart they cancel) and answer at once.
func TestStopAndRestartDuringBackoff(t *testing.T) {
	t.Parallel()
	ts := newTestSystem(t, func(_ *config.Config, o *Options) {
		o.Policy = RestartPolicy{Initial: 5 * time.Second, Max: 5 * time.Second}
	})
	for _, how := range []string{"stop", "restart"} {
		id := ts.createWith(t, nil)
		ts.endBy(t, id, "crash")
		ts.waitState(t, id, StateBackoff)
		t0 := time.Now()
		var err error
		if how == "stop" {
			_, err = ts.Ask(&StopServer{ServerID: id}, 3*time.Second)
		} else {
			_, err = ts.Ask(&RestartServer{ServerID: id}, 3*time.Second)
		}
		if err != nil {
			t.Fatalf("%s during backoff: %v after %s", how, err, time.Since(t0))
		}
		if how == "restart" {
			ts.waitState(t, id, StateRunning)
		}
	}
}

// A restart by hand whose new process dies while starting answers with
// the failure instead of never.
func TestRestartServerThatDiesAtStart(t *testing.T) {
	t.Parallel()
	marker := filepath.Join(t.TempDir(), "started")
	ts := newTestSystem(t, nil, fakeTemplate(t, "once", "once", map[string]string{"METAMCP_FAKE_MARKER": marker}))
	res, err := ts.ask(t, &CreateServer{Request: CreateRequest{Name: "once", Template: "once",
		Config: ServerConfig{Restart: &RestartConfig{Policy: Temporary}}}})
	if err != nil {
		t.Fatal(err)
	}
	id := res.(*ServerCreated).Server.ServerID
	ts.endBy(t, id, "crash")
	ts.waitState(t, id, StateStopped)
	if _, err := ts.Ask(&RestartServer{ServerID: id}, 10*time.Second); !errors.Is(err, ErrStartFailed) {
		t.Fatalf("restart_server of a child that dies at start: %v, want ErrStartFailed", err)
	}
}

// Bringing back a server with no process counts against the limit.
func TestRestartServerRespectsLimit(t *testing.T) {
	t.Parallel()
	ts := newTestSystem(t, func(c *config.Config, _ *Options) { c.MaxConcurrentServers = 1 })
	id := ts.createWith(t, &RestartConfig{Policy: Temporary})
	ts.endBy(t, id, "exit")
	ts.waitState(t, id, StateStopped)
	ts.createWith(t, nil)
	if _, err := ts.ask(t, &RestartServer{ServerID: id}); !errors.Is(err, ErrTooManyServers) {
		t.Fatalf("restart over the limit: %v, want ErrTooManyServers", err)
	}
}

// A stopped (by its policy) pooled server is not handed out again.
func TestPoolSkipsStopped(t *testing.T) {
	t.Parallel()
	ts := newTestSystem(t, func(c *config.Config, _ *Options) { c.RestartPolicy = Temporary })
	res, err := ts.ask(t, &AcquirePooled{Template: "fake"})
	if err != nil {
		t.Fatal(err)
	}
	first := res.(*PoolAcquired).Server.ServerID
	ts.endBy(t, first, "exit")
	ts.waitState(t, first, StateStopped)
	res, err = ts.ask(t, &AcquirePooled{Template: "fake"})
	if err != nil {
		t.Fatal(err)
	}
	if got := res.(*PoolAcquired); got.Reused || got.Server.ServerID == first {
		t.Fatalf("the pool handed out the stopped server: %+v", got)
	}
}

// The exit metamcp records is the child's own, also through the shim: a
// child that dies of SIGSEGV is reported so, not as the shim's exit.
func TestExitSignalThroughShim(t *testing.T) {
	t.Parallel()
	for _, shim := range shimModes {
		t.Run("process_shim_"+shim, func(t *testing.T) {
			t.Parallel()
			segv := config.Template{Name: "segv", Command: "sh", Args: []string{"-c", `echo "about to fault" >&2; kill -SEGV $$`}}
			ts := newTestSystem(t, func(c *config.Config, _ *Options) {
				c.ProcessShim = shim
				c.AllowedCommands = append(c.AllowedCommands, "sh")
			}, segv)
			_, err := ts.ask(t, &CreateServer{Request: CreateRequest{Name: "segv", Template: "segv"}})
			if !errors.Is(err, ErrStartFailed) || !strings.Contains(err.Error(), "killed by signal SIGSEGV") ||
				strings.Contains(err.Error(), "goroutine") {
				t.Fatalf("create: %v, want a start failure naming SIGSEGV (and no shim crash dump)", err)
			}
		})
	}
}

// A status update sent before a failure can reach the root after it
// (failures are system messages and jump the queue): it must not undo the
// backoff, or stop_server would wait forever on the suspended actor.
func TestStaleStatusAfterFailure(t *testing.T) {
	t.Parallel()
	ts := newTestSystem(t, func(_ *config.Config, o *Options) {
		o.Policy = RestartPolicy{Initial: 5 * time.Second, Max: 5 * time.Second}
	})
	id := ts.createWith(t, nil)
	ts.endBy(t, id, "crash")
	ts.waitState(t, id, StateBackoff)
	// The update the actor sent when it became ready, dequeued late.
	// Generation 1 is not newer than the one that failed (they only grow).
	ts.as.Root.Send(ts.root, &statusUpdate{ID: id, State: StateRunning, PID: 1, Gen: 1, Since: time.Now()})
	if s := ts.server(t, id); s.Status != StateBackoff {
		t.Fatalf("a stale update moved the server to %s", s.Status)
	}
	if _, err := ts.Ask(&StopServer{ServerID: id}, 3*time.Second); err != nil {
		t.Fatalf("stop_server after a stale update: %v", err)
	}
}

// Stopping a server while its create waits for the handshake answers the
// create at once.
func TestStopDuringStartAnswersCreate(t *testing.T) {
	t.Parallel()
	ts := newTestSystem(t, func(c *config.Config, _ *Options) { c.StartTimeoutSeconds = 30 },
		fakeTemplate(t, "mute", "hang_init", nil))
	created := make(chan error, 1)
	go func() {
		_, err := ts.Ask(&CreateServer{Request: CreateRequest{Name: "mute", Template: "mute"}}, 20*time.Second)
		created <- err
	}()
	var id string
	checkFor(t, 5*time.Second, 5*time.Millisecond, func() error {
		res, err := ts.ask(t, &ListServers{})
		if err != nil {
			return err
		}
		if l := res.(*ServerList).Servers; len(l) == 1 {
			id = l[0].ServerID
			return nil
		}
		return errString("not listed yet")
	})
	if _, err := ts.ask(t, &StopServer{ServerID: id}); err != nil {
		t.Fatalf("stop: %v", err)
	}
	select {
	case err := <-created:
		if !errors.Is(err, ErrStopping) {
			t.Fatalf("create: %v, want ErrStopping", err)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("the create was not answered when the server was stopped")
	}
}

type errString string

func (e errString) Error() string { return string(e) }

// A call held for a restart whose new child dies during its handshake is
// kept for the next attempt (issue 12): it is answered by the child after
// that, not failed as "restarting".
func TestHeldCallSurvivesFailedRestart(t *testing.T) {
	t.Parallel()
	marker := filepath.Join(t.TempDir(), "starts")
	ts := newTestSystem(t, nil, fakeTemplate(t, "third", "third_time", map[string]string{"METAMCP_FAKE_MARKER": marker}))
	id := ts.create(t, "third").Server.ServerID
	ts.endBy(t, id, "crash")
	ts.waitState(t, id, StateStarting, 1) // the second child, in its handshake, about to die
	res, err := ts.callBy(t, id, "echo", map[string]any{"text": "held"}, time.Now().Add(15*time.Second))
	if err != nil || resultText(t, res) != "held" {
		t.Fatalf("a call held through a restart that died in its handshake: %v %v", res, err)
	}
	if s := ts.server(t, id); s.Restarts < 2 {
		t.Fatalf("answered after %d restarts: the failed attempt was not the one it waited through", s.Restarts)
	}
	crashes := 0
	for _, e := range ts.events(t, id).Events {
		switch e.Event {
		case EventServerStartFailed:
			t.Errorf("the restart that died in its handshake was recorded as %s, want %s", e.Event, EventServerCrashed)
		case EventServerCrashed:
			crashes++
		}
	}
	if crashes != 2 {
		t.Errorf("%d server_crashed events, want 2 (the first child, and the restart that died in its handshake)", crashes)
	}
}
