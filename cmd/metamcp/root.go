package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/metamcp/metamcp/actors/child"
	"github.com/metamcp/metamcp/templates"
)

// version is set at build time: -ldflags "-X main.version=v1.2.3".
var version = "dev"

// buildStamp is set by make build to the same value in metamcp and
// metamcp-templates: metamcp trusts a metamcp-templates next to it only
// when it comes from the same build (actors: sameBuild reads it from the
// build information's linker flags).
var buildStamp = ""

func run(args []string) error {
	child.ClientVersion, templates.Version = version, version
	root := &cobra.Command{
		Use:           "metamcp",
		Short:         "An MCP server that starts, supervises and pools other MCP servers",
		Version:       version,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(serveCmd(), templateCmd(), demoCmd(), versionCmd(), shimCmd(), guardCmd(),
		treeCmd(), psCmd(), eventsCmd(), restartCmd(), stopCmd(), templatesCmd())
	root.SetArgs(args)
	return root.Execute()
}

func versionCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if asJSON {
				return printJSON(cmd.OutOrStdout(), map[string]string{"version": version})
			}
			_, err := fmt.Fprintln(cmd.OutOrStdout(), "metamcp "+version) // cmd.Println would go to stderr
			return err
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}
