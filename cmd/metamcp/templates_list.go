package main

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/metamcp/metamcp/templates"
)

// templatesCmd lists the templates a running instance can start.
func templatesCmd() *cobra.Command {
	var f ctlFlags
	cmd := &cobra.Command{
		Use:   "templates",
		Short: "List the templates of a running metamcp (built-in and configured) and their capabilities",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := f.dial()
			if err != nil {
				return err
			}
			defer c.Close()
			ctx, cancel := ctlContext(cmd)
			defer cancel()
			var res struct {
				Templates []templates.Template `json:"templates"`
			}
			if err := c.Get(ctx, "/v1/templates", &res); err != nil {
				return err
			}
			if f.json {
				return printJSON(cmd.OutOrStdout(), res)
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tKIND\tCAPABILITIES\tDESCRIPTION")
			for _, t := range res.Templates {
				kind := "configured"
				if t.Builtin {
					kind = "built-in"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", t.Name, kind, strings.Join(t.Capabilities, ","), t.Description)
			}
			return tw.Flush()
		},
	}
	f.add(cmd, true)
	return cmd
}
