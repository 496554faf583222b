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

	"github.com/mark3labs/mcp-go/mcp"
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
	keep      string   // directory to keep the relay profiles in ("": none)
	old       string   // another build of metamcp to measure against (-ab)
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

// The protocol versions the tool-call rows are measured with: the newest,
// which mcp-go's client speaks by default (2026-07-28: no session, _meta
// with the protocol version, client info and capabilities on every
// request), and 2025-06-18 (the initialize handshake, plain requests).
const (
	protoNewest = mcp.LATEST_PROTOCOL_VERSION
	protoLegacy = mcp.ProtocolVersion20250618
)

// 3, 8 and 9. add on a basic_calculator child through metamcp against the
// direct call to the same child binary, side by side: execute_on_server
// (3), and the gateway's own tool calc__add relayed on the fast path with
// the newest protocol (8) and 2025-06-18 (9). The direct client and the
// client of metamcp speak the same version in each pair.
func (b *bench) toolCall() error {
	for _, proto := range []string{protoNewest, protoLegacy} {
		m, err := b.serveProto("call-"+proto, nil, proto)
		if err != nil {
			return err
		}
		defer m.close()
		d, err := connectWith(b.ctx, nil, proto, b.childCmd()[0], b.childCmd()[1:]...)
		if err != nil {
			return err
		}
		defer d.close()
		id, childPID, err := m.create(b.ctx, map[string]any{"name": "calc", "template": templates.BasicCalculator})
		if err != nil {
			return err
		}
		if proto == protoNewest {
			err := b.compare(relayed{num: "3", what: "via execute_on_server", proto: proto, direct: d, meta: m, child: childPID,
				call: func() error {
					_, err := m.call(b.ctx, "execute_on_server", map[string]any{"server_id": id, "tool_name": "add", "arguments": addArgs})
					return err
				}})
			if err != nil {
				return err
			}
		}
		if err := b.gatewayReady(m, gatewayAdd); err != nil {
			return err
		}
		num := map[string]string{protoNewest: "8", protoLegacy: "9"}[proto]
		err = b.compare(relayed{num: num, what: "via the gateway (" + gatewayAdd + ")", proto: proto, direct: d, meta: m, child: childPID,
			floor: true, call: func() error { _, err := m.call(b.ctx, gatewayAdd, addArgs); return err }})
		if err != nil {
			return err
		}
	}
	return nil
}

// gatewayAdd is add of the server created as "calc", as the gateway lists it.
const gatewayAdd = "calc__add"

// serveProto is serve with the client speaking protocol version proto.
func (b *bench) serveProto(name string, extra map[string]any, proto string) (*peer, error) {
	cfg, err := b.config(name, extra)
	if err != nil {
		return nil, err
	}
	return connectWith(b.ctx, nil, proto, b.bin, "serve", "--config", cfg)
}

// childCmd is the command of a basic_calculator child as metamcp runs it.
func (b *bench) childCmd() []string {
	if tpl, ok := b.builtins(); ok {
		return []string{tpl, templates.BasicCalculator}
	}
	return []string{b.bin, "template", "run", templates.BasicCalculator}
}

