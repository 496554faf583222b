//go:build linux

package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/metamcp/metamcp/templates"
)

// relayNodes are the profile nodes the report shows for execute_on_server,
// by what they are.
var relayNodes = []node{
	{"mcp-go stdio server: each incoming line parsed, also as a possible response to a sampling, elicitation or roots request", "server.(*StdioServer).processMessage"},
	{"mcp-go server: request decoding and dispatch (includes our handler below)", "server.(*MCPServer).HandleMessage"},
	{"our execute_on_server handler (argument checks, System.Ask, result JSON)", "mcpbridge.(*Bridge).executeOnServer"},
	{"our server actor's call goroutine (child call, outcome, event)", "actors.(*serverActor).dispatch.func1"},
	{"mcp-go client transport: the child's responses read and decoded", "transport.(*Stdio).readResponses"},
	{"mcp-go stdio server: responses encoded and written", "server.(*StdioServer).writeResponse"},
	{"encoding/json Unmarshal, all callers", "encoding/json.Unmarshal"},
	{"encoding/json Marshal, all callers", "encoding/json.Marshal"},
	{"garbage collector (background marking)", "runtime.gcBgMarkWorker"},
}

// gatewayNodes are the nodes shown for the gateway's relay path (package
// session → actors.System.Relay → child.Conn on package wire).
var gatewayNodes = []node{
	{"reading loops (client's stdin and the child's stdout): line, envelope decode, dispatch — includes all below but the GC", "wire.(*Peer).Serve"},
	{"envelope decode of every message (json.Valid, one pass over the envelope)", "wire.Decode"},
	{"client's tools/call: params and _meta decoded, child's params built, sent to the child", "session.(*Session).toolsCall"},
	{"… of which the _meta given to the child (client's protocol keys dropped, progress token)", "session.(*Session).childMeta"},
	{"… of which Relay: timer armed, request written to the child", "actors.(*System).Relay"},
	{"child's answer: timer stopped, stats, event, result written to the client", "actors.(*relayCall).answered"},
	{"… of which stats and the tool_executed event (sent to the events actor)", "actors.(*relayCall).finish"},
	{"events actor: the gateway's tool events recorded (protoactor mailbox and our events code)", "actors.(*eventsActor).Receive"},
	{"every write to a pipe (client and child), under the writer's lock", "wire.(*Writer).Write"},
	{"garbage collector (background marking)", "runtime.gcBgMarkWorker"},
}

type node struct{ label, node string }

// relayProfile profiles metamcp serve (METAMCP_CPUPROFILE) while 32
// callers call add on its child: through execute_on_server and through
// the gateway with the newest protocol, and through the gateway with
// 2025-06-18; it reports where metamcp's CPU went.
func (b *bench) relayProfile() error {
	exec := func(m *peer, id string) error {
		_, err := m.call(b.ctx, "execute_on_server", map[string]any{"server_id": id, "tool_name": "add", "arguments": addArgs})
		return err
	}
	gw := func(m *peer, _ string) error { _, err := m.call(b.ctx, gatewayAdd, addArgs); return err }
	for _, p := range []struct {
		name, what, proto string
		callers           int
		call              func(*peer, string) error
		nodes             []node
	}{
		{"relay", "execute_on_server add", protoNewest, 32, exec, relayNodes},
		{"gateway", gatewayAdd + " (the gateway's relay path)", protoNewest, 32, gw, gatewayNodes},
		{"gateway-legacy", gatewayAdd + " (the gateway's relay path)", protoLegacy, 32, gw, gatewayNodes},
		{"gateway-legacy-sequential", gatewayAdd + " (the gateway's relay path)", protoLegacy, 1, gw, gatewayNodes},
	} {
		prof, calls, window, used, err := b.profile(p.name, p.proto, p.callers, p.call)
		if err != nil {
			return fmt.Errorf("%s: %w", p.name, err)
		}
		top, err := exec2(goTool(), "tool", "pprof", "-top", "-cum", "-nodecount=400", b.bin, prof)
		if err != nil {
			return fmt.Errorf("go tool pprof: %w", err)
		}
		var s strings.Builder
		fmt.Fprintf(&s, "Relay profile, %s [%s]: `metamcp serve` profiling itself (METAMCP_CPUPROFILE) while %d caller(s) "+
			"ran %s for %s (%d calls; %s, of %s of CPU that /proc counts for its whole run, start included). "+
			"Share of its CPU samples, cumulative (a node includes what it calls):\n\n",
			p.name, p.proto, p.callers, p.what, window, calls, profDuration(top), used)
		s.WriteString(nodeTable(top, p.nodes))
		if p.name != "relay" {
			traces, err := exec2(goTool(), "tool", "pprof", "-traces", b.bin, prof)
			if err != nil {
				return fmt.Errorf("go tool pprof: %w", err)
			}
			s.WriteString("\n" + breakdown(parseTraces(traces)))
		}
		b.note("%s", s.String())
		if b.keep != "" {
			_ = os.MkdirAll(b.keep, 0o755)
			if raw, err := os.ReadFile(prof); err == nil {
				_ = os.WriteFile(filepath.Join(b.keep, p.name+".pprof"), raw, 0o644)
			}
		}
	}
	return nil
}

