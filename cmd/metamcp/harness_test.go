//go:build linux

package main

// The end-to-end harness: it runs the real metamcp binary as `metamcp serve`
// on pipes, speaks MCP to it with mcp-go's client, records every byte it
// writes on stdout, and after each test checks that it exited promptly, left
// no process behind and wrote nothing but JSON-RPC on stdout.
//
// It needs Linux: processes are inspected through /proc, and the test
// process makes itself a child subreaper (PR_SET_CHILD_SUBREAPER), so that a
// child metamcp failed to reap is re-parented to the test instead of to init
// and shows up here, as a zombie, rather than vanishing.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"
	"golang.org/x/sys/unix"
)

// metamcpBin is the binary under test: $METAMCP_BIN, or one TestMain built.
var metamcpBin string

func TestMain(m *testing.M) { os.Exit(testMain(m)) }

func testMain(m *testing.M) int {
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: becoming a child subreaper:", err)
		return 1
	}
	if bin := os.Getenv("METAMCP_BIN"); bin != "" {
		abs, err := filepath.Abs(bin)
		if err != nil {
			fmt.Fprintln(os.Stderr, "e2e: METAMCP_BIN:", err)
			return 1
		}
		metamcpBin = abs
		return m.Run()
	}
	dir, err := os.MkdirTemp("", "metamcp-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	metamcpBin = filepath.Join(dir, "metamcp")
	build := exec.Command(goCommand(), "build", "-o", metamcpBin, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: building metamcp:", err)
		return 1
	}
	return m.Run()
}

// goTool finds the go command that is running the tests.
func goCommand() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	if root := os.Getenv("GOROOT"); root != "" {
		return filepath.Join(root, "bin", "go")
	}
	return "go"
}

// ---- Starting metamcp ---------------------------------------------------

// serveOpts tune one metamcp instance.
type serveOpts struct {
	// Config keys are laid over harnessConfig; a nil value removes a key.
	Config map[string]any
	// Env is added to metamcp's environment ("XDG_RUNTIME_DIR=...").
	Env []string
}

// harnessConfig is the config file every instance starts from: only the
// metamcp executable may run, files stay in the test's directory, and
// timeouts are short enough that a hang fails the test instead of the run.
func harnessConfig(dir string) map[string]any {
	return map[string]any{
		"allowed_commands":        []string{"metamcp"},
		"temp_directory":          filepath.Join(dir, "tmp"),
		"state_directory":         filepath.Join(dir, "state"), // each test its own event store
		"start_timeout_seconds":   10,
		"default_timeout_seconds": 20,
		"http_timeout_seconds":    10,
		"log_level":               "DEBUG",
	}
}

// mcpServe is one running `metamcp serve` and the MCP client talking to it.
type mcpServe struct {
	t      *testing.T
	c      *client.Client
	cmd    *exec.Cmd
	pid    int
	dir    string
	stdin  *os.File
	out    *teeReader
	stderr *lockedBuffer

	exited  chan struct{} // closed when cmd.Wait returned
	waitErr error

	mu    sync.Mutex
	procs map[int]tracked // descendants seen, by pid
}

