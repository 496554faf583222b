package main

import (
	"github.com/spf13/cobra"

	"github.com/metamcp/metamcp/actors/child"
)

// guardCmd is the one process per instance that kills what metamcp leaves
// behind if it dies (see actors/child/guard_linux.go).
func guardCmd() *cobra.Command {
	return &cobra.Command{
		Use:                "guard --owner PID:START",
		Hidden:             true,
		DisableFlagParsing: true,
		Run:                func(_ *cobra.Command, args []string) { child.RunGuardian(args) },
	}
}
