package main

import (
	"fmt"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/metamcp/metamcp/actors"
)

// psCmd lists the servers of a running instance as a table.
func psCmd() *cobra.Command {
	var f ctlFlags
	cmd := &cobra.Command{
		Use:   "ps",
		Short: "List the servers of a running metamcp",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := f.dial()
			if err != nil {
				return err
			}
			defer c.Close()
			ctx, cancel := ctlContext(cmd)
			defer cancel()
			servers, err := c.Servers(ctx)
			if err != nil {
				return err
			}
			if f.json {
				if servers == nil {
					servers = []actors.ServerInfo{}
				}
				return printJSON(cmd.OutOrStdout(), map[string]any{"servers": servers})
			}
			return psTable(cmd, servers)
		},
	}
	f.add(cmd, true)
	return cmd
}

func psTable(cmd *cobra.Command, servers []actors.ServerInfo) error {
	tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tTEMPLATE\tSTATE\tPID\tRESTARTS\tUPTIME\tRSS\tIN-FLIGHT\tLAST EXIT")
	for _, s := range servers {
		pid, up := "-", "-"
		if s.PID > 0 {
			pid, up = strconv.Itoa(s.PID), shortDur(time.Duration(s.UptimeSeconds*float64(time.Second)))
		}
		exit := "-"
		if s.LastExit != nil {
			exit = s.LastExit.String()
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\t%d\t%s\n", s.ServerID, s.Name, s.Template, s.Status,
			pid, s.Restarts, up, rss(s.RSSMB), s.InFlight, exit)
	}
	return tw.Flush()
}
