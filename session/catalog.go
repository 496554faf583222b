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
	var refs []gateway.ToolRef
	defs := map[gateway.ToolRef]json.RawMessage{}
	for _, s := range d.Servers {
		c.byID[s.ID] = s
		if !listed(s) {
			continue
		}
		for _, t := range s.Info.Tools {
			ref := gateway.ToolRef{ServerID: s.ID, Server: serverName(s), Tool: t.Name}
			refs = append(refs, ref)
			defs[ref] = t.Raw
		}
	}
	table := gateway.NewToolTable(refs, reserved)
	var list bytes.Buffer
	for _, ref := range table.Refs() {
		name := table.Exposed(ref)
		c.tools[name] = toolRoute{srv: c.byID[ref.ServerID], tool: ref.Tool}
		def, err := renamed(defs[ref], name)
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
