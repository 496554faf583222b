package config_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/metamcp/metamcp/config"
)

func ExampleLoad() {
	dir, _ := os.MkdirTemp("", "metamcp-example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "claude_desktop_config.json")
	_ = os.WriteFile(path, []byte(`{
	  "globalShortcut": "Ctrl+Space",
	  "mcpServers": {
	    "filesystem": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-filesystem"]},
	    "metamcp": {"command": "metamcp", "args": ["serve"]}
	  },
	  "max_concurrent_servers": 20
	}`), 0o644)

	env := map[string]string{"MCP_LOG_LEVEL": "debug"}
	cfg, err := config.Load(config.Options{
		File:   path,
		Flags:  map[string]string{"max_concurrent_servers": "5"},
		Getenv: func(k string) string { return env[k] },
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(cfg.MaxConcurrentServers, cfg.LogLevel, cfg.DefaultTimeout())
	for _, t := range cfg.Templates {
		fmt.Println("template:", t.Name, t.Command, t.Args)
	}
	fmt.Println("skipped:", cfg.Skipped)
	// Output:
	// 5 DEBUG 30s
	// template: filesystem npx [-y @modelcontextprotocol/server-filesystem]
	// skipped: [metamcp]
}

func ExampleLoad_error() {
	env := map[string]string{"MCP_MAX_SERVERS": "abc"}
	_, err := config.Load(config.Options{Getenv: func(k string) string { return env[k] }})
	fmt.Println(err)
	// Output:
	// environment MCP_MAX_SERVERS: must be a whole number, got "abc"
}