func exec2(name string, args ...string) ([]byte, error) { return exec.Command(name, args...).Output() }

// profile runs callers callers of call against a metamcp serve that profiles
// itself, with a child "calc", and returns the profile's path.
func (b *bench) profile(name, proto string, callers int, call func(m *peer, id string) error) (prof string, calls int, window, used time.Duration, err error) {
	prof = filepath.Join(b.dir, name+".pprof")
	cfg, err := b.config("profile-"+name, nil)
	if err != nil {
		return "", 0, 0, 0, err
	}
	m, err := connectWith(b.ctx, []string{"METAMCP_CPUPROFILE=" + prof}, proto, b.bin, "serve", "--config", cfg)
	if err != nil {
		return "", 0, 0, 0, err
	}
	id, _, err := m.create(b.ctx, map[string]any{"name": "calc", "template": templates.BasicCalculator})
	if err == nil {
		err = b.gatewayReady(m, gatewayAdd)
	}
	if err != nil {
		_ = m.close()
		return "", 0, 0, 0, err
	}
	window = time.Duration(b.runs(24)) * 250 * time.Millisecond
	stop := time.Now().Add(window)
	var wg sync.WaitGroup
	var mu sync.Mutex
	for range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(stop) {
				if err := call(m, id); err != nil {
					return
				}
				mu.Lock()
				calls++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	used = cpuTime(m.pid())
	if err := m.close(); err != nil { // the profile is written as metamcp exits
		return "", 0, 0, 0, err
	}
	return prof, calls, window, used, nil
}

func profDuration(top []byte) string {
	sc := bufio.NewScanner(bytes.NewReader(top))
	for sc.Scan() {
		if l := sc.Text(); strings.HasPrefix(l, "Duration:") {
			return strings.TrimSpace(l)
		}
	}
	return ""
}

// nodeTable renders the chosen nodes' cumulative shares of the profile.
func nodeTable(top []byte, nodes []node) string {
	cum := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(top))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 6 || !strings.HasSuffix(f[4], "%") {
			continue
		}
		name := strings.Join(f[5:], " ")
		for _, n := range nodes {
			if _, seen := cum[n.node]; !seen && strings.HasSuffix(name, n.node) {
				cum[n.node] = f[4]
			}
		}
	}
	var s strings.Builder
	s.WriteString("| where | cum % |\n|---|---|\n")
	for _, n := range nodes {
		v := cum[n.node]
		if v == "" {
			v = "< 1 %"
		}
		fmt.Fprintf(&s, "| %s (`%s`) | %s |\n", n.label, n.node, v)
	}
	return s.String()
}

// trace is one stack of a CPU profile (leaf first) and its sampled time.
type trace struct {
	d      time.Duration
	frames []string
}

// parseTraces reads `go tool pprof -traces`: blocks separated by dashed
// lines, the first line of each starting with the block's time.
func parseTraces(out []byte) []trace {
	var ts []trace
	var cur *trace
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		l := sc.Text()
		if strings.HasPrefix(l, "-----------+") {
			cur = nil
			continue
		}
		f := strings.Fields(l)
		if len(f) == 0 || strings.Contains(l, ":") && cur == nil && !strings.HasPrefix(l, " ") {
			continue // the header
		}
		if cur == nil {
			d, err := time.ParseDuration(f[0])
			if err != nil || len(f) < 2 {
				continue
			}
			ts = append(ts, trace{d: d})
			cur = &ts[len(ts)-1]
			f = f[1:]
		}
		cur.frames = append(cur.frames, f[0])
	}
	return ts
}

