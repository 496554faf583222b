package session

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/metamcp/metamcp/actors"
	"github.com/metamcp/metamcp/gateway"
	"github.com/metamcp/metamcp/wire"
)

// promptTable names the children's prompts as the last prompts/list did.
type promptTable struct {
	names *gateway.Table
	refs  []gateway.Ref // in listing order
	byID  map[string]*actors.DirServer
}

// promptsList merges the children's prompts under gateway names
// (<server>__<prompt>, named like tools).
func (s *Session) promptsList(ctx context.Context) (json.RawMessage, *wire.Error) {
	t, items := s.listPrompts(ctx)
	all := []item{}
	for _, ref := range t.refs {
		name, _ := t.names.Exposed(ref)
		it := items[ref]
		it["name"] = wireString(name)
		all = append(all, it)
	}
	b, _ := json.Marshal(map[string]any{"prompts": all})
	return b, nil
}

func (s *Session) listPrompts(ctx context.Context) (*promptTable, map[gateway.Ref]item) {
	servers := s.cat.Load().order
	lists := s.listOf(ctx, servers, "prompts/list", "prompts", "prompts")
	items := map[gateway.Ref]item{}
	t := &promptTable{byID: map[string]*actors.DirServer{}}
	var refs []gateway.Ref
	for _, srv := range servers {
		t.byID[srv.ID] = srv
		for _, it := range lists[srv.ID] {
			var name string
			if json.Unmarshal(it["name"], &name) != nil {
				continue
			}
			ref := gateway.Ref{ServerID: srv.ID, Server: serverName(srv), Name: name}
			if _, dup := items[ref]; !dup {
				refs, items[ref] = append(refs, ref), it
			}
		}
	}
	t.names, t.refs = gateway.NewTable(refs, nil), refs
	s.prompts.Store(t)
	return t, items
}

// promptRef finds the child and its own name for a gateway prompt name,
// listing again when the name is not in the last list.
func (s *Session) promptRef(ctx context.Context, name string) (*actors.DirServer, string, *wire.Error) {
	for try := 0; try < 2; try++ {
		t := s.prompts.Load()
		if t == nil || try == 1 {
			t, _ = s.listPrompts(ctx)
		}
		if ref, ok := t.names.Lookup(name); ok {
			return t.byID[ref.ServerID], ref.Name, nil
		}
	}
	return nil, "", &wire.Error{Code: wire.CodeInvalidParams,
		Message: fmt.Sprintf("unknown prompt %q: prompts/list shows the prompts of the running servers", name)}
}

func (s *Session) promptGet(ctx context.Context, m *wire.Msg) (json.RawMessage, *wire.Error) {
	var p item
	var name string
	if json.Unmarshal(m.Params, &p) != nil || json.Unmarshal(p["name"], &name) != nil {
		return nil, &wire.Error{Code: wire.CodeInvalidParams, Message: "prompts/get needs a name"}
	}
	srv, orig, e := s.promptRef(ctx, name)
	if e != nil {
		return nil, e
	}
	p["name"] = wireString(orig)
	return s.forward(ctx, srv, m.Method, p)
}

// complete routes completion/complete by its reference: a prompt by its
// gateway name, a resource template by its gateway URI.
func (s *Session) complete(ctx context.Context, m *wire.Msg) (json.RawMessage, *wire.Error) {
	var p item
	var ref struct {
		Type string `json:"type"`
		Name string `json:"name,omitempty"`
		URI  string `json:"uri,omitempty"`
	}
	if json.Unmarshal(m.Params, &p) != nil || json.Unmarshal(p["ref"], &ref) != nil {
		return nil, &wire.Error{Code: wire.CodeInvalidParams, Message: "completion/complete needs a ref"}
	}
	var srv *actors.DirServer
	var e *wire.Error
	switch ref.Type {
	case "ref/prompt":
		srv, ref.Name, e = s.promptRef(ctx, ref.Name)
	case "ref/resource":
		srv, ref.URI, e = s.serverOfURI(ref.URI)
	default:
		e = &wire.Error{Code: wire.CodeInvalidParams, Message: fmt.Sprintf("completion/complete: unknown ref type %q", ref.Type)}
	}
	if e != nil {
		return nil, e
	}
	p["ref"], _ = json.Marshal(ref)
	return s.forward(ctx, srv, m.Method, p)
}
