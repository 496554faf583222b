package session

import (
	"bytes"
	"encoding/json"

	"github.com/metamcp/metamcp/actors"
	"github.com/metamcp/metamcp/gateway"
)

// catalog is what the client is shown of the children at one directory
// version: the exposed tools and how each routes back.
type catalog struct {
	version uint64
	tools   map[string]toolRoute         // exposed name → where it goes
	byID    map[string]*actors.DirServer // server id → server
	list    []byte                       // the exposed tools' definitions, comma-joined, for tools/list
}

type toolRoute struct {
	srv  *actors.DirServer
	tool string // the child's own name
}

// listed says whether a server's offer is shown: once it has answered a
// handshake, and while it runs or is coming back (a restarting server's
// tools stay listed; a call waits for it).
func listed(s *actors.DirServer) bool {
	switch s.State {
	case actors.StateRunning, actors.StateStarting, actors.StateBackoff:
		return s.Info != nil
	}
	return false
}

// buildCatalog names every tool of the listed servers (package gateway)
// and renders their definitions under those names.
func buildCatalog(d *actors.Directory, reserved map[string]bool) *catalog {
	c := &catalog{version: d.Version, tools: map[string]toolRoute{}, byID: map[string]*actors.DirServer{}}
	var refs []gateway.Ref
	var defs []json.RawMessage
	for _, s := range d.Servers {
		c.byID[s.ID] = s
		if !listed(s) {
			continue
		}
		for _, t := range s.Info.Tools {
			refs = append(refs, gateway.Ref{ServerID: s.ID, Server: serverName(s), Name: t.Name})
			defs = append(defs, t.Raw)
		}
	}
	names := gateway.AssignNames(refs, reserved)
	var list bytes.Buffer
	for i, ref := range refs {
		if _, dup := c.tools[names[i]]; dup {
			continue // a tool the child listed twice
		}
		c.tools[names[i]] = toolRoute{srv: c.byID[ref.ServerID], tool: ref.Name}
		def, err := renamed(defs[i], names[i])
		if err != nil {
			continue // not an object: nothing a client could use
		}
		if list.Len() > 0 {
			list.WriteByte(',')
		}
		list.Write(def)
	}
	c.list = list.Bytes()
	return c
}

// serverName is how a server is named to the client: its name, else its
// template's.
func serverName(s *actors.DirServer) string {
	if s.Name != "" {
		return s.Name
	}
	return s.Template
}

// renamed is a child's tool definition, byte for byte but for its name.
func renamed(def json.RawMessage, name string) (json.RawMessage, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(def, &fields); err != nil {
		return nil, err
	}
	fields["name"] = json.RawMessage(wireString(name))
	return json.Marshal(fields)
}