// gatewayReady waits until metamcp lists tool and a call of it works (the
// gateway's catalog follows the directory a moment after create_server).
func (b *bench) gatewayReady(m *peer, tool string) error {
	t0 := time.Now()
	for {
		out, err := m.call(b.ctx, tool, addArgs)
		if err == nil {
			if out["result"] != 42.0 { // the child's result, relayed as it came
				return fmt.Errorf("%s: result %v, not 42", tool, out)
			}
			return nil
		}
		if time.Since(t0) > 5*time.Second {
			return fmt.Errorf("the gateway does not serve %s: %w", tool, err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// relayed is one way of calling add through metamcp, measured against the
// direct call to the same child binary.
type relayed struct {
	num    string       // the rows' number
	what   string       // how the call goes: "via execute_on_server"
	proto  string       // the protocol version both clients speak
	direct *peer        // a client of the child binary alone
	meta   *peer        // a client of metamcp serve
	child  int          // pid of metamcp's child
	call   func() error // one call of add through metamcp
	floor  bool         // also measure the floor: a process that only copies bytes (rows h, i)
}

// compare measures r side by side with the direct call, in rows Na–Ng:
// latency sequentially (interleaved, alternating which goes first), then
// throughput and CPU per call of each process with 32 concurrent callers
// (each side for a fixed time, alternated).
func (b *bench) compare(r relayed) error {
	name := func(letter, metric string) string {
		return fmt.Sprintf("%s%s. [%s] %s", r.num, letter, r.proto, metric)
	}
	direct := side{call: func() error { _, err := r.direct.call(b.ctx, "add", addArgs); return err },
		pids: []int{os.Getpid(), r.direct.pid()}}
	via := side{call: r.call, pids: []int{os.Getpid(), r.meta.pid(), r.child}}
	sides := []side{direct, via}
	if r.floor {
		f, err := b.copier(r.proto)
		if err != nil {
			return err
		}
		defer f.p.close()
		sides = append(sides, f.side)
	}
	calls := make([]func() error, len(sides))
	for i, sd := range sides {
		calls[i] = sd.call
	}
	// CPU of the processes that serve one side only (not the harness)
	// across the sequential calls: what one call costs when it wakes them.
	seq0 := make([][]time.Duration, len(sides))
	for i, sd := range sides {
		for _, pid := range sd.pids[1:] {
			seq0[i] = append(seq0[i], cpuTime(pid))
		}
	}
	lat, err := latencies(b.runs(3000), calls...)
	if err != nil {
		return err
	}
	sd, sm := lat[0], lat[1]
	seq := make([]string, len(sides))
	for i, sd := range sides {
		var parts []string
		for j, pid := range sd.pids[1:] {
			parts = append(parts, fmt.Sprintf("%.0f", float64((cpuTime(pid)-seq0[i][j]).Microseconds())/float64(len(lat[i]))))
		}
		seq[i] = strings.Join(parts, " / ")
	}
	b.add(timed(name("a", "add, direct to child (mcp-go client)"), sd, 0, ""))
	b.add(timed(name("b", "add "+r.what), sm, 0, ""))
	ratio := float64(sm.median()) / float64(sd.median())
	b.add(row{Metric: name("c", "via/direct ratio of medians"), Target: "≤ 1.30×", Median: fmt.Sprintf("%.2f×", ratio),
		P90: fmt.Sprintf("%.2f×", float64(sm.p90())/float64(sd.p90())), Result: verdict(atMost, ratio, 1.3)})
	sq := "metamcp / child: " + seq[1] + "; direct child: " + seq[0]
	if r.floor {
		sq += "; copier / child: " + seq[2]
	}
	b.add(row{Metric: name("s", "CPU µs per call, one call at a time (rows a, b)"), Target: "-", Median: sq, P90: "-", Result: "-"})

	window := time.Duration(b.runs(8)) * 250 * time.Millisecond
	tp, err := throughputs(3, window, sides...)
	if err != nil {
		return err
	}
	b.add(row{Metric: name("f", "CPU µs per call at 32 callers, client / metamcp / child: via"), Target: "-",
		Median: tp[1].cpuPerCall(), P90: "-", Result: "-"})
	b.add(row{Metric: name("g", "the same, direct (client / child)"), Target: "-",
		Median: tp[0].cpuPerCall(), P90: "-", Result: "-"})
	b.add(row{Metric: name("d", fmt.Sprintf("add, %d callers, calls/s direct / via (median of 3 × %s)", callers, window)),
		Target: "-", Median: fmt.Sprintf("%.0f / %.0f", tp[0].median(), tp[1].median()), P90: "-", Result: "-"})
	tr := tp[1].median() / tp[0].median()
	b.add(row{Metric: name("e", "throughput via/direct at 32 callers"), Target: "≥ 0.70×", Median: fmt.Sprintf("%.2f×", tr),
		P90: "-", Result: verdict(atLeast, tr, 0.7)})
	if r.floor {
		sf := lat[2]
		b.add(row{Metric: name("h", "floor: add through a process that only copies bytes (cmd/bench copy-relay) — via/direct p50 latency; throughput"),
			Target: "-", Median: fmt.Sprintf("%.2f×; %.2f×", float64(sf.median())/float64(sd.median()), tp[2].median()/tp[0].median()),
			P90: fmt.Sprintf("%.2f×", float64(sf.p90())/float64(sd.p90())), Result: "-"})
		b.add(row{Metric: name("i", "the floor's CPU µs per call, client / copier / child"), Target: "-",
			Median: tp[2].cpuPerCall(), P90: "-", Result: "-"})
	}
	return nil
}

// copying is a client of the child binary through the copy relay.
type copying struct {
	p    *peer
	side side
}

// copier starts the child binary behind the harness itself as a copy
// relay (copyRelay) and connects to it with protocol proto.
func (b *bench) copier(proto string) (*copying, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	p, err := connectWith(b.ctx, nil, proto, self, append([]string{copyRelayArg}, b.childCmd()...)...)
	if err != nil {
		return nil, err
	}
	kids := childrenOf(p.pid())
	if len(kids) != 1 {
		_ = p.close()
		return nil, fmt.Errorf("copy relay: %d children", len(kids))
	}
	return &copying{p: p, side: side{call: func() error { _, err := p.call(b.ctx, "add", addArgs); return err },
		pids: []int{os.Getpid(), p.pid(), kids[0]}}}, nil
}

// callers is the number of concurrent callers of the throughput rows.
const callers = 32

// side is one way of calling add and the processes it costs CPU in: the
// harness (the client) first.
type side struct {
	call func() error
	pids []int
}

// latencies times each call n times sequentially, interleaved: round i
// starts with call i mod len(calls), so that none is always first. 200
// rounds of warm-up are not counted.
func latencies(n int, calls ...func() error) ([]sample, error) {
	out := make([]sample, len(calls))
	for i := -200; i < n; i++ {
		for k := range calls {
			j := (k + i + 200) % len(calls)
			t0 := time.Now()
			if err := calls[j](); err != nil {
				return nil, err
			}
			if i >= 0 {
				out[j] = append(out[j], time.Since(t0))
			}
		}
	}
	return out, nil
}

// rate is what the throughput runs of one side measured.
type rate struct {
	perSec []float64       // calls per second, one per round
	calls  float64         // calls made in all rounds
	cpu    []time.Duration // CPU used in all rounds, per process of the side
}

func (r rate) median() float64 {
	c := append([]float64(nil), r.perSec...)
	sort.Float64s(c)
	return c[len(c)/2]
}

// cpuPerCall renders the CPU µs per call of each process, "a / b / c".
func (r rate) cpuPerCall() string {
	var parts []string
	for _, d := range r.cpu {
		parts = append(parts, fmt.Sprintf("%.0f", float64(d.Microseconds())/r.calls))
	}
	return strings.Join(parts, " / ")
}

// throughputs runs each side with 32 concurrent callers for window, the
// sides one after the other, rounds times, and counts the calls and the
// CPU time of each side's processes (user and system, from /proc). Round k
// starts with side k mod len(sides), so that none always follows the same
// one, and a pause between sides lets what a side leaves behind (the
// event store's commit 50 ms after its last event) end before the next.
func throughputs(rounds int, window time.Duration, sides ...side) ([]rate, error) {
	out := make([]rate, len(sides))
	for i := range out {
		out[i].cpu = make([]time.Duration, len(sides[i].pids))
	}
	for k := 0; k < rounds; k++ {
		for n := range sides {
			i := (k + n) % len(sides)
			s := sides[i]
			time.Sleep(settle)
			before := make([]time.Duration, len(s.pids))
			for j, pid := range s.pids {
				before[j] = cpuTime(pid)
			}
			x, err := concurrently(callers, window, s.call)
			if err != nil {
				return nil, err
			}
			for j, pid := range s.pids {
				out[i].cpu[j] += cpuTime(pid) - before[j]
			}
			out[i].perSec = append(out[i].perSec, x)
			out[i].calls += x * window.Seconds()
		}
	}
	return out, nil
}

// settle is the pause before each throughput run.
const settle = 150 * time.Millisecond

// concurrently runs f from callers goroutines for window and returns the
// calls per second, or the first error.
func concurrently(callers int, window time.Duration, f func() error) (float64, error) {
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

// ab measures the gateway of two builds of metamcp side by side in one run
// (-ab OLD: OLD against -bin), with each protocol version: latency of
// direct, OLD and new interleaved, then throughput and CPU per call at 32
// callers, the three alternated. For before/after figures of a change.
func (b *bench) ab() error {
	if b.old == "" {
		return nil
	}
	for _, proto := range []string{protoLegacy, protoNewest} {
		d, err := connectWith(b.ctx, nil, proto, b.childCmd()[0], b.childCmd()[1:]...)
		if err != nil {
			return err
		}
		defer d.close()
		sides := []side{{call: func() error { _, err := d.call(b.ctx, "add", addArgs); return err },
			pids: []int{os.Getpid(), d.pid()}}}
		for i, bin := range []string{b.old, b.bin} {
			cfg, err := b.config(fmt.Sprintf("ab-%s-%d", proto, i), nil)
			if err != nil {
				return err
			}
			m, err := connectWith(b.ctx, nil, proto, bin, "serve", "--config", cfg)
			if err != nil {
				return err
			}
			defer m.close()
			_, pid, err := m.create(b.ctx, map[string]any{"name": "calc", "template": templates.BasicCalculator})
			if err != nil {
				return err
			}
			if err := b.gatewayReady(m, gatewayAdd); err != nil {
				return err
			}
			sides = append(sides, side{call: func() error { _, err := m.call(b.ctx, gatewayAdd, addArgs); return err },
				pids: []int{os.Getpid(), m.pid(), pid}})
		}
		calls := []func() error{sides[0].call, sides[1].call, sides[2].call}
		m0 := []time.Duration{cpuTime(sides[1].pids[1]), cpuTime(sides[2].pids[1])}
		lat, err := latencies(b.runs(3000), calls...)
		if err != nil {
			return err
		}
		seqCPU := func(i int) float64 {
			return float64((cpuTime(sides[i].pids[1]) - m0[i-1]).Microseconds()) / float64(len(lat[i]))
		}
		name := func(m string) string { return fmt.Sprintf("AB. [%s] %s", proto, m) }
		ms3 := func(f func(sample) time.Duration) string {
			return ms(f(lat[0])) + " / " + ms(f(lat[1])) + " / " + ms(f(lat[2]))
		}
		b.add(row{Metric: name(fmt.Sprintf("add latency direct / old / new (n=%d)", len(lat[0]))), Target: "-",
			Median: ms3(sample.median), P90: ms3(sample.p90), Result: "-"})
		r := func(i int, f func(sample) time.Duration) float64 { return float64(f(lat[i])) / float64(f(lat[0])) }
		b.add(row{Metric: name("latency via/direct, old / new"), Target: "≤ 1.30×",
			Median: fmt.Sprintf("%.2f× / %.2f×", r(1, sample.median), r(2, sample.median)),
			P90:    fmt.Sprintf("%.2f× / %.2f×", r(1, sample.p90), r(2, sample.p90)), Result: "-"})
		b.add(row{Metric: name("metamcp's CPU µs per call, one call at a time, old / new"), Target: "-",
			Median: fmt.Sprintf("%.0f / %.0f", seqCPU(1), seqCPU(2)), P90: "-", Result: "-"})
		window := time.Duration(b.runs(8)) * 250 * time.Millisecond
		tp, err := throughputs(3, window, sides...)
		if err != nil {
			return err
		}
		b.add(row{Metric: name(fmt.Sprintf("calls/s at %d callers, direct / old / new (median of 3 × %s)", callers, window)), Target: "-",
			Median: fmt.Sprintf("%.0f / %.0f / %.0f", tp[0].median(), tp[1].median(), tp[2].median()), P90: "-", Result: "-"})
		b.add(row{Metric: name("throughput via/direct, old / new"), Target: "≥ 0.70×",
			Median: fmt.Sprintf("%.2f× / %.2f×", tp[1].median()/tp[0].median(), tp[2].median()/tp[0].median()), P90: "-", Result: "-"})
		b.add(row{Metric: name("CPU µs per call, client / metamcp / child: old | new | direct (client / child)"), Target: "-",
			Median: tp[1].cpuPerCall() + " | " + tp[2].cpuPerCall() + " | " + tp[0].cpuPerCall(), P90: "-", Result: "-"})
	}
	return nil
}
