package session

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/metamcp/metamcp/actors"
	"github.com/metamcp/metamcp/gateway"
	"github.com/metamcp/metamcp/wire"
)

// routed serves the requests that go to children other than tools/call:
// lists merged from every running child that offers them, and reads,
// gets and completions routed to the one child a name or URI names.
func (s *Session) routed(ctx context.Context, m *wire.Msg) (json.RawMessage, *wire.Error) {
	switch m.Method {
	case "resources/list":
		return s.mergedList(ctx, m.Method, "resources", "resources", exposeField("uri"))
	case "resources/templates/list":
		return s.mergedList(ctx, m.Method, "resources", "resourceTemplates", exposeField("uriTemplate"))
	case "prompts/list":
		return s.promptsList(ctx)
	case "resources/read":
		return s.byURI(ctx, m, true)
	case "resources/subscribe", "resources/unsubscribe":
		return s.byURI(ctx, m, false)
	case "prompts/get":
		return s.promptGet(ctx, m)
	case "completion/complete":
		return s.complete(ctx, m)
	}
	return nil, &wire.Error{Code: wire.CodeMethodNotFound, Message: "method not found: " + m.Method}
}

// item is one entry of a child's list, its fields raw.
type item = map[string]json.RawMessage

// listOf asks every running server that declares capability what for
// all pages of method, concurrently; a child that fails is left out (and
// logged), the others still count.
func (s *Session) listOf(ctx context.Context, servers []*actors.DirServer, method, what, key string) map[string][]item {
	var mu sync.Mutex
	var wg sync.WaitGroup
	out := map[string][]item{}
	for _, srv := range servers {
		if !srv.Running() || !declares(srv, what) {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			items, err := s.pages(ctx, srv, method, key)
			if err != nil {
				s.log.Warn().Err(err).Str("server_id", srv.ID).Str("method", method).Msg("a child's list is left out")
				return
			}
			mu.Lock()
			out[srv.ID] = items
			mu.Unlock()
		}()
	}
	wg.Wait()
	return out
}

const maxPages = 100

// pages reads every page of a list from one child.
func (s *Session) pages(ctx context.Context, srv *actors.DirServer, method, key string) ([]item, error) {
	var all []item
	var params json.RawMessage
	for range maxPages {
		res, err := s.ask(ctx, srv, method, params)
		if err != nil {
			return nil, err
		}
		var page map[string]json.RawMessage
		if err := json.Unmarshal(res, &page); err != nil {
			return nil, fmt.Errorf("%s: %w", method, err)
		}
		var items []item
		_ = json.Unmarshal(page[key], &items)
		all = append(all, items...)
		var cursor string
		if json.Unmarshal(page["nextCursor"], &cursor) != nil || cursor == "" {
			return all, nil
		}
		params, _ = json.Marshal(map[string]string{"cursor": cursor})
	}
	return all, fmt.Errorf("%s: more than %d pages", method, maxPages)
}

// ask sends one request to a server's child and waits for the answer.
func (s *Session) ask(ctx context.Context, srv *actors.DirServer, method string, params json.RawMessage) (json.RawMessage, error) {
	type answer struct {
		m   *wire.Msg
		err error
	}
	ch := make(chan answer, 1)
	cancel, ok := s.sys.Relay(srv, method, params, deadlineOf(ctx), func(m *wire.Msg, err error) { ch <- answer{m, err} })
	if !ok {
		return nil, fmt.Errorf("%w: %s is %s", actors.ErrNotRunning, serverName(srv), srv.State)
	}
	select {
	case a := <-ch:
		if a.err != nil {
			return nil, a.err
		}
		if a.m.Error != nil {
			return nil, a.m.Error
		}
		return a.m.Result, nil
	case <-ctx.Done():
		cancel("cancelled by the client")
		return nil, ctx.Err()
	}
}

func deadlineOf(ctx context.Context) (d time.Time) {
	d, _ = ctx.Deadline()
	return d
}