// startServe writes a config file, starts `metamcp serve --config FILE` and
// initializes an MCP session with it. Its cleanup closes stdin, requires an
// exit within 5 s, and checks for left-over processes and for anything on
// stdout that is not JSON-RPC.
func startServe(t *testing.T, opts serveOpts) *mcpServe {
	t.Helper()
	dir := t.TempDir()
	cfg := harnessConfig(dir)
	for k, v := range opts.Config {
		if v == nil {
			delete(cfg, k)
		} else {
			cfg[k] = v
		}
	}
	file := filepath.Join(dir, "meta_mcp_config.json")
	data, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}

	inR, inW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	s := &mcpServe{t: t, dir: dir, stdin: inW, out: newTeeReader(outR), stderr: &lockedBuffer{},
		exited: make(chan struct{}), procs: map[int]tracked{}}
	s.cmd = exec.Command(metamcpBin, "serve", "--config", file)
	s.cmd.Dir = dir
	s.cmd.Env = append(serveEnv(), opts.Env...)
	s.cmd.Stdin, s.cmd.Stdout, s.cmd.Stderr = inR, outW, s.stderr
	s.cmd.WaitDelay = 2 * time.Second
	err = s.cmd.Start()
	inR.Close()
	outW.Close()
	if err != nil {
		inW.Close()
		outR.Close()
		t.Fatalf("starting metamcp: %v", err)
	}
	s.pid = s.cmd.Process.Pid
	go func() {
		s.waitErr = s.cmd.Wait()
		close(s.exited)
	}()
	t.Cleanup(s.cleanup)

	s.c = client.NewClient(transport.NewIO(s.out, inW, nil))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.c.Start(ctx); err != nil {
		t.Fatalf("starting MCP client: %v", err)
	}
	init := mcp.InitializeRequest{}
	init.Params.ClientInfo = mcp.Implementation{Name: "metamcp-e2e", Version: "1.0.0"}
	res, err := s.c.Initialize(ctx, init)
	if err != nil {
		t.Fatalf("initialize: %v", err)
	}
	if res.ServerInfo.Name != "metamcp" {
		t.Fatalf("initialize: server name %q, want metamcp", res.ServerInfo.Name)
	}
	return s
}

// serveEnv is the test's environment without metamcp's own variables, so
// that a developer's MCP_* settings cannot change what is tested.
func serveEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "MCP_") {
			env = append(env, kv)
		}
	}
	return env
}

// closeStdin ends metamcp's input, as a client does when it goes away.
func (s *mcpServe) closeStdin() { _ = s.stdin.Close() }

// waitExit waits up to d for metamcp to exit and reports how long it took.
func (s *mcpServe) waitExit(d time.Duration) (time.Duration, error) {
	t0 := time.Now()
	select {
	case <-s.exited:
		return time.Since(t0), nil
	case <-time.After(d):
		return time.Since(t0), fmt.Errorf("metamcp (pid %d) still running after %s", s.pid, d)
	}
}

func (s *mcpServe) hasExited() bool {
	select {
	case <-s.exited:
		return true
	default:
		return false
	}
}

func (s *mcpServe) cleanup() {
	t := s.t
	defer func() {
		if t.Failed() {
			t.Logf("metamcp stderr:\n%s", s.stderr)
		}
	}()
	if !s.hasExited() {
		s.trackChildren()
	}
	s.closeStdin()
	if took, err := s.waitExit(5 * time.Second); err != nil {
		t.Errorf("after stdin was closed: %v", err)
		_ = s.cmd.Process.Kill()
		<-s.exited
	} else if took > 5*time.Second {
		t.Errorf("metamcp took %s to exit after stdin was closed", took)
	}
	select { // every byte metamcp wrote has been read (and recorded)
	case <-s.out.eof:
	case <-time.After(2 * time.Second):
		t.Errorf("stdout did not reach EOF within 2 s of metamcp's exit")
	}
	if s.c != nil {
		_ = s.c.Close()
	}
	s.checkNoLeftovers()
	s.checkProtocol()
}

// ---- Child processes ----------------------------------------------------

