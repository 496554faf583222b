//go:build linux

package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"
)

// procs tracks every process the harness starts, so that cleanup (normal
// or on a signal) can end them all.
type procs struct {
	mu   sync.Mutex
	cmds []*exec.Cmd
	seen []int // pids of grandchildren (metamcp's children) seen in replies
}

var tracked = &procs{}

func (p *procs) add(c *exec.Cmd) {
	p.mu.Lock()
	p.cmds = append(p.cmds, c)
	p.mu.Unlock()
}

func (p *procs) saw(pid int) {
	p.mu.Lock()
	p.seen = append(p.seen, pid)
	p.mu.Unlock()
}

// killAll SIGKILLs the process group of every started process still alive.
func (p *procs) killAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.cmds {
		if c.Process != nil && c.ProcessState == nil {
			_ = syscall.Kill(-c.Process.Pid, syscall.SIGKILL)
		}
	}
}

// leftovers lists the pids of metamcp children seen that still exist.
func (p *procs) leftovers() []int {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []int
	for _, pid := range p.seen {
		if alive(pid) {
			out = append(out, pid)
		}
	}
	return out
}

// alive is true for a running (not zombie) process.
func alive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	s := string(b)
	if i := strings.LastIndexByte(s, ')'); i > 0 && len(s) > i+2 {
		return s[i+2] != 'Z'
	}
	return true
}

// command builds a process in its own group that dies with the harness.
func command(name string, args ...string) *exec.Cmd {
	c := exec.Command(name, args...)
	c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	return c
}

// peer is an mcp-go stdio client connected to a process the harness owns.
type peer struct {
	c   *client.Client
	cmd *exec.Cmd
}

// connect starts bin with args and initializes an mcp-go client on it,
// speaking the newest protocol (mcp-go's default).
func connect(ctx context.Context, bin string, args ...string) (*peer, error) {
	return connectWith(ctx, nil, "", bin, args...)
}

// connectEnv is connect with env added to the process's environment.
func connectEnv(ctx context.Context, env []string, bin string, args ...string) (*peer, error) {
	return connectWith(ctx, env, "", bin, args...)
}

// connectWith is connectEnv speaking protocol version proto ("": the
// newest, mcp-go's default). An older version is pinned with mcp-go's
// client.WithProtocolVersion, which keeps the client on the initialize
// handshake and off the per-request _meta of 2026-07-28. It fails unless
// the version in effect is the one asked for, so that rows labelled with a
// version compare like with like.
func connectWith(ctx context.Context, env []string, proto string, bin string, args ...string) (*peer, error) {
	p := &peer{}
	tr := transport.NewStdioWithOptions(bin, env, args, transport.WithCommandFunc(
		func(_ context.Context, command_ string, env, args []string) (*exec.Cmd, error) {
			c := command(command_, args...)
			c.Env = append(os.Environ(), env...)
			p.cmd = c
			tracked.add(c)
			return c, nil
		}))
	want := proto
	if want == "" {
		want = mcp.LATEST_PROTOCOL_VERSION
	}
	p.c = client.NewClient(tr, client.WithProtocolVersion(want))
	if err := p.c.Start(ctx); err != nil {
		return nil, fmt.Errorf("starting %s: %w", bin, err)
	}
	init := mcp.InitializeRequest{}
	init.Params.ProtocolVersion = want
	init.Params.ClientInfo = mcp.Implementation{Name: "metamcp-bench", Version: "0"}
	if _, err := p.c.Initialize(ctx, init); err != nil {
		_ = p.c.Close()
		return nil, fmt.Errorf("initialize %s: %w", bin, err)
	}
	if got := p.c.ProtocolVersion(); got != want {
		_ = p.c.Close()
		return nil, fmt.Errorf("%s speaks protocol %s, not %s", bin, got, want)
	}
	return p, nil
}

func (p *peer) pid() int { return p.cmd.Process.Pid }

// close closes stdin and waits for the process to exit (mcp-go escalates
// to SIGTERM and SIGKILL after its grace period).
func (p *peer) close() error { return p.c.Close() }

