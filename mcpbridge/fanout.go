package mcpbridge

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/metamcp/metamcp/actors"
)

// each runs f(i) for i in [0,n) concurrently and waits for all.
func each(n int, f func(i int)) {
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f(i)
		}()
	}
	wg.Wait()
}

func (b *Bridge) servers() ([]actors.ServerInfo, error) {
	res, err := b.sys.Ask(&actors.ListServers{}, askTimeout)
	if err != nil {
		return nil, err
	}
	return res.(*actors.ServerList).Servers, nil
}

func (b *Bridge) stopAllServers(_ context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	if _, err := parseArgs(req); err != nil {
		return failure(err, nil), nil
	}
	list, err := b.servers()
	if err != nil {
		return failure(err, nil), nil
	}
	errs := make([]error, len(list))
	each(len(list), func(i int) {
		_, errs[i] = b.sys.Ask(&actors.StopServer{ServerID: list[i].ServerID}, askTimeout)
	})
	stopped, failed := []string{}, []map[string]string{}
	for i, s := range list {
		if errs[i] != nil {
			failed = append(failed, map[string]string{"server_id": s.ServerID, "error": errs[i].Error()})
		} else {
			stopped = append(stopped, s.ServerID)
		}
	}
	return success(map[string]any{"stopped": stopped, "errors": failed,
		"total_stopped": len(stopped), "total_errors": len(failed)}), nil
}

// healthCheckAll checks every server at once. A running server whose child
// answered a call or a ping within actors.RecentExchange is reported from
// that answer; the others are pinged, in parallel (all of them with
// ping_all).
func (b *Bridge) healthCheckAll(_ context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	a, err := parseArgs(req, "ping_all")
	if err != nil {
		return failure(err, nil), nil
	}
	pingAll, err := a.boolean("ping_all", false)
	if err != nil {
		return failure(err, nil), nil
	}
	recent := actors.RecentExchange
	if pingAll {
		recent = 0
	}
	list, err := b.servers()
	if err != nil {
		return failure(err, nil), nil
	}
	out := make([]*actors.Health, len(list))
	each(len(list), func(i int) {
		res, err := b.sys.Ask(&actors.HealthCheck{ServerID: list[i].ServerID, Recent: recent}, askTimeout)
		if err != nil {
			out[i] = &actors.Health{ServerID: list[i].ServerID, Status: list[i].Status, Error: err.Error()}
			return
		}
		out[i] = res.(*actors.Health)
	})
	healthy := 0
	for _, h := range out {
		if h.Healthy {
			healthy++
		}
	}
	return success(map[string]any{"total_servers": len(out), "healthy": healthy, "unhealthy": len(out) - healthy,
		"max_servers": b.sys.Config().MaxConcurrentServers, "servers": out}), nil
}

type spawned struct {
	Capability string   `json:"capability"`
	ServerID   string   `json:"server_id"`
	Template   string   `json:"template"`
	Tools      []string `json:"tools"`
	Reused     bool     `json:"reused"`
}

type unmatched struct {
	Capability string `json:"capability"`
	Template   string `json:"template,omitempty"`
	Reason     string `json:"reason"`
}

func (b *Bridge) orchestrateTask(_ context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	a, err := parseArgs(req, "task_description", "required_capabilities")
	if err != nil {
		return failure(err, nil), nil
	}
	desc, err := a.str("task_description", true)
	if err != nil {
		return failure(err, nil), nil
	}
	caps, err := a.stringList("required_capabilities")
	if err != nil {
		return failure(err, nil), nil
	}
	caps = dedupe(caps)
	if len(caps) == 0 {
		return failure(fmt.Errorf("argument \"required_capabilities\" must name at least one capability; known: %s",
			strings.Join(b.sys.Catalog().Capabilities(), ", ")), nil), nil
	}
	got, missing := b.acquireAll(caps)
	status, msg := "servers_ready", fmt.Sprintf("%d of %d capabilities have a server ready.", len(got), len(caps))
	if len(got) == 0 {
		status = "no_servers"
	} else if len(missing) > 0 {
		status = "partial"
	}
	return success(map[string]any{"task_id": newTaskID(), "description": desc, "spawned_servers": got,
		"capabilities": caps, "unmatched": missing, "status": status, "message": msg}), nil
}

// acquireAll gets one pooled server per capability, concurrently.
func (b *Bridge) acquireAll(caps []string) ([]spawned, []unmatched) {
	got := make([]*spawned, len(caps))
	miss := make([]*unmatched, len(caps))
	known := strings.Join(b.sys.Catalog().Capabilities(), ", ")
	each(len(caps), func(i int) {
		t, ok := b.sys.Catalog().ForCapability(caps[i])
		if !ok {
			miss[i] = &unmatched{Capability: caps[i], Reason: "no template provides it; known capabilities: " + known}
			return
		}
		res, err := b.sys.Ask(&actors.AcquirePooled{Template: t.Name}, b.createTimeout()+time.Second)
		if err != nil {
			miss[i] = &unmatched{Capability: caps[i], Template: t.Name, Reason: "could not start: " + err.Error()}
			return
		}
		pa := res.(*actors.PoolAcquired)
		got[i] = &spawned{Capability: caps[i], ServerID: pa.Server.ServerID, Template: t.Name, Tools: pa.Tools, Reused: pa.Reused}
	})
	outGot, outMiss := []spawned{}, []unmatched{}
	for i := range caps {
		if got[i] != nil {
			outGot = append(outGot, *got[i])
		}
		if miss[i] != nil {
			outMiss = append(outMiss, *miss[i])
		}
	}
	return outGot, outMiss
}

func dedupe(in []string) []string {
	seen := map[string]bool{}
	out := []string{}
	for _, s := range in {
		s = strings.TrimSpace(s)
		if s != "" && !seen[strings.ToLower(s)] {
			seen[strings.ToLower(s)] = true
			out = append(out, s)
		}
	}
	return out
}

func newTaskID() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return "task_" + hex.EncodeToString(b[:])
}