// track remembers a child pid with its start time, so that a later check can
// tell the same process from a new one that reuses the pid.
func (s *mcpServe) track(pid int) {
	if pid <= 0 {
		return
	}
	st, err := readStat(pid)
	if err != nil {
		return // already gone
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.procs[pid]; !ok {
		s.procs[pid] = tracked{start: st.start, pgrp: st.pgrp}
	}
}

// tracked is a descendant of metamcp the harness has seen: its start time
// (clock ticks after boot, to tell a reused pid) and process group.
type tracked struct {
	start uint64
	pgrp  int
}

// descendants lists every live process whose chain of parents leads to
// metamcp: shims, servers and what they started.
func (s *mcpServe) descendants() []procStat {
	procs := allProcs()
	parent := make(map[int]int, len(procs))
	for _, st := range procs {
		parent[st.pid] = st.ppid
	}
	var out []procStat
	for _, st := range procs {
		for p, hops := st.ppid, 0; p > 1 && hops < 64; p, hops = parent[p], hops+1 {
			if p == s.pid {
				out = append(out, st)
				break
			}
		}
	}
	return out
}

// ownChild says whether pid is a server metamcp runs: its child, or the
// child of the process shim metamcp forked for it (which leads its group).
func (s *mcpServe) ownChild(pid int) error {
	st, err := readStat(pid)
	if err != nil {
		return err
	}
	if st.ppid == s.pid {
		return nil
	}
	shim, err := readStat(st.ppid)
	if err == nil && shim.ppid == s.pid && shim.pgrp == shim.pid && st.pgrp == shim.pid {
		return nil
	}
	return fmt.Errorf("pid %d (parent %d, group %d) is not a server of metamcp (pid %d)", pid, st.ppid, st.pgrp, s.pid)
}

// trackChildren records every descendant of metamcp, whether or not a tool
// result mentioned it.
func (s *mcpServe) trackChildren() {
	for _, st := range s.descendants() {
		s.track(st.pid)
	}
}

// trackPIDs records every "pid" field of a result, at any depth.
func (s *mcpServe) trackPIDs(v any) {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if f, ok := x.(float64); ok && k == "pid" {
				s.track(int(f))
			} else {
				s.trackPIDs(x)
			}
		}
	case []any:
		for _, x := range v {
			s.trackPIDs(x)
		}
	}
}

// gone reports nil when the tracked process pid no longer exists (its pid
// may have been reused by another), else what is left of it.
func (s *mcpServe) gone(pid int) error {
	s.mu.Lock()
	seen, tracked := s.procs[pid]
	s.mu.Unlock()
	st, err := readStat(pid)
	if err != nil {
		return nil
	}
	if tracked && st.start != seen.start {
		return nil // a new process with the same pid
	}
	what := "still running"
	if st.state == "Z" {
		what = "a zombie (exited but not reaped by metamcp)"
	}
	return fmt.Errorf("child pid %d is %s (state %s, parent %d)", pid, what, st.state, st.ppid)
}

// checkNoLeftovers runs after metamcp exited: every descendant seen must be
// gone, and so must every process in a process group one of them was in.
func (s *mcpServe) checkNoLeftovers() {
	s.mu.Lock()
	pids := make([]int, 0, len(s.procs))
	groups := map[int]bool{}
	for pid, seen := range s.procs {
		pids = append(pids, pid)
		groups[seen.pgrp] = true
	}
	s.mu.Unlock()
	sort.Ints(pids)
	for _, pid := range pids {
		if err := s.gone(pid); err != nil {
			s.t.Errorf("after metamcp exited: %v", err)
			reapLeftover(pid)
		}
	}
	for _, st := range allProcs() {
		if !groups[st.pgrp] || st.pid == st.pgrp {
			continue
		}
		if st.state == "Z" {
			// A dead grandchild: it is a zombie only because it was
			// re-parented to this test (the subreaper) instead of init.
			reapLeftover(st.pid)
			continue
		}
		s.t.Errorf("after metamcp exited: pid %d (state %s) is left in child process group %d", st.pid, st.state, st.pgrp)
		reapLeftover(st.pid)
	}
}

// reap kills a left-over process and, when it was re-parented to the test
// (the subreaper), collects it, so one failure does not leak into others.
func reapLeftover(pid int) {
	_ = unix.Kill(pid, unix.SIGKILL)
	if st, err := readStat(pid); err == nil && st.ppid == os.Getpid() {
		var ws unix.WaitStatus
		_, _ = unix.Wait4(pid, &ws, 0, nil)
	}
}

