package main

import (
	"github.com/spf13/cobra"

	"github.com/metamcp/metamcp/actors/child"
)

// shimCmd is the process metamcp puts between itself and each child on
// Linux and macOS when process_shim is on, so that no descendant survives
// metamcp (see actors/child).
func shimCmd() *cobra.Command {
	return &cobra.Command{
		Use:                "shim --ppid PID -- CMD [ARGS...]",
		Hidden:             true,
		DisableFlagParsing: true,
		Run:                func(_ *cobra.Command, args []string) { child.RunShim(args) },
	}
}
