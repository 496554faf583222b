//go:build linux

package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/rs/zerolog"

	"github.com/metamcp/metamcp/actors"
	"github.com/metamcp/metamcp/config"
	"github.com/metamcp/metamcp/templates"
)

// bench holds what the measurements share.
type bench struct {
	bin       string
	dir       string // temp dir for configs and metamcp's files
	n         int    // scale of sample sizes (1 = default)
	rows      []row
	notes     []string // extra findings for the report
	inittrace string   // markdown: top package inits
	ctx       context.Context
}

func (b *bench) add(r row) {
	b.rows = append(b.rows, r)
	fmt.Fprintln(os.Stderr, "  ", r.Metric, r.Median, r.P90, r.Result)
}
func (b *bench) note(f string, a ...any) { b.notes = append(b.notes, fmt.Sprintf(f, a...)) }
func (b *bench) runs(base int) int       { return max(3, base*b.n/4) }
func (b *bench) config(name string, extra map[string]any) (string, error) {
	d := b.dir + "/" + name
	if err := os.MkdirAll(d, 0o700); err != nil {
		return "", err
	}
	return writeConfig(d, extra)
}

// serve starts metamcp serve with a config and connects to it.
func (b *bench) serve(name string, extra map[string]any) (*peer, error) {
	cfg, err := b.config(name, extra)
	if err != nil {
		return nil, err
	}
	return connect(b.ctx, b.bin, "serve", "--config", cfg)
}

var addArgs = map[string]any{"a": 15, "b": 27}

// 1. create_server per built-in template until ready.
func (b *bench) createServer() error {
	p, err := b.serve("create", map[string]any{"max_concurrent_servers": 50})
	if err != nil {
		return err
	}
	defer p.close()
	names := []string{templates.BasicCalculator, templates.WebScraper, templates.FileHandler, templates.DataProcessor, templates.APIIntegration}
	got := map[string]sample{}
	n := b.runs(40)
	for i := -2; i < n; i++ { // two rounds of warm-up
		for _, name := range names { // round robin: noise spreads over all templates
			t0 := time.Now()
			id, _, err := p.create(b.ctx, map[string]any{"name": "b", "template": name})
			d := time.Since(t0)
			if err != nil {
				return err
			}
			if i >= 0 {
				got[name] = append(got[name], d)
			}
			if _, err := p.call(b.ctx, "stop_server", map[string]any{"server_id": id}); err != nil {
				return err
			}
		}
	}
	var all sample
	for _, name := range names {
		b.add(timed("1. create_server "+name, got[name], 15*time.Millisecond, ""))
		all = append(all, got[name]...)
	}
	b.add(timed("1. create_server, all templates", all, 15*time.Millisecond, ""))

	// What a child's own start costs: the binary metamcp runs, started
	// directly, to the answer of initialize; and metamcp itself, which
	// runs the templates when metamcp-templates is not next to it.
	var small, big sample
	tpl, hasTpl := b.builtins()
	for i := 0; i < b.runs(40); i++ {
		if hasTpl {
			d, err := coldStartArgs(tpl, templates.BasicCalculator)
			if err != nil {
				return err
			}
			small = append(small, d)
		}
		d, err := coldStartArgs(b.bin, "template", "run", templates.BasicCalculator)
		if err != nil {
			return err
		}
		big = append(big, d)
	}
	if hasTpl {
		b.add(timed("1x. child alone: exec `metamcp-templates basic_calculator` → initialize answered", small, 0, ""))
	}
	b.add(timed("1y. child alone, fallback: exec `metamcp template run basic_calculator` → initialize answered", big, 0, ""))
	return nil
}

// builtins returns the metamcp-templates next to the binary under test,
// which metamcp runs its built-in children with, and whether it is there.
func (b *bench) builtins() (string, bool) {
	p := filepath.Join(filepath.Dir(b.bin), "metamcp-templates")
	_, err := os.Stat(p)
	return p, err == nil
}