// procStat is the part of /proc/PID/stat the harness needs.
type procStat struct {
	pid, ppid, pgrp int
	state           string
	start           uint64
}

func readStat(pid int) (procStat, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return procStat{}, err
	}
	// "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return procStat{}, fmt.Errorf("/proc/%d/stat: %q", pid, b)
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 20 {
		return procStat{}, fmt.Errorf("/proc/%d/stat: %q", pid, b)
	}
	st := procStat{pid: pid, state: f[0]}
	st.ppid, _ = strconv.Atoi(f[1])
	st.pgrp, _ = strconv.Atoi(f[2])
	st.start, _ = strconv.ParseUint(f[19], 10, 64) // field 22, starttime
	return st, nil
}

func allProcs() []procStat {
	ents, _ := os.ReadDir("/proc")
	var out []procStat
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if st, err := readStat(pid); err == nil {
			out = append(out, st)
		}
	}
	return out
}

// ---- Stdout: nothing but protocol ----------------------------------------

// teeReader passes metamcp's stdout to the MCP client and keeps a copy.
type teeReader struct {
	r       *os.File
	mu      sync.Mutex
	buf     bytes.Buffer
	eof     chan struct{}
	eofOnce sync.Once
}

func newTeeReader(r *os.File) *teeReader { return &teeReader{r: r, eof: make(chan struct{})} }

func (t *teeReader) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	t.mu.Lock()
	t.buf.Write(p[:n])
	t.mu.Unlock()
	if err != nil {
		t.eofOnce.Do(func() { close(t.eof) })
	}
	return n, err
}

func (t *teeReader) bytes() []byte {
	t.mu.Lock()
	defer t.mu.Unlock()
	return bytes.Clone(t.buf.Bytes())
}

// checkProtocol requires every line metamcp wrote on stdout to be one
// JSON-RPC 2.0 message, and the output to end with a newline.
func (s *mcpServe) checkProtocol() {
	out := s.out.bytes()
	lines := bytes.Split(out, []byte("\n"))
	if last := lines[len(lines)-1]; len(last) > 0 {
		s.t.Errorf("stdout ends with an unterminated line: %.200q", last)
	}
	lines = lines[:len(lines)-1]
	if len(lines) == 0 {
		s.t.Errorf("metamcp wrote nothing on stdout")
	}
	for i, l := range lines {
		if err := checkJSONRPC(l); err != nil {
			s.t.Errorf("stdout line %d is not a JSON-RPC 2.0 message: %v: %.300q", i+1, err, l)
		}
	}
}

func checkJSONRPC(line []byte) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(line, &m); err != nil {
		return fmt.Errorf("not a JSON object: %v", err)
	}
	if string(m["jsonrpc"]) != `"2.0"` {
		return fmt.Errorf(`"jsonrpc" is %s, want "2.0"`, m["jsonrpc"])
	}
	for k := range m {
		switch k {
		case "jsonrpc", "id", "method", "params", "result", "error":
		default:
			return fmt.Errorf("unexpected member %q", k)
		}
	}
	id, hasID := m["id"]
	if hasID && !validID(id) {
		return fmt.Errorf("bad id %s", id)
	}
	if method, ok := m["method"]; ok { // a request or a notification
		var name string
		if json.Unmarshal(method, &name) != nil || name == "" {
			return fmt.Errorf("bad method %s", method)
		}
		if _, ok := m["result"]; ok {
			return errors.New("a request with a result")
		}
		if _, ok := m["error"]; ok {
			return errors.New("a request with an error")
		}
		if p, ok := m["params"]; ok && p[0] != '{' && p[0] != '[' {
			return fmt.Errorf("params %s is neither object nor array", p)
		}
		return nil
	}
	if !hasID {
		return errors.New("neither method nor id")
	}
	res, hasResult := m["result"]
	rpcErr, hasError := m["error"]
	switch {
	case hasResult == hasError:
		return errors.New("a response needs exactly one of result and error")
	case hasResult && string(id) == "null":
		return errors.New("a result with a null id")
	case hasResult && len(res) == 0:
		return errors.New("empty result")
	case hasError:
		var e struct {
			Code    *int    `json:"code"`
			Message *string `json:"message"`
		}
		if err := json.Unmarshal(rpcErr, &e); err != nil || e.Code == nil || e.Message == nil {
			return fmt.Errorf("bad error object %s", rpcErr)
		}
	}
	return nil
}

