package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/metamcp/metamcp/actors"
	"github.com/metamcp/metamcp/control"
)

// palette colours a state, or does nothing when the output is no terminal.
type palette bool

func (p palette) state(s string) string {
	if !p {
		return s
	}
	code := "0"
	switch s {
	case actors.StateRunning:
		code = "32" // green
	case actors.StateStarting, actors.StateBackoff, actors.StateStopping:
		code = "33" // yellow
	case actors.StateCrashLoop:
		code = "1;31" // bold red
	case actors.StateStopped, "off":
		code = "2" // dim
	}
	return "\x1b[" + code + "m" + s + "\x1b[0m"
}

func (p palette) dim(s string) string {
	if !p {
		return s
	}
	return "\x1b[2m" + s + "\x1b[0m"
}

// renderTree writes the tree as a person reads it: a header about the
// instance, then one line per actor under tree lines.
func renderTree(w io.Writer, inst control.Record, root *actors.TreeNode, now time.Time, colour palette) {
	head := fmt.Sprintf("metamcp pid %d", inst.PID)
	if inst.ClientName != "" {
		head += " · client " + strings.TrimSpace(inst.ClientName+" "+inst.ClientVersion)
	}
	head += " · up " + shortDur(now.Sub(inst.StartedAt))
	fmt.Fprintln(w, head)
	fmt.Fprintln(w, nodeLine(root, now, colour))
	renderChildren(w, root.Children, "", now, colour)
}

func renderChildren(w io.Writer, kids []*actors.TreeNode, indent string, now time.Time, colour palette) {
	for i, n := range kids {
		branch, next := "├── ", "│   "
		if i == len(kids)-1 {
			branch, next = "└── ", "    "
		}
		fmt.Fprintln(w, colour.dim(indent+branch)+nodeLine(n, now, colour))
		renderChildren(w, n.Children, indent+next, now, colour)
	}
}

// nodeLine describes one actor.
func nodeLine(n *actors.TreeNode, now time.Time, colour palette) string {
	state := colour.state(n.State)
	if n.Server != nil {
		return serverLine(n, now, colour)
	}
	parts := []string{n.Name, state}
	d := n.Detail
	switch n.Kind {
	case "supervisor":
		parts = append(parts, fmt.Sprintf("%v servers, %v live, max %v", d["servers"], d["live"], d["max_servers"]))
	case "events":
		parts = append(parts, fmt.Sprintf("%v events held of %v", d["held"], d["capacity"]))
	case "pool":
		pooled, _ := d["pooled"].(map[string]any)
		n := 0
		for _, ids := range pooled {
			if l, ok := ids.([]any); ok {
				n += len(l)
			}
		}
		parts = append(parts, fmt.Sprintf("%d pooled, idle ttl %vs", n, d["idle_ttl_seconds"]))
	case "monitor":
		parts = append(parts, fmt.Sprintf("scan every %vms", d["interval_ms"]))
	}
	if n.Error != "" {
		parts = append(parts, "("+n.Error+")")
	}
	return strings.Join(parts, "  ")
}

// serverLine: id, name, template, state, pid, restarts, uptime, RSS, calls
// in flight, last exit.
func serverLine(n *actors.TreeNode, now time.Time, colour palette) string {
	s := n.Server
	state := colour.state(n.State)
	if n.State == actors.StateBackoff && s.NextRestartAt != nil {
		state += " (next restart in " + shortDur(s.NextRestartAt.Sub(now)) + ")"
	}
	parts := []string{s.ServerID, s.Name, s.Template, state}
	if s.PID > 0 {
		parts = append(parts, fmt.Sprintf("pid %d", s.PID), "up "+shortDur(time.Duration(s.UptimeSeconds*float64(time.Second))))
	}
	parts = append(parts, fmt.Sprintf("restarts %d", s.Restarts), "rss "+rss(s.RSSMB), fmt.Sprintf("in-flight %d", s.InFlight))
	if s.Pooled {
		parts = append(parts, "pooled")
	}
	if s.LastExit != nil {
		parts = append(parts, "last exit: "+s.LastExit.String())
	}
	if n.Error != "" {
		parts = append(parts, "("+n.Error+")")
	}
	return strings.Join(parts, "  ")
}

func rss(mb *float64) string {
	if mb == nil {
		return "-"
	}
	return fmt.Sprintf("%.1f MB", *mb)
}

// shortDur reads 850ms, 1.2s, 12s, 3m05s, 2h07m, 3d04h.
func shortDur(d time.Duration) string {
	switch {
	case d < 0:
		return "0s"
	case d < time.Second:
		return fmt.Sprintf("%dms", d.Milliseconds())
	case d < 10*time.Second:
		return fmt.Sprintf("%.1fs", d.Truncate(100*time.Millisecond).Seconds())
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	case d < 24*time.Hour:
		return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%dd%02dh", int(d.Hours())/24, int(d.Hours())%24)
}
