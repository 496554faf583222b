package gateway

import (
	"encoding/json"

	"github.com/metamcp/metamcp/actors"
)

// Listed says whether a server's offer is shown to the client: once it has
// answered a handshake, and while it runs or is coming back (a restarting
// server's tools stay listed; a call waits for it).
func Listed(s *actors.DirServer) bool {
	switch s.State {
	case actors.StateRunning, actors.StateStarting, actors.StateBackoff:
		return s.Info != nil
	}
	return false
}

// ServerName is how a server is named to the client: its name, else its
// template's.
func ServerName(s *actors.DirServer) string {
	if s.Name != "" {
		return s.Name
	}
	return s.Template
}

// Tool is one exposed tool of a directory: its ref, its gateway name and
// the child's definition of it.
type Tool struct {
	Ref  Ref
	Name string
	Def  json.RawMessage
}

// Tools names every tool of the listed servers of d that their filters
// allow (config.tools), in directory order, the reserved names (the meta
// tools') excepted. Every front end that
// names the same directory gets the same names.
func Tools(d *actors.Directory, reserved map[string]bool) []Tool {
	var refs []Ref
	var defs []json.RawMessage
	for _, s := range d.Servers {
		if !Listed(s) {
			continue
		}
		for _, t := range s.Info.Tools {
			if !s.Tools.Allows(t.Name) {
				continue
			}
			refs = append(refs, Ref{ServerID: s.ID, Server: ServerName(s), Name: t.Name})
			defs = append(defs, t.Raw)
		}
	}
	names := AssignNames(refs, reserved)
	out := make([]Tool, len(refs))
	for i := range refs {
		out[i] = Tool{Ref: refs[i], Name: names[i], Def: defs[i]}
	}
	return out
}