func validID(id json.RawMessage) bool {
	if string(id) == "null" {
		return true
	}
	var s string
	if json.Unmarshal(id, &s) == nil {
		return true
	}
	var n json.Number
	return json.Unmarshal(id, &n) == nil
}

// lockedBuffer collects metamcp's stderr.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// ---- Calling tools --------------------------------------------------------

// call calls a metamcp tool. It requires exactly one text content item
// holding the same JSON object as structuredContent, and returns that object,
// isError and the text.
func call(t *testing.T, s *mcpServe, tool string, args map[string]any) (map[string]any, bool, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req := mcp.CallToolRequest{}
	req.Params.Name = tool
	if args != nil {
		req.Params.Arguments = args
	}
	res, err := s.c.CallTool(ctx, req)
	if err != nil {
		t.Fatalf("%s(%s): %v", tool, jsonText(args), err)
	}
	if len(res.Content) != 1 {
		t.Fatalf("%s: %d content items, want 1 text item", tool, len(res.Content))
	}
	var text string
	switch c := res.Content[0].(type) {
	case mcp.TextContent:
		text = c.Text
	case *mcp.TextContent:
		text = c.Text
	default:
		t.Fatalf("%s: content is %T, want text", tool, res.Content[0])
	}
	raw := res.RawStructuredContent
	if len(raw) == 0 {
		if res.StructuredContent == nil {
			t.Fatalf("%s: no structuredContent; text: %s", tool, text)
		}
		raw, _ = json.Marshal(res.StructuredContent)
	}
	var structured, fromText map[string]any
	if err := json.Unmarshal(raw, &structured); err != nil {
		t.Fatalf("%s: structuredContent is not a JSON object: %v: %s", tool, err, raw)
	}
	if err := json.Unmarshal([]byte(text), &fromText); err != nil {
		t.Fatalf("%s: text content is not a JSON object: %v: %s", tool, err, text)
	}
	if !reflect.DeepEqual(structured, fromText) {
		t.Fatalf("%s: structuredContent and text differ:\nstructured: %s\ntext:       %s", tool, raw, text)
	}
	s.trackPIDs(structured)
	return structured, res.IsError, text
}

// mustOK calls a tool that must succeed and returns its result.
func mustOK(t *testing.T, s *mcpServe, tool string, args map[string]any) map[string]any {
	t.Helper()
	res, isErr, text := call(t, s, tool, args)
	if isErr {
		t.Fatalf("%s(%s): isError; result: %s", tool, jsonText(args), text)
	}
	return res
}

// mustFail calls a tool that must fail with status "error" and a message
// containing every one of want; it returns the result.
func mustFail(t *testing.T, s *mcpServe, tool string, args map[string]any, want ...string) map[string]any {
	t.Helper()
	res, isErr, text := call(t, s, tool, args)
	if !isErr {
		t.Fatalf("%s(%s): want isError, got %s", tool, jsonText(args), text)
	}
	if res["status"] != "error" {
		t.Errorf("%s(%s): status %v, want error", tool, jsonText(args), res["status"])
	}
	msg, _ := res["error"].(string)
	if msg == "" {
		t.Fatalf("%s(%s): no error message: %s", tool, jsonText(args), text)
	}
	for _, w := range want {
		if !strings.Contains(msg, w) {
			t.Errorf("%s(%s): error %q does not contain %q", tool, jsonText(args), msg, w)
		}
	}
	return res
}

