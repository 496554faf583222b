package main

import (
	"github.com/spf13/cobra"

	"github.com/metamcp/metamcp/actors/child"
	"github.com/metamcp/metamcp/templates"
)

// version is set at build time: -ldflags "-X main.version=v1.2.3".
var version = "dev"

func run(args []string) error {
	child.ClientVersion, templates.Version = version, version
	root := &cobra.Command{
		Use:           "metamcp",
		Short:         "An MCP server that starts, supervises and pools other MCP servers",
		Version:       version,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(serveCmd(), templateCmd(), demoCmd(), versionCmd(), shimCmd(), guardCmd())
	root.SetArgs(args)
	return root.Execute()
}

func versionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		Run: func(cmd *cobra.Command, _ []string) {
			cmd.Println("metamcp " + version)
		},
	}
}
