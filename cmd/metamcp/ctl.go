package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/metamcp/metamcp/config"
	"github.com/metamcp/metamcp/control"
)

// The control commands (tree, ps, events, restart, stop, templates) talk to
// a running `metamcp serve` over its control endpoint. Unlike serve, they
// own their stdout.

// ctlTimeout bounds one request of a control command.
const ctlTimeout = 30 * time.Second

// ctlFlags are the flags every control command has.
type ctlFlags struct {
	pid  int
	json bool
}

func (f *ctlFlags) add(cmd *cobra.Command, reads bool) {
	cmd.Flags().IntVar(&f.pid, "pid", 0, "the instance to talk to, when several are running")
	if reads {
		cmd.Flags().BoolVar(&f.json, "json", false, "print JSON")
	}
}

// dial connects to the chosen instance; with several and no --pid it lists
// them in the error.
func (f *ctlFlags) dial() (*control.Client, error) {
	c, err := control.Dial(f.pid)
	var many *control.ManyInstancesError
	if errors.As(err, &many) {
		var b strings.Builder
		b.WriteString("several metamcp instances are running; pick one with --pid:")
		for _, r := range many.Instances {
			fmt.Fprintf(&b, "\n  %s", describeInstance(r))
		}
		return nil, errors.New(b.String())
	}
	return c, err
}

// describeInstance is one line about an instance.
func describeInstance(r control.Record) string {
	s := fmt.Sprintf("pid %d  started %s", r.PID, r.StartedAt.Local().Format("2006-01-02 15:04:05"))
	if r.ClientName != "" {
		s += "  client " + strings.TrimSpace(r.ClientName+" "+r.ClientVersion)
	}
	if r.Session != "" && r.Session != config.DefaultSession {
		s += "  session " + r.Session
	}
	if r.ConfigFile != "" {
		s += "  config " + r.ConfigFile
	}
	return s
}

func ctlContext(cmd *cobra.Command) (context.Context, context.CancelFunc) {
	return context.WithTimeout(cmd.Context(), ctlTimeout)
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// isTerminal says whether w is a terminal (colour and in-place refresh).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// completeServerIDs completes a server id from the running instance.
func completeServerIDs(f *ctlFlags) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return func(cmd *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		c, err := f.dial()
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		defer c.Close()
		ctx, cancel := ctlContext(cmd)
		defer cancel()
		servers, err := c.Servers(ctx)
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		var ids []string
		for _, s := range servers {
			ids = append(ids, s.ServerID+"\t"+s.Name+" ("+s.Template+", "+s.Status+")")
		}
		return ids, cobra.ShellCompDirectiveNoFileComp
	}
}

// writeJSONLine writes v as one line of JSON.
func writeJSONLine(w io.Writer, v any) error { return json.NewEncoder(w).Encode(v) }
