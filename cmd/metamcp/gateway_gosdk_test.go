package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
)

// gosdkServer returns a built testdata/gosdk (an MCP server on the official
// Go SDK with odd tool names): $METAMCP_GOSDK as `make test` builds it, or
// built here once.
func gosdkServer(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("METAMCP_GOSDK"); p != "" {
		return p
	}
	gosdkOnce.Do(func() {
		dir, err := os.MkdirTemp("", "metamcp-gosdk-")
		if err != nil {
			gosdkErr = err
			return
		}
		gosdkBin = filepath.Join(dir, "gosdk-odd")
		cmd := exec.Command(goCommand(), "build", "-o", gosdkBin, ".")
		cmd.Dir = filepath.Join("..", "..", "testdata", "gosdk")
		if out, err := cmd.CombinedOutput(); err != nil {
			gosdkErr = err
			gosdkBin = string(out)
		}
	})
	if gosdkErr != nil {
		t.Fatalf("building testdata/gosdk: %v: %s", gosdkErr, gosdkBin)
	}
	return gosdkBin
}

var (
	gosdkOnce sync.Once
	gosdkBin  string
	gosdkErr  error
)

// Tools with a space, dots and 100 characters in their names, on servers
// whose names have dots, two of the same name: every gateway name is valid
// for clients, distinct, and routes to the tool the child named.
func TestGatewayGoSDKOddNames(t *testing.T) {
	t.Parallel()
	bin := gosdkServer(t)
	s := startServe(t, serveOpts{Config: map[string]any{
		"allowed_commands": []string{"metamcp", bin},
		"templates":        map[string]any{"odd": map[string]any{"command": bin}},
	}})
	first := jstr(t, mustOK(t, s, "create_server", map[string]any{"name": "my.odd", "template": "odd"}), "server_id")
	second := jstr(t, mustOK(t, s, "create_server", map[string]any{"name": "my.odd", "template": "odd"}), "server_id")
	seen := map[string]string{}
	for _, id := range []string{first, second} {
		names := jobj(t, mustOK(t, s, "get_server_capabilities", map[string]any{"server_id": id}), "gateway_tools")
		if len(names) != 4 {
			t.Fatalf("%s: gateway_tools %v, want the 4 tools", id, names)
		}
		for tool, exposed := range names {
			name := exposed.(string)
			if !clientName.MatchString(name) || seen[name] != "" {
				t.Errorf("%s's %q is exposed as %q: invalid, or taken by %s", id, tool, name, seen[name])
			}
			seen[name] = id
			checkOddCall(t, s, name, tool)
		}
	}
	listed := listTools(t, s)
	for name := range seen {
		if _, ok := listed[name]; !ok {
			t.Errorf("%s is not in tools/list", name)
		}
	}
	if _, ok := listed["my_odd__get_weather"]; !ok {
		t.Errorf("the first my.odd's tools keep their plain names: %v", keys(listed))
	}
}

var hashed = regexp.MustCompile(`_[0-9a-f]{8}$`)

// checkOddCall calls a gateway name and checks that the child's own tool
// answered.
func checkOddCall(t *testing.T, s *mcpServe, exposed, tool string) {
	t.Helper()
	if len(tool) > 60 && (len(exposed) != 64 || !hashed.MatchString(exposed)) {
		t.Errorf("%q (%d chars) is exposed as %q: want 64 characters ending in a hash", tool, len(tool), exposed)
	}
	_, isErr, text := callText(t, s, exposed, map[string]any{"q": "x"})
	var got struct {
		Tool      string         `json:"tool"`
		Arguments map[string]any `json:"arguments"`
	}
	if isErr || json.Unmarshal([]byte(text), &got) != nil || got.Tool != tool || got.Arguments["q"] != "x" {
		t.Errorf("%s answered %s (isError %v), want the child's %q with q=x", exposed, text, isErr, tool)
	}
	if strings.Contains(exposed, " ") || strings.Contains(exposed, ".") {
		t.Errorf("%q kept a character clients refuse", exposed)
	}
}
