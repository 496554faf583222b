package control

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/metamcp/metamcp/actors"
	"github.com/metamcp/metamcp/config"
	"github.com/metamcp/metamcp/templates"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// fakeSystem answers like the actor system, from fixed data.
type fakeSystem struct {
	cfg     *config.Config
	catalog *templates.Catalog
}

func newFake(t *testing.T) *fakeSystem {
	cfg := config.Defaults()
	cfg.Source = "/etc/metamcp.json"
	cat, err := templates.NewCatalog(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &fakeSystem{cfg: &cfg, catalog: cat}
}

func (f *fakeSystem) Ask(msg actors.Message, _ time.Duration) (any, error) {
	switch m := msg.(type) {
	case *actors.ListServers:
		rss := 12.5
		return &actors.ServerList{Servers: []actors.ServerInfo{{ServerID: "srv_1", Name: "calc", Template: "basic_calculator",
			Status: actors.StateRunning, PID: 42, RSSMB: &rss}}}, nil
	case *actors.DescribeTree:
		return &actors.TreeNode{Name: "root", Kind: "supervisor", State: "running"}, nil
	case *actors.QueryEvents:
		evs := []actors.Event{}
		for id := m.AfterID + 1; id <= 3; id++ {
			evs = append(evs, actors.Event{ID: id, Event: actors.EventServerCreated})
		}
		return &actors.EventPage{Events: evs, Total: 3}, nil
	case *actors.StopServer, *actors.RestartServer:
		return nil, actors.ErrUnknownServer
	}
	return nil, errors.New("unexpected")
}
func (f *fakeSystem) Catalog() *templates.Catalog { return f.catalog }
func (f *fakeSystem) Config() *config.Config      { return f.cfg }

// shortDir is a private temporary directory with a short path (sockets).
func shortDir(t *testing.T) string {
	d, err := os.MkdirTemp("", "mcc")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return filepath.Join(d, "metamcp")
}

func TestRuntimeDir(t *testing.T) {
	t.Setenv("XDG_RUNTIME_DIR", "/run/user/7")
	if d, _ := RuntimeDir(); d != "/run/user/7/metamcp" {
		t.Errorf("with XDG_RUNTIME_DIR: %s", d)
	}
	t.Setenv("XDG_RUNTIME_DIR", "relative")
	t.Setenv("XDG_CACHE_HOME", "/cache")
	t.Setenv("HOME", "/home/u")
	if d, _ := RuntimeDir(); d != filepath.Join(must(os.UserCacheDir()), "metamcp", "run") {
		t.Errorf("with a relative XDG_RUNTIME_DIR: %s", d)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestEnsureDirRefusesOpenDir(t *testing.T) {
	dir := shortDir(t)
	if err := ensureDir(dir); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(dir); fi.Mode().Perm() != 0o700 {
		t.Errorf("mode %v", fi.Mode().Perm())
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := ensureDir(dir); !errors.Is(err, ErrUnsafeDir) || !strings.Contains(err.Error(), "0755") {
		t.Errorf("0755 dir: %v", err)
	}
}

func TestCheckLoopback(t *testing.T) {
	for addr, ok := range map[string]bool{"127.0.0.1:7070": true, "[::1]:0": true, "localhost:1": true,
		"0.0.0.0:7070": false, ":7070": false, "10.0.0.1:80": false, "127.0.0.1": false} {
		if err := checkLoopback(addr); (err == nil) != ok || (err != nil && !errors.Is(err, ErrNotLoopback)) {
			t.Errorf("%q: %v", addr, err)
		}
	}
}

func TestParseSince(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	if got, _ := actors.ParseSince("10m", now); !got.Equal(now.Add(-10 * time.Minute)) {
		t.Errorf("10m: %v", got)
	}
	if got, _ := actors.ParseSince("2026-01-01T00:00:00Z", now); got.Day() != 1 {
		t.Errorf("RFC 3339: %v", got)
	}
	if _, err := actors.ParseSince("yesterday", now); err == nil {
		t.Error("yesterday: no error")
	}
}

// A record whose process is gone, a socket nobody listens on, and a record
// without its socket are removed; a live one is listed.
func TestInstancesCleansStale(t *testing.T) {
	dir := shortDir(t)
	if err := ensureDir(dir); err != nil {
		t.Fatal(err)
	}
	// A dead process: a pid far above pid_max.
	dead := Record{PID: 1 << 30, Socket: socketPath(dir, 1<<30)}
	if err := writeRecord(dir, dead); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dead.Socket, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	// A live pid (ours' parent) whose socket refuses: a closed listener.
	pp := os.Getppid()
	l, err := net.Listen("unix", socketPath(dir, pp))
	if err != nil {
		t.Fatal(err)
	}
	l.(*net.UnixListener).SetUnlinkOnClose(false)
	l.Close()
	if err := writeRecord(dir, Record{PID: pp, Socket: socketPath(dir, pp)}); err != nil {
		t.Fatal(err)
	}
	// A live instance.
	s, err := Start(Options{System: newFake(t), Dir: dir, Version: "v1"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	live, err := instancesIn(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(live) != 1 || live[0].PID != os.Getpid() || live[0].Version != "v1" || live[0].ConfigFile != "/etc/metamcp.json" {
		t.Errorf("live: %+v", live)
	}
	left, _ := filepath.Glob(filepath.Join(dir, "*"))
	if len(left) != 2 {
		t.Errorf("files left: %v, want only the live instance's", left)
	}
}

// The API over the socket, and Close removing everything.
func TestServerAPI(t *testing.T) {
	dir := shortDir(t)
	m := NewMetrics()
	m.Observe(actors.Event{Event: actors.EventToolExecuted, ServerID: "srv_1", Data: map[string]any{"tool": "add", "duration_ms": 2.5}})
	s, err := Start(Options{System: newFake(t), Dir: dir, Metrics: m, Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	s.SetClient("claude-ai", "0.9")
	fi, err := os.Stat(s.Record().Socket)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("socket: %v %v", fi, err)
	}
	c := NewClient(s.Record())
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var inst Record
	if err := c.Get(ctx, "/v1/instance", &inst); err != nil || inst.ClientName != "claude-ai" || inst.ControlAddr == "" {
		t.Errorf("instance: %+v %v", inst, err)
	}
	if tree, err := c.Tree(ctx); err != nil || tree.Name != "root" {
		t.Errorf("tree: %+v %v", tree, err)
	}
	var apiErr *APIError
	if err := c.Post(ctx, "/v1/servers/srv_x/stop", nil); !errors.As(err, &apiErr) || apiErr.Status != 404 {
		t.Errorf("stop unknown: %v", err)
	}
	if err := c.Get(ctx, "/v1/nope", nil); !errors.As(err, &apiErr) || apiErr.Status != 404 {
		t.Errorf("no route: %v", err)
	}
	if err := c.Get(ctx, "/v1/events?since=yesterday", nil); !errors.As(err, &apiErr) || apiErr.Status != 400 {
		t.Errorf("bad since: %v", err)
	}
	body, err := c.Raw(ctx, "/metrics")
	for _, want := range []string{`metamcp_tool_calls_total{server_id="srv_1",tool="add"} 1`, "metamcp_children_live 1",
		`metamcp_child_rss_bytes{name="calc",server_id="srv_1",template="basic_calculator"} 1.31072e+07`} {
		if err != nil || !strings.Contains(string(body), want) {
			t.Errorf("/metrics: no %s (%v)", want, err)
		}
	}
	// A follow stream ends when the server closes.
	var got []uint64
	done := make(chan error, 1)
	go func() {
		done <- c.Follow(context.Background(), map[string][]string{}, func(e actors.Event) error {
			got = append(got, e.ID)
			return nil
		})
	}()
	time.Sleep(200 * time.Millisecond)
	if err := s.Close(); err != nil {
		t.Errorf("close: %v", err)
	}
	select {
	case <-done:
	case <-time.After(3 * time.Second):
		t.Fatal("follow did not end at Close")
	}
	if len(got) != 3 {
		t.Errorf("followed events %v, want 1 2 3 once", got)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "*")); len(left) != 0 {
		t.Errorf("left after Close: %v", left)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second close: %v", err)
	}
}