// call calls a tool and returns its structured result, or an error when the
// call failed or the tool reported an error.
func (p *peer) call(ctx context.Context, tool string, args map[string]any) (map[string]any, error) {
	req := mcp.CallToolRequest{}
	req.Params.Name, req.Params.Arguments = tool, args
	res, err := p.c.CallTool(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", tool, err)
	}
	var out map[string]any
	if res.StructuredContent != nil {
		raw, _ := json.Marshal(res.StructuredContent)
		_ = json.Unmarshal(raw, &out)
	}
	if res.IsError {
		return out, fmt.Errorf("%s: tool error: %v", tool, out)
	}
	return out, nil
}

// create calls create_server and records the child's pid.
func (p *peer) create(ctx context.Context, args map[string]any) (id string, pid int, err error) {
	out, err := p.call(ctx, "create_server", args)
	if err != nil {
		return "", 0, err
	}
	id, _ = out["server_id"].(string)
	f, _ := out["pid"].(float64)
	tracked.saw(int(f))
	return id, int(f), nil
}

// writeConfig writes a config file for metamcp serve into dir.
func writeConfig(dir string, extra map[string]any) (string, error) {
	cfg := map[string]any{"temp_directory": dir + "/tmp", "state_directory": dir + "/state", "log_level": "WARN",
		"log_file": dir + "/metamcp.log"}
	for k, v := range extra {
		cfg[k] = v
	}
	raw, _ := json.Marshal(cfg)
	path := dir + "/meta_mcp_config.json"
	return path, os.WriteFile(path, raw, 0o600)
}

// coldStart starts metamcp serve, writes initialize by hand and times
// until the first line of the answer arrives; then it closes stdin and
// waits for the exit.
func coldStart(bin, cfg string) (time.Duration, error) {
	return coldStartArgs(bin, "serve", "--config", cfg)
}

// coldStartArgs times exec → initialize answered for any MCP stdio command.
func coldStartArgs(bin string, args ...string) (time.Duration, error) {
	c := command(bin, args...)
	in, err := c.StdinPipe()
	if err != nil {
		return 0, err
	}
	out, err := c.StdoutPipe()
	if err != nil {
		return 0, err
	}
	c.Stderr = io.Discard
	msg := `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"bench","version":"0"}}}` + "\n"
	t0 := time.Now()
	if err := c.Start(); err != nil {
		return 0, err
	}
	tracked.add(c)
	_, _ = io.WriteString(in, msg)
	line, err := bufio.NewReader(out).ReadString('\n')
	d := time.Since(t0)
	_ = in.Close()
	werr := waitFor(c, 10*time.Second)
	if err != nil {
		return 0, fmt.Errorf("reading initialize answer: %w", err)
	}
	if !strings.Contains(line, `"result"`) {
		return 0, fmt.Errorf("initialize answered %q", line)
	}
	return d, werr
}

// waitFor waits for c to exit, killing its group after timeout.
func waitFor(c *exec.Cmd, timeout time.Duration) error {
	done := make(chan error, 1)
	go func() { done <- c.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(timeout):
		_ = syscall.Kill(-c.Process.Pid, syscall.SIGKILL)
		<-done
		return errors.New("did not exit in time; killed")
	}
}

// rssKB reads VmRSS of pid in KiB.
func rssKB(pid int) int64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmRSS:") {
			f := strings.Fields(l)
			if len(f) >= 2 {
				n, _ := strconv.ParseInt(f[1], 10, 64)
				return n
			}
		}
	}
	return 0
}

// childrenOf lists the pids whose parent is ppid.
func childrenOf(ppid int) []int {
	ents, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(s[i+1:])
		if len(f) > 1 {
			if pp, _ := strconv.Atoi(f[1]); pp == ppid {
				out = append(out, pid)
			}
		}
	}
	return out
}

// cpuTime is the CPU time (user and system, all threads) pid has used so
// far, at the kernel's 10 ms tick.
func cpuTime(pid int) time.Duration {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(s[i+1:]) // f[0] is field 3 (state): utime is field 14, stime 15
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(u+st) * 10 * time.Millisecond // USER_HZ is 100 on Linux
}
