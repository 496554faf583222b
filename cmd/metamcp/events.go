package main

import (
	"fmt"
	"io"
	"net/url"
	"os"
	"os/signal"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/metamcp/metamcp/actors"
)

// eventsCmd prints the event history of a running instance and, with
// --follow, each new event as it happens.
func eventsCmd() *cobra.Command {
	var f ctlFlags
	var follow bool
	var server, typ, since string
	var limit int
	cmd := &cobra.Command{
		Use:   "events",
		Short: "Show (and follow) the events of a running metamcp",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			q := url.Values{"limit": {strconv.Itoa(limit)}}
			for k, v := range map[string]string{"server": server, "type": typ, "since": since} {
				if v != "" {
					q.Set(k, v)
				}
			}
			if since != "" { // check it here, for a plain message
				if _, err := actors.ParseSince(since, time.Now()); err != nil {
					return err
				}
			}
			c, err := f.dial()
			if err != nil {
				return err
			}
			defer c.Close()
			out := cmd.OutOrStdout()
			if follow {
				ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
				defer stop()
				var run struct {
					Run uint64 `json:"run"`
				}
				rctx, cancel := ctlContext(cmd)
				err := c.Get(rctx, "/v1/events?limit=1", &run) // which run is this one: earlier ones are marked
				cancel()
				if err != nil {
					return err
				}
				return c.Follow(ctx, q, func(e actors.Event) error { return printEvent(out, e, f.json, run.Run) })
			}
			ctx, cancel := ctlContext(cmd)
			defer cancel()
			var page struct {
				Events []actors.Event `json:"events"`
				Total  int            `json:"total"`
				Run    uint64         `json:"run"`
			}
			if err := c.Get(ctx, "/v1/events?"+q.Encode(), &page); err != nil {
				return err
			}
			if f.json {
				return printJSON(out, page)
			}
			for _, e := range page.Events {
				if err := printEvent(out, e, false, page.Run); err != nil {
					return err
				}
			}
			return nil
		},
	}
	f.add(cmd, true)
	cmd.Flags().BoolVarP(&follow, "follow", "f", false, "keep printing new events until interrupted")
	cmd.Flags().StringVar(&server, "server", "", "only this server's events")
	cmd.Flags().StringVar(&typ, "type", "", "only events of this type (server_crashed, tool_executed, ...)")
	cmd.Flags().StringVar(&since, "since", "", "only events since a duration ago (10m) or an RFC 3339 time")
	cmd.Flags().IntVar(&limit, "limit", 100, "at most this many past events")
	return cmd
}

// printEvent writes one event: a JSON line, or time, type, server and data.
// An event of another run than current (when current is known, not 0) is
// marked with its run and date.
func printEvent(w io.Writer, e actors.Event, asJSON bool, current uint64) error {
	if asJSON {
		return writeJSONLine(w, e)
	}
	var b strings.Builder
	if current != 0 && e.Run != current {
		fmt.Fprintf(&b, "run %d  %s ", e.Run, e.Timestamp.Local().Format("2006-01-02"))
	}
	fmt.Fprintf(&b, "%s  %-22s", e.Timestamp.Local().Format("15:04:05.000"), e.Event)
	if e.ServerID != "" {
		b.WriteString("  " + e.ServerID)
	}
	keys := make([]string, 0, len(e.Data))
	for k := range e.Data {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, "  %s=%v", k, e.Data[k])
	}
	_, err := fmt.Fprintln(w, b.String())
	return err
}
