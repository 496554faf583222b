package main

import (
	"fmt"
	"net/url"

	"github.com/spf13/cobra"
)

// restartCmd and stopCmd steer one server of a running instance.
func restartCmd() *cobra.Command {
	return steerCmd("restart", "Restart a server of a running metamcp (also one in crash_loop)", "restarted")
}

func stopCmd() *cobra.Command {
	return steerCmd("stop", "Stop and remove a server of a running metamcp", "stopped")
}

func steerCmd(verb, short, done string) *cobra.Command {
	var f ctlFlags
	cmd := &cobra.Command{
		Use:   verb + " SERVER_ID",
		Short: short,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := f.dial()
			if err != nil {
				return err
			}
			defer c.Close()
			ctx, cancel := ctlContext(cmd)
			defer cancel()
			var res map[string]any
			if err := c.Post(ctx, "/v1/servers/"+url.PathEscape(args[0])+"/"+verb, &res); err != nil {
				return err
			}
			if f.json {
				return printJSON(cmd.OutOrStdout(), res)
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "%s %s\n", args[0], done)
			return err
		},
	}
	f.add(cmd, true)
	cmd.ValidArgsFunction = completeServerIDs(&f)
	return cmd
}
