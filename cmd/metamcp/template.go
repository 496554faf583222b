package main

import (
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/metamcp/metamcp/templates"
)

// templateCmd runs a built-in template as an MCP server on stdio. metamcp
// starts its children this way, each in its own process.
func templateCmd() *cobra.Command {
	t := &cobra.Command{Use: "template", Short: "Built-in templates", Hidden: true}
	var opts templates.Options
	run := &cobra.Command{
		Use:   "run NAME",
		Short: "Run a built-in template as an MCP server on stdio",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return templates.Serve(ctx, args[0], opts, os.Stdin, os.Stdout)
		},
	}
	run.Flags().StringVar(&opts.BaseDir, "base-dir", "", "base directory of file_handler_template")
	run.Flags().DurationVar(&opts.HTTPTimeout, "http-timeout", 30*time.Second, "timeout of HTTP requests")
	run.Flags().Int64Var(&opts.MaxBodyBytes, "max-body-bytes", 5<<20, "largest HTTP body read")
	t.AddCommand(run)
	return t
}
