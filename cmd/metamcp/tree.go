package main

import (
	"bytes"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"
)

// treeCmd shows the live supervision tree of a running instance.
func treeCmd() *cobra.Command {
	var f ctlFlags
	var watch bool
	var every time.Duration
	cmd := &cobra.Command{
		Use:   "tree",
		Short: "Show the live supervision tree of a running metamcp",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := f.dial()
			if err != nil {
				return err
			}
			defer c.Close()
			out := cmd.OutOrStdout()
			tty := isTerminal(out)
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			for {
				tree, err := c.Tree(ctx)
				if err != nil {
					if ctx.Err() != nil {
						return nil
					}
					return err
				}
				var b bytes.Buffer
				if f.json {
					_ = printJSON(&b, tree)
				} else {
					renderTree(&b, c.Instance, tree, time.Now(), palette(tty))
				}
				if watch && tty {
					out.Write([]byte("\x1b[H\x1b[2J")) // refresh in place
				} else if watch {
					b.WriteString("\n")
				}
				if _, err := out.Write(b.Bytes()); err != nil || !watch {
					return err
				}
				select {
				case <-ctx.Done():
					return nil
				case <-time.After(every):
				}
			}
		},
	}
	f.add(cmd, true)
	cmd.Flags().BoolVarP(&watch, "watch", "w", false, "refresh until interrupted")
	cmd.Flags().DurationVar(&every, "every", time.Second, "refresh interval with --watch")
	return cmd
}
