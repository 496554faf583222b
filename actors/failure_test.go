//go:build linux

package actors

import (
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/metamcp/metamcp/config"
)

// Children that misbehave in the ways real MCP servers do. Each test checks
// that metamcp answers on time, says what went wrong, and leaves no process
// behind.

const (
	// stopGrace is each rung's wait in the stop ladder (child.Options
	// StopGrace, which the server actor leaves at its default).
	stopGrace = 500 * time.Millisecond
	// slack is what a loaded machine (2 cores, -race) may add to a bound.
	slack = 1500 * time.Millisecond
)

// shimModes are the process_shim settings a test runs under: "on", and
// the default "auto" (on Linux: no shim, and a guardian for the instance).
var shimModes = []string{"on", "auto"}

// A program that prints prose on stdout instead of speaking MCP: create
// fails at the start timeout, saying initialize got no answer, and the
// process is gone when the reply comes.
func TestGarbageStdoutAtInit(t *testing.T) {
	pids := filepath.Join(t.TempDir(), "pids")
	ts := newTestSystem(t, func(c *config.Config, _ *Options) { c.StartTimeoutSeconds = 1 },
		fakeTemplate(t, "garbage", "garbage_stdout", map[string]string{fakePIDFileEnv: pids}))
	before := directChildren()
	_, took, err := ts.askTimed(t, &CreateServer{Request: CreateRequest{Name: "garbage", Template: "garbage"}})
	t.Logf("create failed after %s: %v", took.Round(time.Millisecond), err)
	if !errors.Is(err, ErrStartFailed) || !strings.Contains(err.Error(), "no answer to initialize within 1s") {
		t.Fatalf("create: %v; want ErrStartFailed saying initialize got no answer", err)
	}
	if !strings.Contains(err.Error(), "garbage: starting up") {
		t.Errorf("create error %q does not carry the child's stderr", err)
	}
	if took < time.Second-50*time.Millisecond || took > time.Second+slack {
		t.Errorf("create failed after %s, want about the 1s start timeout", took)
	}
	procs := readPIDs(t, pids)
	if len(procs) != 1 {
		t.Fatalf("child started %d times, want 1", len(procs))
	}
	if procs[0].exists() {
		t.Errorf("child %s still there when create failed", procs[0])
	}
	noChildLeft(t, before)
	if res, _ := ts.ask(t, &ListServers{}); len(res.(*ServerList).Servers) != 0 {
		t.Errorf("the failed server is listed: %+v", res.(*ServerList).Servers)
	}
}

// A child that never answers initialize and ignores the end of stdin:
// create fails after the start timeout, not before, and the ladder has
// killed the process by the time it answers. (TestStartFailures checks
// the error text of the same mode.)
func TestHangInitKilled(t *testing.T) {
	pids := filepath.Join(t.TempDir(), "pids")
	ts := newTestSystem(t, func(c *config.Config, _ *Options) { c.StartTimeoutSeconds = 1 },
		fakeTemplate(t, "hangs", "hang_init", map[string]string{fakePIDFileEnv: pids}))
	before := directChildren()
	_, took, err := ts.askTimed(t, &CreateServer{Request: CreateRequest{Name: "hangs", Template: "hangs"}})
	t.Logf("create failed after %s: %v", took.Round(time.Millisecond), err)
	if !errors.Is(err, ErrStartFailed) || !strings.Contains(err.Error(), "thinking about it") {
		t.Fatalf("create: %v; want ErrStartFailed with the child's stderr", err)
	}
	// The start timeout, then at most the whole ladder.
	if took < time.Second-50*time.Millisecond || took > time.Second+2*stopGrace+slack {
		t.Errorf("create failed after %s, want between 1s and %s", took, time.Second+2*stopGrace+slack)
	}
	procs := readPIDs(t, pids)
	if len(procs) != 1 {
		t.Fatalf("child started %d times, want 1", len(procs))
	}
	if procs[0].exists() {
		t.Errorf("hanging child %s still there when create failed", procs[0])
	}
	noChildLeft(t, before)
}

