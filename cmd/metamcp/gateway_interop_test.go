//go:build unix

package main

// Gateway mode against software we did not write: the official TypeScript
// SDK client (testdata/interop/gateway_client.mjs), which declares sampling,
// elicitation and roots and answers them, drives `metamcp serve` with
// server-everything as a child, through the children's gateway names.
// Guarded like interop_test.go: skipped without the npm packages, unless
// METAMCP_INTEROP=1.

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

func TestGatewayInterop(t *testing.T) {
	deps := interopDeps(t)
	bin := interopBinary(t)
	// all: echo, progress under the client's tokens, sampling, elicitation,
	// roots and logging round trips. no-sampling: the sampling tool fails
	// saying the client did not declare it; the session goes on.
	for _, caps := range []string{"all", "no-sampling"} {
		t.Run(caps, func(t *testing.T) {
			t.Parallel()
			interopGatewayClient(t, bin, deps, caps)
		})
	}
}

func interopGatewayClient(t *testing.T, bin, deps, caps string) {
	cfg := interopWriteConfig(t, map[string]any{
		"templates": map[string]any{"everything": map[string]any{
			"command": "node", "args": []string{interopEntry(t, deps, "server-everything"), "stdio"},
			"capabilities": []string{"mcp_reference"},
		}},
	})
	out := interopRunNode(t, deps, []string{"METAMCP_BIN=" + bin, "CONFIG=" + cfg, "CAPS=" + caps},
		filepath.Join(deps, "gateway_client.mjs"))
	var sum struct {
		OK              bool           `json:"ok"`
		Caps            string         `json:"caps"`
		MetamcpPID      int            `json:"metamcp_pid"`
		ChildPIDs       []int          `json:"child_pids"`
		GatewayTools    int            `json:"gateway_tools"`
		SamplingRefusal string         `json:"sampling_refusal"`
		Steps           map[string]int `json:"steps_ms"`
		ProgressTokens  []any          `json:"progress_tokens"`
		TotalMS         int            `json:"total_ms"`
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &sum); err != nil {
		t.Fatalf("gateway_client.mjs summary is not JSON: %v\n%s", err, out)
	}
	if !sum.OK || sum.Caps != caps || len(sum.ChildPIDs) != 1 || sum.GatewayTools == 0 {
		t.Fatalf("gateway_client.mjs summary: %s", out)
	}
	if caps == "no-sampling" && !strings.Contains(sum.SamplingRefusal, "did not declare") {
		t.Errorf("sampling without the capability: %q", sum.SamplingRefusal)
	}
	t.Logf("TypeScript SDK client (%s): %d gateway tools of server-everything, progress tokens %v, steps (ms) %v, %d ms in all",
		caps, sum.GatewayTools, sum.ProgressTokens, sum.Steps, sum.TotalMS)
	interopCheckGone(t, append([]int{sum.MetamcpPID}, sum.ChildPIDs...))
}