// 2. get_or_create_pooled_server when the pool has one: in-process on the
// actor system, and through metamcp serve over stdio.
func (b *bench) pooled() error {
	cfg := config.Defaults()
	cfg.TempDirectory = b.dir + "/inproc"
	cfg.StateDirectory = b.dir + "/inproc/state"
	cfg.LogLevel = "ERROR"
	cat, err := templates.NewCatalog(nil)
	if err != nil {
		return err
	}
	sys, err := actors.Start(actors.Options{Config: &cfg, Catalog: cat, Log: zerolog.Nop(), Executable: b.bin})
	if err != nil {
		return err
	}
	acquire := func() error {
		_, err := sys.Ask(&actors.AcquirePooled{Template: templates.BasicCalculator}, 30*time.Second)
		return err
	}
	if err := acquire(); err != nil {
		_ = sys.Shutdown()
		return err
	}
	var in sample
	for i := 0; i < b.runs(4000); i++ {
		t0 := time.Now()
		if err := acquire(); err != nil {
			_ = sys.Shutdown()
			return err
		}
		in = append(in, time.Since(t0))
	}
	if err := sys.Shutdown(); err != nil {
		return err
	}
	b.add(timed("2a. AcquirePooled hit, in-process System.Ask", in, 100*time.Microsecond, ""))

	p, err := b.serve("pooled", nil)
	if err != nil {
		return err
	}
	defer p.close()
	args := map[string]any{"template": templates.BasicCalculator}
	out, err := p.call(b.ctx, "get_or_create_pooled_server", args)
	if err != nil {
		return err
	}
	if pid, ok := out["pid"].(float64); ok {
		tracked.saw(int(pid))
	}
	var over sample
	for i := 0; i < b.runs(2000); i++ {
		t0 := time.Now()
		out, err := p.call(b.ctx, "get_or_create_pooled_server", args)
		if err != nil {
			return err
		}
		over = append(over, time.Since(t0))
		if out["reused"] != true {
			return fmt.Errorf("pooled server not reused: %v", out)
		}
	}
	b.add(timed("2b. get_or_create_pooled_server hit, stdio client → metamcp serve", over, 100*time.Microsecond,
		"includes the MCP round trip over pipes"))
	// The floor of any round trip over this transport: a tool that does nothing but answer.
	var floor sample
	for i := 0; i < b.runs(2000); i++ {
		t0 := time.Now()
		if _, err := p.call(b.ctx, "list_servers", nil); err != nil {
			return err
		}
		floor = append(floor, time.Since(t0))
	}
	b.add(timed("2c. list_servers (1 server), stdio client → metamcp serve: round-trip floor", floor, 0, ""))
	return nil
}