// A child that writes garbage to stdout in the middle of the session.
func TestGarbageAfterInit(t *testing.T) {
	ts := newTestSystem(t, nil, fakeTemplate(t, "garble", "garbage_after_init", nil))
	id := ts.create(t, "garble").Server.ServerID
	pid1 := ts.server(t, id).PID

	// Stray lines are skipped: the answer after them still arrives.
	t.Run("then_answer", func(t *testing.T) {
		r, err := ts.callBy(t, id, "garble", map[string]any{"then": "answer"}, time.Now().Add(5*time.Second))
		if err != nil || resultText(t, r) != "answered after garbage" {
			t.Fatalf("garble then answer: %v %v", r, err)
		}
	})

	// No answer at all: the call fails at its deadline, not later, and
	// the server still serves.
	t.Run("then_hang", func(t *testing.T) {
		const wait = 1500 * time.Millisecond
		t0 := time.Now()
		_, err := ts.callBy(t, id, "garble", map[string]any{"then": "hang"}, t0.Add(wait))
		took := time.Since(t0)
		if !errors.Is(err, ErrCallTimeout) {
			t.Fatalf("garble then hang: %v, want ErrCallTimeout", err)
		}
		if took > wait+slack {
			t.Fatalf("garble then hang answered after %s, deadline was %s", took, wait)
		}
		r, err := ts.callBy(t, id, "echo", map[string]any{"text": "after garbage"}, time.Now().Add(5*time.Second))
		if err != nil || resultText(t, r) != "after garbage" {
			t.Fatalf("echo after garbage: %v %v", r, err)
		}
		if s := ts.server(t, id); s.Status != StateRunning || s.PID != pid1 {
			t.Fatalf("server after garbage: %s pid %d, want running pid %d", s.Status, s.PID, pid1)
		}
	})

	// Garbage, then exit: the call fails at once as a crash, with the
	// child's last words, and the server is restarted.
	t.Run("then_exit", func(t *testing.T) {
		t0 := time.Now()
		_, err := ts.callBy(t, id, "garble", map[string]any{"then": "exit"}, t0.Add(20*time.Second))
		took := time.Since(t0)
		if !errors.Is(err, ErrCrashed) || !strings.Contains(err.Error(), "exited with code 5") ||
			!strings.Contains(err.Error(), "garble: exiting after garbage") {
			t.Fatalf("garble then exit: %v; want ErrCrashed naming code 5 and the last stderr line", err)
		}
		if took > slack {
			t.Fatalf("the crash was reported after %s", took)
		}
		s := ts.waitState(t, id, StateRunning, 1)
		if s.PID == pid1 || s.LastExit == nil || s.LastExit.Code != 5 {
			t.Fatalf("after the crash: pid %d (was %d), last exit %+v", s.PID, pid1, s.LastExit)
		}
		r, err := ts.callBy(t, id, "echo", map[string]any{"text": "restarted"}, time.Now().Add(5*time.Second))
		if err != nil || resultText(t, r) != "restarted" {
			t.Fatalf("echo after restart: %v %v", r, err)
		}
	})

	// The rest of metamcp never noticed.
	other := ts.create(t, "fake").Server.ServerID
	if r, err := ts.callBy(t, other, "echo", map[string]any{"text": "fine"}, time.Now().Add(5*time.Second)); err != nil || resultText(t, r) != "fine" {
		t.Fatalf("another server: %v %v", r, err)
	}
}

// A child that writes one huge line to stdout, then answers. metamcp's
// memory must not grow with the size of the line: a line that is no
// JSON-RPC can be dropped as it comes, and one that looks like it can be
// cut at a bound (as stderr lines are, below).
func TestStdoutHugeLine(t *testing.T) {
	ts := newTestSystem(t, nil, fakeTemplate(t, "garble", "garbage_after_init", nil))
	id := ts.create(t, "garble").Server.ServerID
	// growth is how much the heap in use grows, at its peak, while the
	// child writes a line of mb MiB.
	growth := func(mb int, json bool) int64 {
		t.Helper()
		base := heapInuse()
		var peak peakHeap
		peak.start(20 * time.Millisecond)
		defer peak.stop()
		r, err := ts.callBy(t, id, "garble", map[string]any{"then": "huge", "mb": mb, "json": json},
			time.Now().Add(30*time.Second))
		peak.stop()
		if err != nil || resultText(t, r) != "answered after garbage" {
			t.Fatalf("garble then a %d MiB line: %v %v", mb, r, err)
		}
		g := int64(peak.max()) - int64(base)
		t.Logf("a %d MiB line (json %v): heap in use %d MB before, grew by %d MB", mb, json, base>>20, g>>20)
		return g
	}
	t.Run("not_json", func(t *testing.T) {
		if g := growth(64, false); g > 50<<20 {
			t.Errorf("heap in use grew by %d MB while the child wrote a 64 MiB line to stdout", g>>20)
		}
	})
	// A JSON line may be kept up to some bound, several times over (mcp-go
	// reads lines with ReadString, then copies): what must not happen is
	// that twice the line costs twice the memory.
	t.Run("json", func(t *testing.T) {
		g64, g128 := growth(64, true), growth(128, true)
		if g128-g64 > 32<<20 {
			t.Errorf("heap in use grew by %d MB for a 64 MiB JSON line, by %d MB for a 128 MiB one: unbounded",
				g64>>20, g128>>20)
		}
	})
}

