package main

import (
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/metamcp/metamcp/templates"
)

// templateCmd runs a built-in template as an MCP server on stdio. metamcp
// starts its children this way when metamcp-templates, which runs the same
// code and starts faster, is not next to it. The arguments are those of
// metamcp-templates (templates.ParseArgs), so both take one command line.
func templateCmd() *cobra.Command {
	t := &cobra.Command{Use: "template", Short: "Built-in templates", Hidden: true}
	run := &cobra.Command{
		Use:                "run NAME [--base-dir DIR] [--http-timeout DURATION] [--max-body-bytes N]",
		Short:              "Run a built-in template as an MCP server on stdio",
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			name, opts, err := templates.ParseArgs(args)
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return templates.Serve(ctx, name, opts, os.Stdin, os.Stdout)
		},
	}
	t.AddCommand(run)
	return t
}