// 3. execute_on_server add through metamcp vs direct to the same child
// binary, sequentially (interleaved) and with 32 concurrent callers.
func (b *bench) toolCall() error {
	m, err := b.serve("call", nil)
	if err != nil {
		return err
	}
	defer m.close()
	child := []string{b.bin, "template", "run", templates.BasicCalculator}
	if tpl, ok := b.builtins(); ok { // the child binary metamcp runs
		child = []string{tpl, templates.BasicCalculator}
	}
	d, err := connect(b.ctx, child[0], child[1:]...)
	if err != nil {
		return err
	}
	defer d.close()
	id, childPID, err := m.create(b.ctx, map[string]any{"name": "calc", "template": templates.BasicCalculator})
	if err != nil {
		return err
	}
	via := func() error {
		_, err := m.call(b.ctx, "execute_on_server", map[string]any{"server_id": id, "tool_name": "add", "arguments": addArgs})
		return err
	}
	direct := func() error { _, err := d.call(b.ctx, "add", addArgs); return err }

	var sd, sm sample
	n := b.runs(3000)
	for i := -200; i < n; i++ {
		for j, f := range []func() error{direct, via} {
			if i%2 == 1 { // alternate which goes first
				j = 1 - j
				f = []func() error{direct, via}[j]
			}
			t0 := time.Now()
			if err := f(); err != nil {
				return err
			}
			if i >= 0 {
				if j == 0 {
					sd = append(sd, time.Since(t0))
				} else {
					sm = append(sm, time.Since(t0))
				}
			}
		}
	}
	b.add(timed("3a. add, direct to child (mcp-go client)", sd, 0, ""))
	b.add(timed("3b. add via execute_on_server", sm, 0, ""))
	ratio := float64(sm.median()) / float64(sd.median())
	b.add(row{Metric: "3c. via/direct ratio of medians", Target: "≤ 1.30×", Median: fmt.Sprintf("%.2f×", ratio),
		P90: fmt.Sprintf("%.2f×", float64(sm.p90())/float64(sd.p90())), Result: verdict(atMost, ratio, 1.3)})

	// 32 concurrent callers, each side for a fixed time, alternated.
	const callers = 32
	window := time.Duration(b.runs(8)) * 250 * time.Millisecond
	run := func(f func() error) (float64, error) {
		var count atomic.Int64
		var firstErr atomic.Value
		stop := time.Now().Add(window)
		var wg sync.WaitGroup
		for w := 0; w < callers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for time.Now().Before(stop) {
					if err := f(); err != nil {
						firstErr.CompareAndSwap(nil, err)
						return
					}
					count.Add(1)
				}
			}()
		}
		t0 := time.Now()
		wg.Wait()
		if e, ok := firstErr.Load().(error); ok {
			return 0, e
		}
		return float64(count.Load()) / time.Since(t0).Seconds(), nil
	}
	var td, tm []float64
	// CPU time of each process over the runs, per call: where a relayed
	// call's cost goes (row 3f).
	self := os.Getpid()
	var cpuD, cpuV [3]time.Duration // client, metamcp, child
	var callsD, callsV float64
	for r := 0; r < 3; r++ {
		c0, k0 := cpuTime(self), cpuTime(d.pid())
		x, err := run(direct)
		if err != nil {
			return err
		}
		cpuD[0], cpuD[2] = cpuD[0]+cpuTime(self)-c0, cpuD[2]+cpuTime(d.pid())-k0
		callsD += x * window.Seconds()
		c0, m0, k0 := cpuTime(self), cpuTime(m.pid()), cpuTime(childPID)
		y, err := run(via)
		if err != nil {
			return err
		}
		cpuV[0], cpuV[1], cpuV[2] = cpuV[0]+cpuTime(self)-c0, cpuV[1]+cpuTime(m.pid())-m0, cpuV[2]+cpuTime(childPID)-k0
		callsV += y * window.Seconds()
		td, tm = append(td, x), append(tm, y)
	}
	per := func(d time.Duration, n float64) string { return fmt.Sprintf("%.0f", float64(d.Microseconds())/n) }
	b.add(row{Metric: "3f. CPU µs per call at 32 callers, client / metamcp / child: via", Target: "-",
		Median: per(cpuV[0], callsV) + " / " + per(cpuV[1], callsV) + " / " + per(cpuV[2], callsV), P90: "-", Result: "-"})
	b.add(row{Metric: "3g. the same, direct (client / child)", Target: "-",
		Median: per(cpuD[0], callsD) + " / " + per(cpuD[2], callsD), P90: "-", Result: "-"})
	sort.Float64s(td)
	sort.Float64s(tm)
	b.add(row{Metric: fmt.Sprintf("3d. add, %d callers, calls/s direct / via (median of 3 × %s)", callers, window),
		Target: "-", Median: fmt.Sprintf("%.0f / %.0f", td[1], tm[1]), P90: "-", Result: "-"})
	tr := tm[1] / td[1]
	b.add(row{Metric: "3e. throughput via/direct at 32 callers", Target: "≥ 0.70×", Median: fmt.Sprintf("%.2f×", tr),
		P90: "-", Result: verdict(atLeast, tr, 0.7)})
	return nil
}

// 4. SIGKILL a child → first successful call, minus the initial backoff.
func (b *bench) recovery() error {
	const backoff = 10 * time.Millisecond
	p, err := b.serve("kill", nil)
	if err != nil {
		return err
	}
	defer p.close()
	id, pid, err := p.create(b.ctx, map[string]any{"name": "victim", "template": templates.BasicCalculator,
		"config": map[string]any{"restart": map[string]any{"initial_backoff_ms": backoff.Milliseconds(),
			"backoff_factor": 1, "max_restarts": 1000, "window_seconds": 1}}})
	if err != nil {
		return err
	}
	call := map[string]any{"server_id": id, "tool_name": "add", "arguments": addArgs}
	var s sample
	for i := 0; i < b.runs(40); i++ {
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
			return fmt.Errorf("kill %d: %w", pid, err)
		}
		t0 := time.Now()
		for {
			if _, err := p.call(b.ctx, "execute_on_server", call); err == nil {
				break
			}
			if time.Since(t0) > 10*time.Second {
				return fmt.Errorf("no successful call 10 s after SIGKILL")
			}
			time.Sleep(500 * time.Microsecond)
		}
		s = append(s, time.Since(t0)-backoff)
		out, err := p.call(b.ctx, "health_check", map[string]any{"server_id": id})
		if err != nil {
			return err
		}
		f, _ := out["pid"].(float64)
		if int(f) == pid || f == 0 {
			return fmt.Errorf("no new pid after restart: %v", out["pid"])
		}
		pid = int(f)
		tracked.saw(pid)
		time.Sleep(20 * time.Millisecond)
	}
	b.add(timed(fmt.Sprintf("4. SIGKILL → first successful call − %s backoff", backoff), s, 30*time.Millisecond,
		"backoff has ±20 % jitter"))
	return nil
}