// A child that writes 50 MB to stderr while it serves: calls still succeed,
// stderr is drained as fast as it comes, metamcp's memory does not grow with
// it, and what is kept of it (the last lines, each cut) stays small.
func TestStderrFlood(t *testing.T) {
	const floodMB = 50
	logs := &tailWriter{max: 64 << 10, mark: []byte(floodDone)}
	ts := newTestSystem(t, func(_ *config.Config, o *Options) {
		// The default test log keeps everything: here that would be the flood.
		o.Log = zerolog.New(logs).Level(zerolog.InfoLevel)
	}, fakeTemplate(t, "flood", "stderr_flood", map[string]string{fakeFloodEnv: strconv.Itoa(floodMB)}))
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("last logs:\n%s", logs.String())
		}
	})

	base := heapInuse()
	var peak peakHeap
	peak.start(50 * time.Millisecond)
	defer peak.stop()

	t0 := time.Now()
	res, err := ts.ask(t, &CreateServer{Request: CreateRequest{Name: "flood", Template: "flood",
		Config: ServerConfig{Restart: &RestartConfig{Policy: Temporary}}}})
	if err != nil {
		t.Fatalf("create during the flood: %v", err)
	}
	id := res.(*ServerCreated).Server.ServerID
	calls := 0
	for {
		if marks, _ := logs.seen(); marks > 0 {
			break
		}
		if time.Since(t0) > 60*time.Second {
			_, n := logs.seen()
			t.Fatalf("the flood was not drained in 60s (%d MB of logs so far)", n>>20)
		}
		text := "call " + strconv.Itoa(calls)
		r, err := ts.callBy(t, id, "echo", map[string]any{"text": text}, time.Now().Add(5*time.Second))
		if err != nil || resultText(t, r) != text {
			t.Fatalf("call %d during the flood: %v %v", calls, r, err)
		}
		calls++
	}
	drained := time.Since(t0)
	peak.stop()
	t.Logf("%d MB drained in %s; %d calls meanwhile; heap in use %d MB before, peak %d MB",
		floodMB, drained.Round(time.Millisecond), calls, base>>20, peak.max()>>20)
	if calls < 3 {
		t.Errorf("only %d calls made during the flood", calls)
	}
	if grew := int64(peak.max()) - int64(base); grew > 50<<20 {
		t.Errorf("heap in use grew by %d MB during a %d MB stderr flood", grew>>20, floodMB)
	}

	// The child's stderr as metamcp keeps it: the last lines, each cut.
	_, err = ts.callBy(t, id, "crash", nil, time.Now().Add(5*time.Second))
	if !errors.Is(err, ErrCrashed) || !strings.Contains(err.Error(), "boom: crashing on purpose") {
		t.Fatalf("crash after the flood: %v", err)
	}
	if len(err.Error()) > 8<<10 {
		t.Errorf("the crash error is %d bytes long", len(err.Error()))
	}
	s := ts.waitState(t, id, StateStopped)
	if s.LastExit == nil {
		t.Fatal("no last exit")
	}
	const maxLine = 4096 + len(" …")
	size, cut := 0, 0
	for _, l := range s.LastExit.Stderr {
		size += len(l)
		if len(l) > maxLine {
			t.Errorf("a kept stderr line is %d bytes long (cut at %d)", len(l), maxLine)
		}
		if strings.HasPrefix(l, "HHHH") && strings.HasSuffix(l, " …") {
			cut++
		}
	}
	t.Logf("last exit keeps %d stderr lines, %d bytes", len(s.LastExit.Stderr), size)
	if n := len(s.LastExit.Stderr); n == 0 || n > 10 || s.LastExit.LastStderr() != "boom: crashing on purpose" {
		t.Errorf("last exit keeps %d stderr lines ending %q", n, s.LastExit.LastStderr())
	}
	if cut == 0 {
		t.Errorf("none of the 256 KiB lines kept was cut: %d lines", len(s.LastExit.Stderr))
	}
}

func heapInuse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

// peakHeap samples HeapInuse until stopped and keeps the highest value.
type peakHeap struct {
	mu   sync.Mutex
	high uint64
	done chan struct{}
	wg   sync.WaitGroup
	once sync.Once
}

func (p *peakHeap) start(every time.Duration) {
	p.done = make(chan struct{})
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			p.mu.Lock()
			p.high = max(p.high, m.HeapInuse)
			p.mu.Unlock()
			select {
			case <-p.done:
				return
			case <-tick.C:
			}
		}
	}()
}

