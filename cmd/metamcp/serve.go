package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/rs/zerolog"
	"github.com/spf13/cobra"

	"github.com/metamcp/metamcp/actors"
	"github.com/metamcp/metamcp/config"
	"github.com/metamcp/metamcp/control"
	"github.com/metamcp/metamcp/mcpbridge"
	"github.com/metamcp/metamcp/session"
	"github.com/metamcp/metamcp/templates"
)

// serveFlags maps each serve flag to its config key.
var serveFlags = []struct{ flag, key, usage string }{
	{"log-level", "log_level", "log level: DEBUG, INFO, WARN, ERROR"},
	{"log-file", "log_file", "write logs to this file instead of stderr"},
	{"max-servers", "max_concurrent_servers", "most servers alive at once"},
	{"timeout", "default_timeout_seconds", "default per-call timeout in seconds"},
	{"max-memory", "default_max_memory_mb", "default memory limit per server in MB"},
	{"temp-dir", "temp_directory", "directory for servers' working files"},
	{"allowed-commands", "allowed_commands", "comma-separated commands servers may run"},
	{"start-timeout", "start_timeout_seconds", "seconds a server has to answer initialize"},
	{"pool-idle-ttl", "pool_idle_ttl_seconds", "seconds before an idle pooled server is stopped"},
	{"session", "session", "name of the session whose state (events, servers) this instance uses (default \"default\")"},
	{"state-dir", "state_directory", "directory of the sessions' state"},
	{"mode", "mode", "what the client is offered: meta (the meta tools), gateway (the servers' own tools, resources and prompts) or both (default \"both\")"},
}

func serveCmd() *cobra.Command {
	var file, controlAddr string
	var noRestore bool
	values := make([]string, len(serveFlags))
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the MCP server on stdio (what Claude Desktop starts)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			flags := map[string]string{}
			for i, f := range serveFlags {
				if cmd.Flags().Changed(f.flag) {
					flags[f.key] = values[i]
				}
			}
			if noRestore {
				flags["restore_servers"] = "false"
			}
			cfg, err := config.Load(config.Options{File: file, Flags: flags})
			if err != nil {
				return err
			}
			return serve(cmd.Context(), cfg, controlAddr)
		},
	}
	cmd.Flags().StringVar(&file, "config", "", "config file (default: $MCP_CONFIG_FILE, then the user config dir's metamcp/meta_mcp_config.json)")
	for i, f := range serveFlags {
		cmd.Flags().StringVar(&values[i], f.flag, "", f.usage)
	}
	cmd.Flags().BoolVar(&noRestore, "no-restore", false,
		"do not start again the servers the session's last run had (and forget them)")
	cmd.Flags().StringVar(&controlAddr, "control-addr", "",
		"also serve the control API on this loopback address (127.0.0.1:PORT); the Unix socket is always on")
	return cmd
}

func serve(ctx context.Context, cfg *config.Config, controlAddr string) error {
	gcOn := pauseGC(deferStartup) // until initialize is answered: see pauseGC
	defer gcOn()
	out, err := claimStdout()
	if err != nil {
		return err
	}
	log, closer, err := newLogger(cfg.LogLevel, cfg.LogFile)
	if err != nil {
		return err
	}
	if closer != nil {
		defer closer.Close()
	}
	defer startProfile(log)()
	// Libraries that log through slog (mcp-go's client transport) go to zerolog too.
	slog.SetDefault(slog.New(zerolog.NewSlogHandler(log.With().Str("lib", "slog").Logger())))
	catalog, err := templates.NewCatalog(cfg.Templates)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(cfg.TempDirectory, 0o700); err != nil {
		return err
	}
	starting, err := startList(cfg, catalog)
	if err != nil {
		return err
	}
	if controlAddr != "" { // refuse a bad address before anything starts
		if err := control.CheckAddr(controlAddr); err != nil {
			return err
		}
	}
	metrics := control.NewMetrics()
	// The guardian and the orphan sweep wait until initialize is answered
	// (below), so that they do not compete with it for the CPU; no child
	// starts before the guardian does (docs/supervision.md).
	showMeta, showChildren := cfg.Mode != config.ModeGateway, cfg.Mode != config.ModeMeta
	showTools := showChildren && cfg.ExposeTools
	var childCaps json.RawMessage
	if showChildren { // the gateway forwards these to the client (docs/gateway.md)
		childCaps = json.RawMessage(`{"roots":{"listChanged":true},"sampling":{},"elicitation":{}}`)
	}
	sys, err := actors.Start(actors.Options{Config: cfg, Catalog: catalog, Log: log, OnEvent: metrics.Observe,
		DeferStartup: deferStartup, ChildCapabilities: childCaps})
	if err != nil {
		return err
	}
	ctl, err := startControl(sys, metrics, log, controlAddr)
	if err != nil {
		_ = sys.Shutdown()
		return err
	}
	log.Info().Str("version", version).Str("config", cfg.Source).Strs("skipped", cfg.Skipped).
		Int("templates", len(catalog.Names())).Msg("metamcp serving on stdio")

	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	bridge := mcpbridge.NewWith(sys, version, log, mcpbridge.Options{NoMetaTools: !showMeta, Gateway: showChildren,
		GatewayTools: showTools})
	if ctl != nil {
		bridge.OnInitialize(ctl.SetClient)
	}
	bridge.OnInitialize(func(string, string) { go func() { gcOn(); sys.StartBackground() }() })
	started := startServers(sys, starting, log)
	defer started()
	sess := session.New(session.Options{System: sys, Meta: bridge.MCPServer(), ShowMeta: showMeta,
		ShowChildren: showChildren, ShowChildTools: showTools, Log: log})
	serveErr := sess.Serve(ctx, os.Stdin, out)

	t0 := time.Now()
	if ctl != nil {
		if err := ctl.Close(); err != nil {
			log.Warn().Err(err).Msg("closing the control endpoint")
		}
	}
	shutErr := sys.Shutdown()
	log.Info().Dur("took", time.Since(t0)).Msg("all servers stopped; exiting")
	if serveErr != nil && ctx.Err() == nil {
		return serveErr
	}
	return shutErr
}

// deferStartup is the latest the guardian and the orphan sweep start after
// actors.Start when no client has initialized by then.
const deferStartup = 200 * time.Millisecond

// startControl opens the control endpoint. Without --control-addr a failure
// is logged and metamcp serves on without it: the MCP client comes first.
func startControl(sys *actors.System, m *control.Metrics, log zerolog.Logger, addr string) (*control.Server, error) {
	ctl, err := control.Start(control.Options{System: sys, Metrics: m, Log: log, Version: version, Addr: addr})
	if err != nil && addr == "" {
		log.Error().Err(err).Msg("no control endpoint: metamcp tree and friends cannot reach this instance")
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	log.Info().Str("socket", ctl.Record().Socket).Str("addr", ctl.Record().ControlAddr).Msg("control endpoint open")
	return ctl, nil
}