// 5 and 7. health_check_all over 100 children; RSS idle and with 200.
func (b *bench) fleet() error {
	p, err := b.serve("fleet", map[string]any{"max_concurrent_servers": 250, "memory_check_interval_ms": 1000})
	if err != nil {
		return err
	}
	defer p.close()
	time.Sleep(300 * time.Millisecond)
	idle := rssKB(p.pid())
	var mu sync.Mutex
	var pids []int
	grow := func(total int) error {
		var wg sync.WaitGroup
		errs := make(chan error, total)
		next := make(chan struct{}, total)
		for i := len(pids); i < total; i++ {
			next <- struct{}{}
		}
		close(next)
		for w := 0; w < 4; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range next {
					_, pid, err := p.create(b.ctx, map[string]any{"name": "fleet", "template": templates.BasicCalculator})
					if err != nil {
						errs <- err
						return
					}
					mu.Lock()
					pids = append(pids, pid)
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		close(errs)
		return <-errs
	}
	if err := grow(100); err != nil {
		return err
	}
	// 5: as a client polling it sees it: every child answered within
	// actors.RecentExchange (the warm-up's pings), so none is pinged again.
	// 5p: ping_all, every child pinged — also what a poll of children idle
	// for longer than the window costs.
	for _, m := range []struct {
		metric string
		args   map[string]any
		recent bool // answers may come from earlier exchanges
		target time.Duration
	}{
		{"5. health_check_all, 100 live children (answered within " + actors.RecentExchange.String() + ")", nil, true, 20 * time.Millisecond},
		{"5p. health_check_all ping_all, 100 live children (every one pinged)", map[string]any{"ping_all": true}, false, 0},
	} {
		var s sample
		fromRecent := 0
		for i := -2; i < b.runs(40); i++ {
			t0 := time.Now()
			out, err := p.call(b.ctx, "health_check_all", m.args)
			d := time.Since(t0)
			if err != nil {
				return err
			}
			if h, _ := out["healthy"].(float64); h != 100 {
				return fmt.Errorf("health_check_all: %v of 100 healthy", out["healthy"])
			}
			if i < 0 {
				continue
			}
			n := recentAnswers(out)
			if !m.recent && n != 0 {
				return fmt.Errorf("health_check_all ping_all: %d of 100 answered from an earlier exchange", n)
			}
			fromRecent += n
			s = append(s, d)
		}
		b.add(timed(m.metric, s, m.target, ""))
		if m.recent {
			b.note("Row 5: %d of %d server reports came from an earlier exchange (the rest were pinged).",
				fromRecent, 100*len(s))
		}
	}

	if err := grow(200); err != nil {
		return err
	}
	time.Sleep(500 * time.Millisecond)
	full := rssKB(p.pid())
	var kids []int64
	var total int64
	for _, pid := range pids {
		r := rssKB(pid)
		kids = append(kids, r)
		total += r
	}
	sort.Slice(kids, func(i, j int) bool { return kids[i] < kids[j] })
	var helpers []string
	for _, c := range childrenOf(p.pid()) {
		if !contains(pids, c) {
			helpers = append(helpers, fmt.Sprintf("pid %d %d KiB", c, rssKB(c)))
		}
	}
	mb := func(kb int64) string { return fmt.Sprintf("%.1f MiB", float64(kb)/1024) }
	b.add(row{Metric: "7a. RSS metamcp serve, idle (initialized, no children)", Target: "-", Median: mb(idle), P90: "-", Result: "-"})
	b.add(row{Metric: "7b. RSS metamcp serve, 200 children", Target: "-", Median: mb(full), P90: "-", Result: "-"})
	b.add(row{Metric: fmt.Sprintf("7c. RSS per child (n=%d; total %s)", len(kids), mb(total)), Target: "-",
		Median: mb(kids[len(kids)/2]), P90: mb(kids[len(kids)*9/10]), Result: "-"})
	b.note("Other direct children of metamcp serve (guardian): %s.", strings.Join(helpers, ", "))
	return nil
}

// recentAnswers counts the servers of a health_check_all result reported
// from an earlier exchange (with ping_age_ms) rather than a ping made for it.
func recentAnswers(out map[string]any) int {
	list, _ := out["servers"].([]any)
	n := 0
	for _, s := range list {
		if h, _ := s.(map[string]any); h != nil && h["ping_age_ms"] != nil {
			n++
		}
	}
	return n
}

func contains(s []int, x int) bool {
	for _, v := range s {
		if v == x {
			return true
		}
	}
	return false
}

// 6. cold start of metamcp serve to the answer of initialize, and the
// package init costs of the binary.
func (b *bench) coldStart() error {
	cfg, err := b.config("cold", nil)
	if err != nil {
		return err
	}
	var s sample
	for i := -2; i < b.runs(40); i++ {
		d, err := coldStart(b.bin, cfg)
		if err != nil {
			return err
		}
		if i >= 0 {
			s = append(s, d)
		}
	}
	b.add(timed("6. metamcp serve exec → initialize answered", s, 20*time.Millisecond, ""))

	var v sample
	for i := 0; i < b.runs(40); i++ {
		t0 := time.Now()
		if err := command(b.bin, "--version").Run(); err != nil {
			return err
		}
		v = append(v, time.Since(t0))
	}
	b.add(timed("6x. `metamcp --version` exec → exit", v, 0, ""))
	return b.initTrace()
}

var initLine = regexp.MustCompile(`^init (\S+) @[0-9.]+ ms, ([0-9.]+) ms clock, ([0-9]+) bytes, ([0-9]+) allocs`)

// initTrace runs `GODEBUG=inittrace=1 metamcp --version` and reports which
// package inits cost the most (median clock over runs).
func (b *bench) initTrace() error {
	runs := b.runs(40)
	per := map[string][]float64{}
	bytesPer := map[string]int64{}
	var totals []float64
	for i := 0; i < runs; i++ {
		c := command(b.bin, "--version")
		c.Env = append(os.Environ(), "GODEBUG=inittrace=1")
		var errb bytes.Buffer
		c.Stderr = &errb
		if err := c.Run(); err != nil {
			return err
		}
		total := 0.0
		sc := bufio.NewScanner(&errb)
		for sc.Scan() {
			m := initLine.FindStringSubmatch(sc.Text())
			if m == nil {
				continue
			}
			f, _ := strconv.ParseFloat(m[2], 64)
			per[m[1]] = append(per[m[1]], f)
			n, _ := strconv.ParseInt(m[3], 10, 64)
			bytesPer[m[1]] = n
			total += f
		}
		totals = append(totals, total)
	}
	med := func(x []float64) float64 {
		c := append([]float64(nil), x...)
		sort.Float64s(c)
		return c[len(c)/2]
	}
	type pkg struct {
		name  string
		clock float64
	}
	var pkgs []pkg
	groups := map[string]float64{}
	for name, xs := range per {
		m := med(xs)
		pkgs = append(pkgs, pkg{name, m})
		groups[initGroup(name)] += m
	}
	sort.Slice(pkgs, func(i, j int) bool { return pkgs[i].clock > pkgs[j].clock })
	total := med(totals)
	var sb strings.Builder
	fmt.Fprintf(&sb, "`GODEBUG=inittrace=1 bin/metamcp --version`, %d runs, median per package: package inits total %.2f ms (%d packages).\n\n", runs, total, len(pkgs))
	sb.WriteString("| package | init clock (median) | heap bytes |\n|---|---|---|\n")
	for _, p := range pkgs[:min(12, len(pkgs))] {
		fmt.Fprintf(&sb, "| %s | %.3f ms | %d |\n", p.name, p.clock, bytesPer[p.name])
	}
	var gs []pkg
	for g, c := range groups {
		gs = append(gs, pkg{g, c})
	}
	sort.Slice(gs, func(i, j int) bool { return gs[i].clock > gs[j].clock })
	sb.WriteString("\nBy dependency (sum of medians):\n\n| group | init clock | share |\n|---|---|---|\n")
	for _, g := range gs {
		fmt.Fprintf(&sb, "| %s | %.3f ms | %.0f %% |\n", g.name, g.clock, 100*g.clock/total)
	}
	b.inittrace = sb.String()
	b.add(row{Metric: fmt.Sprintf("6y. package inits, sum (inittrace, n=%d)", runs), Target: "-",
		Median: fmt.Sprintf("%.2f ms", total), P90: "-", Result: "-"})
	return nil
}

// initGroup names the dependency a package belongs to.
func initGroup(name string) string {
	for _, g := range []string{
		"github.com/santhosh-tekuri/jsonschema", "github.com/google/jsonschema-go", "google.golang.org/protobuf",
		"github.com/golang/protobuf", "github.com/prometheus", "go.opentelemetry.io", "github.com/asynkron/protoactor-go",
		"github.com/mark3labs/mcp-go", "github.com/spf13", "golang.org/x/net", "golang.org/x/text", "github.com/metamcp",
		"github.com/PuerkitoBio", "github.com/andybalholm", "github.com/rs/zerolog",
	} {
		if strings.HasPrefix(name, g) {
			return g
		}
	}
	if !strings.Contains(strings.SplitN(name, "/", 2)[0], ".") {
		return "std"
	}
	return "other"
}
