//go:build linux

package actors

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/metamcp/metamcp/config"
)

// TestChaos makes thousands of calls to eight servers while their children
// are SIGKILLed at random. No call may outlive its deadline, every failure
// must be one the kills explain (see failureKind), no answer may belong to
// another call, and once the killing stops every server runs again. After
// shutdown no process, zombie, goroutine or file descriptor is left.
//
// It runs under each process_shim setting. Not parallel: it counts this
// process's goroutines, descriptors and children.
func TestChaos(t *testing.T) {
	for _, shim := range shimModes {
		t.Run("process_shim_"+shim, func(t *testing.T) { testChaos(t, shim) })
	}
}

func testChaos(t *testing.T, shim string) {
	const (
		servers = 8
		// Even callers pick any server and so often wait for a restart (a
		// fork of the race-built shim and child: 0.5 s, 1-3 s under this
		// load); odd ones pick among those last listed running, as a
		// client that reads list_servers does, and make most of the calls.
		callers  = 32
		minCalls = 2000
		minRun   = 5 * time.Second  // of killing, at the least
		maxRun   = 25 * time.Second // on a slow machine: stop here, and fail
		every    = 250 * time.Millisecond
		deadline = 3 * time.Second
		late     = time.Second // what an answer may take beyond its deadline
	)
	// Baselines, with the netpoller (two descriptors) already up.
	if r, w, err := os.Pipe(); err == nil {
		r.Close()
		w.Close()
	}
	fds0, goroutines0 := openFDs(t), runtime.NumGoroutine()
	leakOpts := []goleak.Option{goleak.IgnoreCurrent(),
		goleak.IgnoreTopFunction("github.com/metamcp/metamcp/actors/child.forkLoop"),
		goleak.IgnoreAnyFunction("github.com/asynkron/protoactor-go/actor.NewThrottle.func1")}
	children0 := directChildren()

	ts := newTestSystem(t, func(c *config.Config, o *Options) {
		c.ProcessShim = shim
		c.MaxConcurrentServers = servers
		// Kills must not trip crash_loop: each server dies about every 2 s.
		o.Policy = RestartPolicy{MaxRestarts: 1000, Window: time.Minute,
			Initial: 10 * time.Millisecond, Max: 100 * time.Millisecond}
	})
	ids := make([]string, servers)
	var created sync.WaitGroup
	for i := range ids {
		created.Add(1)
		go func() {
			defer created.Done()
			res, err := ts.Ask(&CreateServer{Request: CreateRequest{Name: "fake", Template: "fake"}}, 30*time.Second)
			if err != nil {
				t.Errorf("create: %v", err)
				return
			}
			ids[i] = res.(*ServerCreated).Server.ServerID
		}()
	}
	created.Wait()
	if t.Failed() {
		t.FailNow()
	}

	var (
		stop    atomic.Bool
		calls   atomic.Int64
		mu      sync.Mutex
		errs    = map[string]int{} // failures by sentinel
		bad     []string           // failures no crash explains
		slowest time.Duration
		seen    = map[proc]bool{} // every child pid listed
		kills   int
		killed  = map[int]bool{} // the pids the killer killed
	)
	record := func(kind string, took time.Duration, msg string) {
		mu.Lock()
		defer mu.Unlock()
		slowest = max(slowest, took)
		if kind != "" {
			errs[kind]++
		}
		if msg != "" && len(bad) < 20 {
			bad = append(bad, msg)
		}
	}

	var live atomic.Pointer[[]string] // servers last listed running
	live.Store(&ids)

	var wg sync.WaitGroup
	t0 := time.Now()
	for c := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(c), 1))
			for n := 0; !stop.Load(); n++ {
				id := ids[rng.IntN(servers)]
				if l := *live.Load(); c%2 == 1 && len(l) > 0 {
					id = l[rng.IntN(len(l))]
				}
				tool, args, want := "echo", map[string]any{}, fmt.Sprintf("c%d-%d", c, n)
				if rng.IntN(5) == 0 {
					tool, args["ms"], want = "sleep", 1+rng.IntN(5), "slept"
				} else {
					args["text"] = want
				}
				raw, _ := json.Marshal(args)
				start := time.Now()
				res, err := ts.Ask(&CallTool{ServerID: id, Tool: tool, Arguments: raw, Deadline: start.Add(deadline)},
					deadline+late+5*time.Second)
				took := time.Since(start)
				calls.Add(1)
				switch kind := failureKind(err, took, deadline); {
				case took > deadline+late:
					record(kind, took, fmt.Sprintf("%s %s answered after %s: %v", tool, id, took, err))
				case err == nil:
					got := ""
					var v struct{ Content []struct{ Text string } }
					if json.Unmarshal(res.(*ToolResult).Result, &v) == nil && len(v.Content) > 0 {
						got = v.Content[0].Text
					}
					if got != want {
						record("", took, fmt.Sprintf("%s %s answered %q, want %q", tool, id, got, want))
					} else {
						record("", took, "")
					}
				case kind == "":
					record("unexpected", took, fmt.Sprintf("%s %s: %v", tool, id, err))
				default:
					record(kind, took, "")
				}
			}
		}()
	}

	// The killer: a random running child every quarter second.
	rng := rand.New(rand.NewPCG(42, 42))
	for time.Since(t0) < minRun || (calls.Load() < minCalls && time.Since(t0) < maxRun) {
		time.Sleep(every)
		res, err := ts.Ask(&ListServers{}, 5*time.Second)
		if err != nil {
			t.Errorf("list_servers during the chaos: %v", err)
			break
		}
		var running []ServerInfo
		for _, s := range res.(*ServerList).Servers {
			if s.PID > 0 {
				if st, ok := readProcStat(s.PID); ok {
					mu.Lock()
					seen[proc{pid: s.PID, start: st.start}] = true
					mu.Unlock()
				}
			}
			if s.Status == StateRunning && s.PID > 0 {
				running = append(running, s)
			}
		}
		if len(running) == 0 {
			continue
		}
		victim := rng.IntN(len(running))
		if err := syscall.Kill(running[victim].PID, syscall.SIGKILL); err == nil {
			kills++
			killed[running[victim].PID] = true
		}
		var up []string
		for i, r := range running {
			if i != victim {
				up = append(up, r.ServerID)
			}
		}
		live.Store(&up)
	}
	stop.Store(true)
	wg.Wait()
	ran := time.Since(t0)

	mu.Lock()
	t.Logf("%d calls in %s, %d kills; failures %v; slowest answer %s",
		calls.Load(), ran.Round(time.Millisecond), kills, errs, slowest.Round(time.Millisecond))
	for _, b := range bad {
		t.Errorf("bad call: %s", b)
	}
	mu.Unlock()
	if n := calls.Load(); n < minCalls {
		t.Errorf("only %d calls in %s, want %d", n, ran, minCalls)
	}
	if kills < 10 || errs["ErrCrashed"] == 0 {
		t.Errorf("%d kills, %d calls failed by a crash: the chaos did not happen", kills, errs["ErrCrashed"])
	}

	// Every server comes back and serves.
	checkFor(t, 15*time.Second, 20*time.Millisecond, func() error {
		res, err := ts.Ask(&ListServers{}, 5*time.Second)
		if err != nil {
			return err
		}
		var notYet []string
		restarts := 0
		for _, s := range res.(*ServerList).Servers {
			restarts += s.Restarts
			// A server still listed with a killed pid has not yet seen its
			// kill (the last one lands just before the chaos ends).
			if s.Status != StateRunning || s.InFlight != 0 || killed[s.PID] {
				notYet = append(notYet, fmt.Sprintf("%s %s in flight %d", s.ServerID, s.Status, s.InFlight))
			}
		}
		if len(res.(*ServerList).Servers) != servers || len(notYet) > 0 {
			return fmt.Errorf("%d servers listed, not running: %v", len(res.(*ServerList).Servers), notYet)
		}
		if restarts < kills/2 {
			return fmt.Errorf("%d restarts after %d kills", restarts, kills)
		}
		return nil
	})
	for _, id := range ids {
		r, err := ts.callBy(t, id, "echo", map[string]any{"text": "after"}, time.Now().Add(5*time.Second))
		if err != nil || resultText(t, r) != "after" {
			t.Errorf("%s after the chaos: %v %v", id, r, err)
		}
	}
	checkFor(t, 5*time.Second, 10*time.Millisecond, func() error {
		if zs := zombieChildren(); len(zs) > 0 {
			return fmt.Errorf("unreaped children: %v", zs)
		}
		return nil
	})

	// Shut down: nothing of ours is left.
	for _, p := range ts.livePIDs(t) {
		if st, ok := readProcStat(p); ok {
			seen[proc{pid: p, start: st.start}] = true
		}
	}
	if err := ts.Shutdown(); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	var left []int
	for p := range seen {
		if p.running() {
			left = append(left, p.pid)
		}
	}
	sort.Ints(left)
	if len(left) > 0 {
		t.Errorf("children still running after shutdown: %v", left)
	}
	noChildLeft(t, children0)
	checkFor(t, 5*time.Second, 20*time.Millisecond, func() error {
		if n := openFDs(t); n > fds0 {
			return fmt.Errorf("%d file descriptors open, %d before", n, fds0)
		}
		return nil
	})
	checkFor(t, 5*time.Second, 50*time.Millisecond, func() error {
		if err := goleak.Find(leakOpts...); err != nil {
			return fmt.Errorf("%d goroutines, %d before: %w", runtime.NumGoroutine(), goroutines0, err)
		}
		return nil
	})
}

// failureKind names the sentinel a failed call wraps when the chaos
// explains it: the call was in flight when the child died (ErrCrashed), it
// reached the server actor as it was restarting (ErrNotRunning), or it
// waited for a restart until its deadline passed (ErrCallTimeout, not
// before the deadline). "" for any other error, and for none.
func failureKind(err error, took, deadline time.Duration) string {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, ErrCrashed):
		return "ErrCrashed"
	case errors.Is(err, ErrNotRunning):
		return "ErrNotRunning"
	case errors.Is(err, ErrCallTimeout) && took >= deadline:
		return "ErrCallTimeout"
	}
	return ""
}
