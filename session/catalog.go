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
	order   []*actors.DirServer          // the directory's order (by name, then id)
	list    []byte                       // the exposed tools' definitions, comma-joined, for tools/list
}

type toolRoute struct {
	srv  *actors.DirServer
	tool string // the child's own name
}

// buildCatalog names every tool of the listed servers (package gateway)
// and renders their definitions under those names.
func buildCatalog(d *actors.Directory, reserved map[string]bool, tools bool) *catalog {
	c := &catalog{version: d.Version, tools: map[string]toolRoute{}, byID: map[string]*actors.DirServer{}}
	c.order = d.Servers
	for _, s := range d.Servers {
		c.byID[s.ID] = s
	}
	var list bytes.Buffer
	if !tools {
		return c
	}
	for _, t := range gateway.Tools(d, reserved) {
		if _, dup := c.tools[t.Name]; dup {
			continue // a tool the child listed twice
		}
		c.tools[t.Name] = toolRoute{srv: c.byID[t.Ref.ServerID], tool: t.Ref.Name}
		def, err := renamed(t.Def, t.Name)
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

func serverName(s *actors.DirServer) string { return gateway.ServerName(s) }

func listed(s *actors.DirServer) bool { return gateway.Listed(s) }

// renamed is a child's tool definition, byte for byte but for its name.
func renamed(def json.RawMessage, name string) (json.RawMessage, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(def, &fields); err != nil {
		return nil, err
	}
	fields["name"] = json.RawMessage(wireString(name))
	return json.Marshal(fields)
}