// checkFor calls f every `every` until it returns nil, failing the test with
// f's last error when total has passed.
func checkFor(t *testing.T, total, every time.Duration, f func() error) {
	t.Helper()
	deadline := time.Now().Add(total)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %v", total, err)
		}
		time.Sleep(every)
	}
}

// ---- Reading results ---------------------------------------------------------

// dig walks v by object keys (string) and array indexes (int).
func jdig(v any, path ...any) (any, error) {
	for i, p := range path {
		switch p := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("%v: not an object", path[:i])
			}
			if v, ok = m[p]; !ok {
				return nil, fmt.Errorf("%v: no key %q", path[:i+1], p)
			}
		case int:
			a, ok := v.([]any)
			if !ok || p >= len(a) {
				return nil, fmt.Errorf("%v: not an array of more than %d items", path[:i], p)
			}
			v = a[p]
		}
	}
	return v, nil
}

func jget[T any](t *testing.T, v any, path ...any) T {
	t.Helper()
	x, err := jdig(v, path...)
	if err != nil {
		t.Fatalf("%v in %s", err, jsonText(v))
	}
	out, ok := x.(T)
	if !ok {
		var zero T
		t.Fatalf("%v is %T (%s), want %T, in %s", path, x, jsonText(x), zero, jsonText(v))
	}
	return out
}

func jnum(t *testing.T, v any, path ...any) float64 {
	t.Helper()
	return jget[float64](t, v, path...)
}

func jstr(t *testing.T, v any, path ...any) string {
	t.Helper()
	return jget[string](t, v, path...)
}

func jarr(t *testing.T, v any, path ...any) []any {
	t.Helper()
	return jget[[]any](t, v, path...)
}

func jobj(t *testing.T, v any, path ...any) map[string]any {
	t.Helper()
	return jget[map[string]any](t, v, path...)
}

func jstrs(t *testing.T, v any, path ...any) []string {
	t.Helper()
	var out []string
	for i := range jarr(t, v, path...) {
		out = append(out, jstr(t, v, append(slices.Clone(path), i)...))
	}
	return out
}

func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// The stdout check itself.
func TestCheckJSONRPC(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		line string
		ok   bool
	}{
		{`{"jsonrpc":"2.0","id":1,"result":{}}`, true},
		{`{"jsonrpc":"2.0","id":"a","error":{"code":-32601,"message":"no"}}`, true},
		{`{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"parse error"}}`, true},
		{`{"jsonrpc":"2.0","method":"notifications/tools/list_changed"}`, true},
		{`{"jsonrpc":"2.0","id":3,"method":"ping","params":{}}`, true},
		{`metamcp starting`, false},
		{``, false},
		{`[{"jsonrpc":"2.0","id":1,"result":{}}]`, false},
		{`{"jsonrpc":"1.0","id":1,"result":{}}`, false},
		{`{"id":1,"result":{}}`, false},
		{`{"jsonrpc":"2.0","id":1}`, false},
		{`{"jsonrpc":"2.0","id":1,"result":{},"error":{"code":1,"message":"x"}}`, false},
		{`{"jsonrpc":"2.0","id":1,"error":{"message":"no code"}}`, false},
		{`{"jsonrpc":"2.0","id":{},"result":{}}`, false},
		{`{"jsonrpc":"2.0","method":""}`, false},
		{`{"jsonrpc":"2.0","method":"x","params":3}`, false},
		{`{"jsonrpc":"2.0","id":1,"result":{},"extra":1}`, false},
	} {
		if err := checkJSONRPC([]byte(tc.line)); (err == nil) != tc.ok {
			t.Errorf("checkJSONRPC(%s) = %v, want ok %v", tc.line, err, tc.ok)
		}
	}
}