// groups are the categories of the breakdown, in the order shown, each of
// a kind: ours, encoding/json, other libraries, syscalls, runtime.
var groups = []struct{ name, kind string }{
	{"ours: session (the client's session, tools/call, _meta)", "ours"},
	{"ours: wire (lines, envelopes, writes)", "ours"},
	{"ours: actors (relay, events actor, directory)", "ours"},
	{"ours: actors/child (the child's connection, stdout filter)", "ours"},
	{"ours: actors/eventstore (the event history on disk)", "ours"},
	{"ours: other (mcpbridge, control, cmd)", "ours"},
	{"encoding/json", "encoding/json"},
	{"mcp-go", "libraries"},
	{"protoactor-go (actor mailboxes)", "libraries"},
	{"bbolt (the event store's database)", "libraries"},
	{"prometheus (metrics)", "libraries"},
	{"zerolog", "libraries"},
	{"os, internal/poll, syscall (Go side)", "libraries"},
	{"other std (bufio, bytes, reflect, strconv, sync, time …)", "libraries"},
	{"other", "libraries"},
	{"syscalls: pipe reads and writes", "syscalls"},
	{"syscalls: fsync (the event store)", "syscalls"},
	{"syscalls: scheduler and timers (futex, epoll: goroutines and threads sleeping and waking)", "syscalls"},
	{"syscalls: other", "syscalls"},
	{"runtime: allocation (malloc, GC assist)", "runtime"},
	{"runtime: maps", "runtime"},
	{"runtime: scheduler (goroutines parked, readied; threads started, stopped)", "runtime"},
	{"runtime: garbage collector (background)", "runtime"},
	{"runtime: timers (time.AfterFunc, Stop)", "runtime"},
	{"runtime: goroutine stacks growing (new goroutines)", "runtime"},
	{"runtime: other (copying, hashing, atomics …)", "runtime"},
}

// frameGroup names the group of a (non-runtime) function.
func frameGroup(fn string) string {
	const ours = "github.com/metamcp/metamcp/"
	for _, g := range []struct{ prefix, group string }{
		{ours + "session.", groups[0].name},
		{ours + "wire.", groups[1].name},
		{ours + "actors.", groups[2].name},
		{ours + "actors/child.", groups[3].name},
		{ours + "actors/eventstore.", groups[4].name},
		{ours, groups[5].name},
		{"encoding/json.", "encoding/json"},
		{"github.com/mark3labs/mcp-go", "mcp-go"},
		{"github.com/asynkron/protoactor-go", "protoactor-go (actor mailboxes)"},
		{"go.etcd.io/bbolt", "bbolt (the event store's database)"},
		{"github.com/prometheus", "prometheus (metrics)"},
		{"github.com/rs/zerolog", "zerolog"},
		{"syscall.", "os, internal/poll, syscall (Go side)"},
		{"internal/poll.", "os, internal/poll, syscall (Go side)"},
		{"os.", "os, internal/poll, syscall (Go side)"},
	} {
		if strings.HasPrefix(fn, g.prefix) {
			return g.group
		}
	}
	elem := fn // the first element of the package path
	if i := strings.IndexByte(fn, '/'); i >= 0 {
		elem = fn[:i]
	} else if i := strings.IndexByte(fn, '.'); i >= 0 {
		elem = fn[:i]
	}
	if !strings.Contains(elem, ".") {
		return "other std (bufio, bytes, reflect, strconv, sync, time …)"
	}
	return "other"
}

func isRuntime(fn string) bool {
	return strings.HasPrefix(fn, "runtime.") || strings.HasPrefix(fn, "internal/runtime/") ||
		strings.HasPrefix(fn, "runtime/internal/") || strings.HasPrefix(fn, "internal/abi.") ||
		strings.HasPrefix(fn, "internal/bytealg.") || strings.HasPrefix(fn, "internal/sync.") ||
		strings.HasPrefix(fn, "sync/atomic.") || strings.HasPrefix(fn, "gcWriteBarrier")
}

// isSyscall is a frame in which the thread is in (or entering) the kernel.
func isSyscall(fn string) bool {
	for _, s := range []string{"syscall.Syscall", "syscall.RawSyscall", "internal/runtime/syscall", "runtime/internal/syscall",
		"runtime.futex", "runtime.epollwait", "runtime.write1", "runtime.read", "runtime.usleep", "runtime.osyield",
		"runtime.madvise", "runtime.mmap", "runtime.munmap", "runtime.tgkill", "runtime.sched_yield", "runtime.rt_sigprocmask",
		"syscall.rawSyscallNoError", "syscall.rawVforkSyscall", "runtime.nanosleep", "runtime.getpid", "runtime.raise"} {
		if strings.HasPrefix(fn, s) {
			return true
		}
	}
	return false
}

func hasFrame(t trace, prefixes ...string) bool {
	for _, f := range t.frames {
		for _, p := range prefixes {
			if strings.HasPrefix(f, p) {
				return true
			}
		}
	}
	return false
}