func (p *peakHeap) stop() {
	p.once.Do(func() { close(p.done) })
	p.wg.Wait()
}

func (p *peakHeap) max() uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.high
}

// A child that ignores SIGTERM and the end of stdin: stop_server still
// completes within the ladder's two waits (then SIGKILL), and the process
// is gone when it answers.
func TestStopIgnoresSIGTERM(t *testing.T) {
	for _, shim := range shimModes {
		t.Run("process_shim_"+shim, func(t *testing.T) {
			pids := filepath.Join(t.TempDir(), "pids")
			ts := newTestSystem(t, func(c *config.Config, _ *Options) { c.ProcessShim = shim },
				fakeTemplate(t, "stubborn", "ignore_sigterm", map[string]string{fakePIDFileEnv: pids}))
			before := directChildren()
			id := ts.create(t, "stubborn").Server.ServerID
			procs := readPIDs(t, pids)
			if len(procs) != 1 {
				t.Fatalf("child started %d times, want 1", len(procs))
			}
			t.Cleanup(func() { killIfRunning(procs[0]) })
			if r, err := ts.callBy(t, id, "echo", map[string]any{"text": "hi"}, time.Now().Add(5*time.Second)); err != nil || resultText(t, r) != "hi" {
				t.Fatalf("echo: %v %v", r, err)
			}
			_, took, err := ts.askTimed(t, &StopServer{ServerID: id})
			t.Logf("stop_server took %s", took.Round(time.Millisecond))
			if err != nil {
				t.Fatalf("stop_server: %v", err)
			}
			if procs[0].exists() {
				t.Errorf("child %s still there after stop_server answered", procs[0])
			}
			noChildLeft(t, before)
			// It took the whole ladder: proof that the child did ignore
			// SIGTERM, so SIGKILL is what ended it.
			if took < 2*stopGrace-50*time.Millisecond || took > 2*stopGrace+slack {
				t.Errorf("stop_server took %s, want about %s (two rungs, then SIGKILL)", took, 2*stopGrace)
			}
			if !strings.Contains(ts.logs.String(), "staying up") {
				t.Error("the child never saw stdin end")
			}
		})
	}
}

// A child that starts a grandchild: when the child is killed, and when it
// is stopped, the grandchild goes too, within 2 s. A "same" grandchild
// stays in the child's process group; "pgid" and "setsid" ones leave it,
// as daemonising helpers do.
func TestGrandchildCleanup(t *testing.T) {
	for _, shim := range shimModes {
		for _, group := range []string{"same", "pgid", "setsid"} {
			t.Run(fmt.Sprintf("process_shim_%s/%s", shim, group), func(t *testing.T) {
				testGrandchildCleanup(t, shim, group)
			})
		}
	}
}

func testGrandchildCleanup(t *testing.T, shim, group string) {
	// Registered first, so it runs last: after the shutdown, no child or
	// grandchild this test started is left (they record their pids).
	pids := filepath.Join(t.TempDir(), "pids")
	t.Cleanup(func() {
		for _, p := range readPIDs(t, pids) {
			if p.running() {
				t.Errorf("%s left running after shutdown", p)
				killIfRunning(p)
			}
		}
	})
	ts := newTestSystem(t, func(cfg *config.Config, _ *Options) { cfg.ProcessShim = shim },
		fakeTemplate(t, "parent", "grandchild", map[string]string{fakeGroupEnv: group, fakePIDFileEnv: pids}))
	before := directChildren()
	id := ts.create(t, "parent").Server.ServerID
	grandchild := func() proc {
		t.Helper()
		r, err := ts.callBy(t, id, "grandchild", nil, time.Now().Add(5*time.Second))
		if err != nil {
			t.Fatalf("grandchild: %v", err)
		}
		pid, _ := strconv.Atoi(resultText(t, r))
		return watch(t, pid)
	}

	g1, child1 := grandchild(), watch(t, ts.server(t, id).PID)
	kill(t, child1.pid)
	waitGone(t, 2*time.Second, "grandchild of a killed child", g1)

	ts.waitState(t, id, StateRunning, 1)
	g2, child2 := grandchild(), watch(t, ts.server(t, id).PID)
	if _, err := ts.ask(t, &StopServer{ServerID: id}); err != nil {
		t.Fatalf("stop_server: %v", err)
	}
	if child2.exists() {
		t.Errorf("child %s still there after stop_server answered", child2)
	}
	waitGone(t, 2*time.Second, "grandchild of a stopped child", g2)
	noChildLeft(t, before)
}