// mergedList answers a list method with every child's items, each passed
// through rewrite, under key.
func (s *Session) mergedList(ctx context.Context, method, what, key string, rewrite func(*actors.DirServer, item)) (json.RawMessage, *wire.Error) {
	servers := s.cat.Load().order
	lists := s.listOf(ctx, servers, method, what, key)
	all := []item{}
	for _, srv := range servers {
		for _, it := range lists[srv.ID] {
			rewrite(srv, it)
			all = append(all, it)
		}
	}
	b, _ := json.Marshal(map[string]any{key: all})
	return b, nil
}

// exposeField rewrites a URI field to its gateway form.
func exposeField(field string) func(*actors.DirServer, item) {
	return func(srv *actors.DirServer, it item) {
		var uri string
		if json.Unmarshal(it[field], &uri) == nil {
			it[field] = wireString(gateway.ExposeURI(srv.ID, serverName(srv), uri))
		}
	}
}

// byURI routes a request whose params name a resource by URI; a read's
// contents are given back under the gateway's URIs.
func (s *Session) byURI(ctx context.Context, m *wire.Msg, read bool) (json.RawMessage, *wire.Error) {
	var p item
	var uri string
	if json.Unmarshal(m.Params, &p) != nil || json.Unmarshal(p["uri"], &uri) != nil {
		return nil, &wire.Error{Code: wire.CodeInvalidParams, Message: m.Method + " needs a uri"}
	}
	srv, orig, e := s.serverOfURI(uri)
	if e != nil {
		return nil, e
	}
	p["uri"] = wireString(orig)
	res, e := s.forward(ctx, srv, m.Method, p)
	if e != nil || !read {
		return res, e
	}
	return exposeContents(res, srv), nil
}

// serverOfURI finds the server a gateway URI belongs to.
func (s *Session) serverOfURI(uri string) (*actors.DirServer, string, *wire.Error) {
	id, orig, ok := gateway.ResolveURI(uri)
	if !ok {
		return nil, "", &wire.Error{Code: wire.CodeInvalidParams,
			Message: fmt.Sprintf("unknown resource %q: metamcp's resource URIs are metamcp://<server>.<server_id>/<uri> (see resources/list)", uri)}
	}
	if srv, ok := s.cat.Load().byID[id]; ok && listed(srv) {
		return srv, orig, nil
	}
	return nil, "", &wire.Error{Code: wire.CodeInvalidParams,
		Message: fmt.Sprintf("unknown resource %q: server %s is not running (list_servers shows the servers)", uri, id)}
}

// forward sends params to a child and returns its answer as the client's.
func (s *Session) forward(ctx context.Context, srv *actors.DirServer, method string, p item) (json.RawMessage, *wire.Error) {
	params, _ := json.Marshal(p)
	res, err := s.ask(ctx, srv, method, params)
	if err != nil {
		return nil, asWireError(err)
	}
	return res, nil
}

func asWireError(err error) *wire.Error {
	if e, ok := err.(*wire.Error); ok {
		return e
	}
	return &wire.Error{Code: wire.CodeInternal, Message: "metamcp: " + err.Error()}
}

// exposeContents gives a read result's contents the gateway's URIs.
func exposeContents(res json.RawMessage, srv *actors.DirServer) json.RawMessage {
	var r map[string]json.RawMessage
	var contents []item
	if json.Unmarshal(res, &r) != nil || json.Unmarshal(r["contents"], &contents) != nil {
		return res
	}
	for _, c := range contents {
		var uri string
		if json.Unmarshal(c["uri"], &uri) == nil {
			c["uri"] = wireString(gateway.ExposeURI(srv.ID, serverName(srv), uri))
		}
	}
	r["contents"], _ = json.Marshal(contents)
	b, _ := json.Marshal(r)
	return b
}

// childUpdated passes on a resource update under the gateway's URI.
func (s *Session) childUpdated(serverID string, m *wire.Msg) {
	var p item
	var uri string
	if json.Unmarshal(m.Params, &p) != nil || json.Unmarshal(p["uri"], &uri) != nil {
		return
	}
	p["uri"] = wireString(gateway.ExposeURI(serverID, s.serverName(serverID), uri))
	s.notifyWith(m.Method, p)
}