// classify puts a sample in one group: a syscall by what it serves, the
// collector's background work, the scheduler, else the code it is spent
// in (self). owner is the same but for runtime work done for a caller
// (allocation, maps, copying), counted to the first non-runtime caller.
func classify(t trace) (self, owner string) {
	leaf := t.frames[0]
	if isSyscall(leaf) {
		switch {
		case hasFrame(t, "syscall.Fdatasync", "syscall.Fsync", "go.etcd.io/bbolt.fdatasync"):
			self = "syscalls: fsync (the event store)"
		case hasFrame(t, "os.(*File).Write", "os.(*File).Read", "internal/poll.(*FD).Read", "internal/poll.(*FD).Write", "syscall.read", "syscall.write"):
			self = "syscalls: pipe reads and writes"
		case hasFrame(t, "runtime."):
			self = "syscalls: scheduler and timers (futex, epoll: goroutines and threads sleeping and waking)"
		default:
			self = "syscalls: other"
		}
		return self, self
	}
	if hasFrame(t, "runtime.gcBgMarkWorker") {
		return "runtime: garbage collector (background)", "runtime: garbage collector (background)"
	}
	if !isRuntime(leaf) {
		self = frameGroup(leaf)
		if strings.HasPrefix(leaf, "time.") {
			self = "runtime: timers (time.AfterFunc, Stop)"
		}
		if strings.HasPrefix(leaf, "reflect.") {
			for _, f := range t.frames {
				if !isRuntime(f) && !strings.HasPrefix(f, "reflect.") {
					return self, frameGroup(f)
				}
			}
		}
		return self, self
	}
	switch {
	case hasFrame(t, "runtime.newstack", "runtime.copystack"):
		self = "runtime: goroutine stacks growing (new goroutines)"
	case hasFrame(t, "runtime.mallocgc", "runtime.newobject", "runtime.makeslice", "runtime.growslice", "runtime.gcAssist"):
		self = "runtime: allocation (malloc, GC assist)"
	case hasFrame(t, "runtime.map", "internal/runtime/maps"):
		self = "runtime: maps"
	case hasFrame(t, "runtime.schedule", "runtime.findRunnable", "runtime.park_m", "runtime.goexit0", "runtime.gopreempt",
		"runtime.newproc", "runtime.ready", "runtime.wakep", "runtime.sysmon", "runtime.netpoll", "runtime.exitsyscall",
		"runtime.entersyscall", "runtime.stopm", "runtime.startm", "runtime.mstart", "runtime.gopark", "runtime.goready"):
		self = "runtime: scheduler (goroutines parked, readied; threads started, stopped)"
	case hasFrame(t, "runtime.(*timer)", "runtime.(*timers)", "time.", "runtime.stopTimer", "runtime.resetTimer", "runtime.newTimer"):
		self = "runtime: timers (time.AfterFunc, Stop)"
	default:
		self = "runtime: other (copying, hashing, atomics …)"
	}
	for _, f := range t.frames {
		if !isRuntime(f) && !strings.HasPrefix(f, "reflect.") {
			return self, frameGroup(f)
		}
	}
	return self, self
}

// breakdown renders where the samples went, by group and by kind.
func breakdown(ts []trace) string {
	var total time.Duration
	self, owner, incl := map[string]time.Duration{}, map[string]time.Duration{}, map[string]time.Duration{}
	for _, t := range ts {
		if len(t.frames) == 0 {
			continue
		}
		total += t.d
		s, o := classify(t)
		self[s] += t.d
		owner[o] += t.d
		seen := map[string]bool{}
		for _, f := range t.frames {
			if !isRuntime(f) && !isSyscall(f) {
				if g := frameGroup(f); !seen[g] {
					seen[g] = true
					incl[g] += t.d
				}
			}
		}
	}
	if total == 0 {
		return ""
	}
	pct := func(d time.Duration) string {
		if d == 0 {
			return "-"
		}
		return strconv.FormatFloat(100*float64(d)/float64(total), 'f', 1, 64) + " %"
	}
	var s strings.Builder
	fmt.Fprintf(&s, "Where metamcp's CPU went (%s of samples), each sample counted once. *Self*: by the function it was in — "+
		"a syscall by what it served, the runtime by what it was doing. *With its runtime*: allocation, maps and copying "+
		"counted to the first non-runtime caller instead. *In stack*: samples with any frame of that code (they overlap).\n\n", total)
	s.WriteString("| where | self | with its runtime | in stack |\n|---|---|---|---|\n")
	kinds := []string{"ours", "encoding/json", "libraries", "syscalls", "runtime"}
	kself, kowner := map[string]time.Duration{}, map[string]time.Duration{}
	for _, g := range groups {
		kself[g.kind] += self[g.name]
		kowner[g.kind] += owner[g.name]
		if self[g.name]+owner[g.name]+incl[g.name] == 0 {
			continue
		}
		fmt.Fprintf(&s, "| %s | %s | %s | %s |\n", g.name, pct(self[g.name]), pct(owner[g.name]), pct(incl[g.name]))
	}
	for _, k := range kinds {
		fmt.Fprintf(&s, "| **all %s** | **%s** | **%s** | |\n", k, pct(kself[k]), pct(kowner[k]))
	}
	return s.String()
}

// goTool is the go command running this harness (make bench: go run).
func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return filepath.Join(runtime.GOROOT(), "bin", "go")
}
