//go:build linux

package actors

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/metamcp/metamcp/actors/specstore"
	"github.com/metamcp/metamcp/config"
)

// listed returns list_servers by id.
func (ts *testSystem) listed(t *testing.T) map[string]ServerInfo {
	t.Helper()
	res, err := ts.ask(t, &ListServers{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]ServerInfo{}
	for _, s := range res.(*ServerList).Servers {
		out[s.ServerID] = s
	}
	return out
}

// A restore that cannot complete for one server holds no other back: a
// template gone and max_concurrent_servers reached leave their servers
// restore_failed with the reason; restart_server tries again and fails the
// same way while the cause stands; a server still starting can be stopped
// at once; stopped and failed ones are forgotten for the next run.
func TestRestoreFailuresAndStops(t *testing.T) {
	state := t.TempDir()
	onState := func(max int) func(*config.Config, *Options) {
		return func(c *config.Config, _ *Options) { c.StateDirectory, c.MaxConcurrentServers = state, max }
	}
	run1 := newTestSystem(t, onState(10), fakeTemplate(t, "slow", "ok", nil), fakeTemplate(t, "vanish", "ok", nil))
	ids := map[string]string{}
	for _, n := range []string{"fake", "vanish", "fake", "slow", "fake"} {
		sc := run1.create(t, n)
		ids[fmt.Sprintf("%s%d", n, len(ids))] = sc.Server.ServerID
	}
	if err := run1.Shutdown(); err != nil {
		t.Fatal(err)
	}

	// Run 2: "vanish" is gone, "slow" now hangs in initialize, and only
	// three servers may be live: fake0, fake2 and slow3 take them.
	run2 := newTestSystem(t, onState(3), fakeTemplate(t, "slow", "hang_init", nil))
	if got := run2.listed(t); len(got) != 5 {
		t.Fatalf("right after Start: %d servers listed, want 5: %v", len(got), got)
	}
	checkFor(t, 10*time.Second, 10*time.Millisecond, func() error {
		got := run2.listed(t)
		for key, want := range map[string]string{"fake0": StateRunning, "vanish1": StateRestoreFailed,
			"fake2": StateRunning, "slow3": StateStarting, "fake4": StateRestoreFailed} {
			if s := got[ids[key]]; s.Status != want || !s.Restored {
				return fmt.Errorf("%s: %s (restored %v), want %s", key, s.Status, s.Restored, want)
			}
		}
		return nil
	})
	got := run2.listed(t)
	if e := got[ids["vanish1"]].Error; !strings.Contains(e, `unknown template "vanish"`) {
		t.Errorf("vanish1's reason: %q", e)
	}
	if e := got[ids["fake4"]].Error; !strings.Contains(e, "3 of 3 servers are live") {
		t.Errorf("fake4's reason: %q", e)
	}
	if _, err := run2.call(t, ids["vanish1"], "echo", nil); !errors.Is(err, ErrNotRunning) ||
		!strings.Contains(err.Error(), "could not be restored") {
		t.Errorf("call to a restore_failed server: %v", err)
	}
	// Stopping the server that hangs in its restore answers at once.
	t0 := time.Now()
	if _, err := run2.ask(t, &StopServer{ServerID: ids["slow3"]}); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(t0); d > 5*time.Second {
		t.Errorf("stopping a server during its restore took %s", d)
	}

	if _, err := run2.ask(t, &RestartServer{ServerID: ids["vanish1"]}); err == nil || !strings.Contains(err.Error(), "unknown template") {
		t.Errorf("restart_server while the template is still gone: %v", err)
	}
	if s := run2.server(t, ids["vanish1"]); s.Status != StateRestoreFailed {
		t.Errorf("after a failed restart_server: %s", s.Status)
	}
	// Room again: fake4 comes back by hand.
	if _, err := run2.ask(t, &RestartServer{ServerID: ids["fake4"]}); err != nil {
		t.Fatalf("restart_server of fake4: %v", err)
	}
	if _, err := run2.ask(t, &StopServer{ServerID: ids["vanish1"]}); err != nil {
		t.Fatal(err)
	}
	if err := run2.Shutdown(); err != nil {
		t.Fatal(err)
	}

	run3 := newTestSystem(t, onState(10))
	checkFor(t, 10*time.Second, 10*time.Millisecond, func() error {
		got := run3.listed(t)
		if len(got) != 3 {
			return fmt.Errorf("%d servers: %v", len(got), got)
		}
		for _, key := range []string{"fake0", "fake2", "fake4"} {
			if s := got[ids[key]]; s.Status != StateRunning {
				return fmt.Errorf("%s: %q", key, s.Status)
			}
		}
		return nil
	})
	if _, err := run3.call(t, ids["fake4"], "echo", map[string]any{"text": "hi"}); err != nil {
		t.Errorf("call after the restore: %v", err)
	}
}

// Restored servers are listed as soon as Start returns, but forked only
// once the guardian runs (StartBackground, which serve calls after
// initialize): a call made before waits, and is answered after.
func TestRestoreWaitsForStartup(t *testing.T) {
	state := t.TempDir()
	run1 := newTestSystem(t, func(c *config.Config, _ *Options) { c.StateDirectory = state })
	a, b := run1.create(t, "fake").Server.ServerID, run1.create(t, "fake").Server.ServerID
	if err := run1.Shutdown(); err != nil {
		t.Fatal(err)
	}

	run2 := newTestSystem(t, func(c *config.Config, o *Options) { c.StateDirectory, o.DeferStartup = state, time.Hour })
	got := run2.listed(t)
	for _, id := range []string{a, b} {
		if s := got[id]; s.Status != StateStarting || s.PID != 0 || !s.Restored {
			t.Fatalf("%s before startup: %+v", id, s)
		}
	}
	answered := make(chan error, 1)
	go func() {
		_, err := run2.call(t, a, "echo", map[string]any{"text": "early"})
		answered <- err
	}()
	select {
	case err := <-answered:
		t.Fatalf("a call was answered before any child could be forked: %v", err)
	case <-time.After(200 * time.Millisecond):
	}
	if _, err := run2.ask(t, &StopServer{ServerID: b}); err != nil { // not started yet: removed at once
		t.Fatal(err)
	}
	run2.StartBackground()
	select {
	case err := <-answered:
		if err != nil {
			t.Fatalf("the held call: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the held call was not answered after startup")
	}
	if got := run2.listed(t); len(got) != 1 || got[a].Status != StateRunning {
		t.Fatalf("after startup: %+v", got)
	}
}

// What the client is told is on disk when it is told: a created server's
// record exists when the create is answered, a stopped one's is gone when
// the stop is, and a failed create leaves none.
func TestRecordsFollowAnswers(t *testing.T) {
	ts := newTestSystem(t, nil, fakeTemplate(t, "dies", "die_at_start", nil))
	dir, err := ts.Config().SessionDir("")
	if err != nil {
		t.Fatal(err)
	}
	exists := func(id string) bool {
		_, err := os.Stat(filepath.Join(dir, "servers", id+".json"))
		return err == nil
	}
	for range 20 {
		id := ts.create(t, "fake").Server.ServerID
		if !exists(id) {
			t.Fatalf("%s: no record when the create was answered", id)
		}
		if _, err := ts.ask(t, &StopServer{ServerID: id}); err != nil {
			t.Fatal(err)
		}
		if exists(id) {
			t.Fatalf("%s: record still there when the stop was answered", id)
		}
	}
	for range 5 {
		if _, err := ts.ask(t, &CreateServer{Request: CreateRequest{Name: "d", Template: "dies"}}); err == nil {
			t.Fatal("a child that dies at start was created")
		}
		if left, _ := os.ReadDir(filepath.Join(dir, "servers")); len(left) != 0 {
			t.Fatalf("records left by failed creates: %v", left)
		}
	}
}

// A pooled server coming back from the last run is what the pool hands
// out, also to a request made before it is ready; when its restore fails,
// such a request gets a new server instead of hanging.
func TestRestoredPooledServer(t *testing.T) {
	state := t.TempDir()
	on := func(defer_ time.Duration, tmpls ...config.Template) *testSystem {
		return newTestSystem(t, func(c *config.Config, o *Options) { c.StateDirectory, o.DeferStartup = state, defer_ }, tmpls...)
	}
	run1 := on(0, fakeTemplate(t, "other", "ok", nil))
	acquire := func(ts *testSystem, template string) *PoolAcquired {
		t.Helper()
		res, err := ts.ask(t, &AcquirePooled{Template: template})
		if err != nil {
			t.Fatal(err)
		}
		return res.(*PoolAcquired)
	}
	first := acquire(run1, "fake").Server.ServerID
	otherID := acquire(run1, "other").Server.ServerID
	if err := run1.Shutdown(); err != nil {
		t.Fatal(err)
	}

	// Run 2: "other" now dies at start; nothing is forked before startup.
	run2 := on(time.Hour, fakeTemplate(t, "other", "die_at_start", nil))
	type answer struct {
		template string
		a        *PoolAcquired
		err      error
	}
	got := make(chan answer, 2)
	for _, tpl := range []string{"fake", "other"} {
		go func() {
			res, err := run2.Ask(&AcquirePooled{Template: tpl}, 30*time.Second)
			a, _ := res.(*PoolAcquired)
			got <- answer{tpl, a, err}
		}()
	}
	time.Sleep(200 * time.Millisecond)
	if n := len(run2.listed(t)); n != 2 {
		t.Fatalf("before startup the pool started servers of its own: %d listed", n)
	}
	run2.StartBackground()
	byTemplate := map[string]answer{}
	for range 2 {
		select {
		case a := <-got:
			byTemplate[a.template] = a
		case <-time.After(20 * time.Second):
			t.Fatal("a request waiting for a restored pooled server hung")
		}
	}
	if a := byTemplate["fake"]; a.err != nil || a.a.Server.ServerID != first || !a.a.Reused {
		t.Errorf("fake: %+v, want the restored %s, reused", a, first)
	}
	// "other" could not come back (its child dies at start): the waiting
	// request went the usual way — a new server, whose child dies too, so
	// a start error — and did not hang.
	if a := byTemplate["other"]; a.err == nil || !strings.Contains(a.err.Error(), "failed to start") {
		t.Errorf("other: %+v", a)
	}
	if s := run2.server(t, otherID); s.Status != StateRestoreFailed {
		t.Errorf("other: %s", s.Status)
	}
}

// A state directory that cannot be used (here: a file) does not keep the
// client's servers from running: the history is kept in memory only and
// nothing is recorded for restore, and both say so.
func TestUnusableStateDirectory(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "not-a-dir")
	if err := os.WriteFile(bad, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	ts := newTestSystem(t, func(c *config.Config, _ *Options) { c.StateDirectory = bad })
	sc := ts.create(t, "fake")
	if _, err := ts.call(t, sc.Server.ServerID, "echo", map[string]any{"text": "hi"}); err != nil {
		t.Fatal(err)
	}
	res, err := ts.ask(t, &QueryEvents{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(res.(*EventPage).Events); n < 3 {
		t.Errorf("in-memory history: %d events", n)
	}
	if st := ts.deps.store.Stats(); !strings.HasPrefix(st.Path, "memory only: ") {
		t.Errorf("store %+v", st)
	}
	for _, want := range []string{"event history not kept on disk", "server records unavailable"} {
		if !strings.Contains(ts.logs.String(), want) {
			t.Errorf("log does not say %q", want)
		}
	}
}

// Restart requests that come while a restored server is starting join that
// start (none fails, no child is killed half-started); a call made before
// startup is answered by it; and the history of earlier runs is "newest"
// up to its last id before this run records anything.
func TestRestoreJoinsRestartsAndHeldCalls(t *testing.T) {
	state := t.TempDir()
	run1 := newTestSystem(t, func(c *config.Config, _ *Options) { c.StateDirectory = state },
		fakeTemplate(t, "slow", "ok", nil))
	id := run1.create(t, "slow").Server.ServerID
	if err := run1.Shutdown(); err != nil {
		t.Fatal(err)
	}
	last := run1.deps.store.Stats().LastID

	run2 := newTestSystem(t, func(c *config.Config, o *Options) { c.StateDirectory, o.DeferStartup = state, time.Hour },
		fakeTemplate(t, "slow", "slow_init", nil))
	res, err := run2.ask(t, &QueryEvents{Oldest: true, Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	if p := res.(*EventPage); p.Newest < last || len(p.Events) != 1 {
		t.Errorf("a fresh run's page: newest %d (the store's last id %d), %d events", p.Newest, last, len(p.Events))
	}
	called := make(chan error, 1)
	go func() {
		_, err := run2.call(t, id, "echo", map[string]any{"text": "early"})
		called <- err
	}()
	time.Sleep(50 * time.Millisecond) // the call is held: nothing is forked yet
	run2.StartBackground()
	restarted := make(chan error, 2)
	for range 2 {
		go func() {
			_, err := run2.Ask(&RestartServer{ServerID: id}, 30*time.Second)
			restarted <- err
		}()
	}
	for range 2 {
		if err := <-restarted; err != nil {
			t.Errorf("restart_server during the restore: %v", err)
		}
	}
	if err := <-called; err != nil {
		t.Errorf("the call made before startup: %v", err)
	}
	if s := run2.server(t, id); s.Status != StateRunning || s.Restarts != 0 {
		t.Errorf("after: %s, %d restarts", s.Status, s.Restarts)
	}
}

// A server's request comes back from its record as it was made, tool
// filter and env included, and resolves to the same filter.
func TestRecordRoundTrip(t *testing.T) {
	req := CreateRequest{Name: "gh", Template: "shell", Config: ServerConfig{
		Env:   map[string]string{"TOKEN": "s3cret"},
		Args:  []string{"-x"},
		Tools: &config.ToolFilter{Allow: []string{"get_*", "list?"}, Deny: []string{"get_secret"}},
	}}
	rec, err := record(req, "srv_0123456789ab", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	store, err := specstore.Open(dir, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	store.Put(rec)
	if err := store.Close(); err != nil {
		t.Fatal(err)
	}
	if store, err = specstore.Open(dir, zerolog.Nop()); err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	loaded, err := store.Load()
	if err != nil || len(loaded) != 1 {
		t.Fatalf("Load = %v, %v", loaded, err)
	}
	back, err := decodeRecord(loaded[0])
	if err != nil || !reflect.DeepEqual(back, req) {
		t.Fatalf("decodeRecord = %+v, %v; want %+v", back, err, req)
	}
	r := testResolver(t, []string{"sh"}, config.Template{Name: "shell", Command: "sh"})
	if s, err := r.resolve(back); err != nil || !reflect.DeepEqual(s.Tools, *req.Config.Tools) {
		t.Fatalf("restored spec: tools %+v, %v; want %+v", s.Tools, err, *req.Config.Tools)
	}
}
