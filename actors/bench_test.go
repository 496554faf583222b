//go:build linux

package actors

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/metamcp/metamcp/config"
	"github.com/metamcp/metamcp/templates"
)

// Benchmarks of the actor tree in-process (issue 6). Children are the fake
// child of fakechild_test.go; with METAMCP_BIN set (make bench), the
// create benchmark also runs the real built-in basic_calculator. Whole-process
// figures come from cmd/bench.

// benchSystem starts a System for a benchmark and shuts it down after.
func benchSystem(b *testing.B, maxServers int) *System {
	b.Helper()
	cfg := config.Defaults()
	cfg.TempDirectory = b.TempDir()
	cfg.StateDirectory = b.TempDir()
	cfg.MaxConcurrentServers = maxServers
	exe, err := os.Executable()
	if err != nil {
		b.Fatal(err)
	}
	cfg.AllowedCommands = append(cfg.AllowedCommands, filepath.Base(exe))
	cfg.Templates = []config.Template{{Name: "fake", Command: exe,
		Env: map[string]string{fakeChildEnv: "ok", "GORACE": "atexit_sleep_ms=0"}}}
	cat, err := templates.NewCatalog(cfg.Templates)
	if err != nil {
		b.Fatal(err)
	}
	opts := Options{Config: &cfg, Catalog: cat, Log: zerolog.Nop(), NoSweep: true}
	if bin := os.Getenv("METAMCP_BIN"); bin != "" {
		opts.Executable = bin
	}
	sys, err := Start(opts)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		if err := sys.Shutdown(); err != nil {
			b.Errorf("shutdown: %v", err)
		}
	})
	return sys
}

func benchCreate(b *testing.B, sys *System, template string) string {
	b.Helper()
	res, err := sys.Ask(&CreateServer{Request: CreateRequest{Name: template, Template: template}}, 30*time.Second)
	if err != nil {
		b.Fatal(err)
	}
	return res.(*ServerCreated).Server.ServerID
}

// BenchmarkAcquirePooledHit: get_or_create_pooled_server when the pool has
// one (target ≤ 0.1 ms).
func BenchmarkAcquirePooledHit(b *testing.B) {
	sys := benchSystem(b, 10)
	if _, err := sys.Ask(&AcquirePooled{Template: "fake"}, 30*time.Second); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		res, err := sys.Ask(&AcquirePooled{Template: "fake"}, 5*time.Second)
		if err != nil {
			b.Fatal(err)
		}
		if !res.(*PoolAcquired).Reused {
			b.Fatal("not reused")
		}
	}
}

// BenchmarkAcquirePooledHitParallel: the same with callers on every P.
func BenchmarkAcquirePooledHitParallel(b *testing.B) {
	sys := benchSystem(b, 10)
	if _, err := sys.Ask(&AcquirePooled{Template: "fake"}, 30*time.Second); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := sys.Ask(&AcquirePooled{Template: "fake"}, 5*time.Second); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkCallTool: one tool call through the tree to a live child and
// back (the in-process part of execute_on_server plus the child's hop).
func BenchmarkCallTool(b *testing.B) {
	sys := benchSystem(b, 10)
	id := benchCreate(b, sys, "fake")
	args, _ := json.Marshal(map[string]any{"text": "hi"})
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := sys.Ask(&CallTool{ServerID: id, Tool: "echo", Arguments: args}, 5*time.Second); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCreateServer: create until ready, then stop (stop not timed).
// fake is this test binary as the child; basic_calculator is the real
// binary (METAMCP_BIN).
func BenchmarkCreateServer(b *testing.B) {
	names := []string{"fake"}
	if os.Getenv("METAMCP_BIN") != "" {
		names = append(names, templates.BasicCalculator)
	}
	for _, name := range names {
		b.Run(name, func(b *testing.B) {
			sys := benchSystem(b, 10)
			for b.Loop() {
				id := benchCreate(b, sys, name)
				b.StopTimer()
				if _, err := sys.Ask(&StopServer{ServerID: id}, 30*time.Second); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
			}
		})
	}
}

// BenchmarkHealthCheckAll100: one HealthCheck per server for 100 live
// children, all in flight at once, as health_check_all does. recent: every
// child answered within RecentExchange (a warm-up round of pings), so none
// is pinged again — health_check_all's usual case under traffic or polling;
// ping: every child is pinged (ping_all, or children idle for longer).
func BenchmarkHealthCheckAll100(b *testing.B) {
	const n = 100
	sys := benchSystem(b, n+10)
	ids := make([]string, n)
	for i := range ids {
		ids[i] = benchCreate(b, sys, "fake")
	}
	round := func(b *testing.B, recent time.Duration) {
		errs := make(chan error, n)
		for _, id := range ids {
			go func() {
				res, err := sys.Ask(&HealthCheck{ServerID: id, Recent: recent}, 10*time.Second)
				if err == nil && !res.(*Health).Healthy {
					err = fmt.Errorf("%s unhealthy: %s", id, res.(*Health).Error)
				}
				errs <- err
			}()
		}
		for range ids {
			if err := <-errs; err != nil {
				b.Fatal(err)
			}
		}
	}
	for _, c := range []struct {
		name   string
		recent time.Duration
	}{{"recent", RecentExchange}, {"ping", 0}} {
		b.Run(c.name, func(b *testing.B) {
			round(b, 0) // warm-up: every child has just answered a ping
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				round(b, c.recent)
			}
		})
	}
}
