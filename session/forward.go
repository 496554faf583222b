package session

import (
	"bytes"
	"encoding/json"
	"sort"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/metamcp/metamcp/actors"
	"github.com/metamcp/metamcp/wire"
)

var _ actors.Clients = (*Session)(nil)

// directoryChanged is told of each new directory, on the root's
// goroutine: it only wakes watchDirectory, so that a client slow to read
// never holds up the root.
func (s *Session) directoryChanged() {
	select {
	case s.dirty <- struct{}{}:
	default: // a wake-up is pending already; it will read the newest
	}
}

// watchDirectory keeps the catalog current until the session ends.
func (s *Session) watchDirectory() {
	defer s.wg.Done()
	for {
		select {
		case <-s.dirty:
			s.refresh()
		case <-s.ctx.Done():
			return
		}
	}
}

// refresh rebuilds the catalog from the newest directory and tells the
// client what changed.
func (s *Session) refresh() {
	s.refreshMu.Lock()
	defer s.refreshMu.Unlock()
	d := s.sys.Directory()
	old := s.cat.Load()
	if old != nil && old.version >= d.Version && old.version != 0 {
		return
	}
	c := buildCatalog(d, s.reserved(), s.opts.ShowChildTools)
	s.cat.Store(c)
	if old == nil || !s.meta.Initialized() {
		return
	}
	if restarted := s.restarted(c); restarted || !bytes.Equal(old.list, c.list) {
		_ = s.peer.Notify("notifications/tools/list_changed", nil)
	}
	if offer(old, "resources") != offer(c, "resources") {
		_ = s.peer.Notify("notifications/resources/list_changed", nil)
	}
	if offer(old, "prompts") != offer(c, "prompts") {
		_ = s.peer.Notify("notifications/prompts/list_changed", nil)
	}
	s.applyLevel(c)
}

// restarted says whether a server has a new child since the last catalog
// (a crash and restart, or restart_server): its tools were listed anew,
// so the client is told to look again even when they are the same.
func (s *Session) restarted(c *catalog) bool {
	again := false
	for id := range s.gens {
		if _, ok := c.byID[id]; !ok {
			delete(s.gens, id)
		}
	}
	for id, srv := range c.byID {
		gen := srv.Gen()
		if gen == 0 {
			continue // between children: the next one tells
		}
		if prev := s.gens[id]; prev != 0 && prev != gen {
			again = true
		}
		s.gens[id] = gen
	}
	return again
}

// offer names the running servers that declare capability what: when it
// changes, so does the merged list.
func offer(c *catalog, what string) string {
	var ids []string
	for id, srv := range c.byID {
		if srv.Running() && declares(srv, what) {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	b, _ := json.Marshal(ids)
	return string(b)
}

// declares says whether a server declared a capability in initialize.
func declares(srv *actors.DirServer, what string) bool {
	if srv.Info == nil {
		return false
	}
	var caps map[string]json.RawMessage
	_ = json.Unmarshal(srv.Info.Capabilities, &caps)
	_, ok := caps[what]
	return ok
}

// reserved are the names a child tool may not take: the meta tools'.
func (s *Session) reserved() map[string]bool {
	r := map[string]bool{}
	for name := range s.metaNames() {
		r[name] = true
	}
	return r
}

// metaNames are the meta tools' names (none in mode gateway).
func (s *Session) metaNames() map[string]*server.ServerTool { return s.opts.Meta.ListTools() }

// metaTools renders the meta tools' definitions, comma-joined, sorted.
func (s *Session) metaTools() []byte {
	tools := s.opts.Meta.ListTools()
	names := make([]string, 0, len(tools))
	for n := range tools {
		names = append(names, n)
	}
	sort.Strings(names)
	var b bytes.Buffer
	for i, n := range names {
		def, err := json.Marshal(tools[n].Tool)
		if err != nil {
			continue
		}
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(def)
	}
	return b.Bytes()
}

// ChildNotification forwards what a child tells: progress under the
// client's token, log messages under the server's name, resource updates
// under the gateway's URI, list changes, and its cancellations of its own
// requests to the client.
func (s *Session) ChildNotification(serverID string, m *wire.Msg) {
	switch m.Method {
	case "notifications/progress":
		s.childProgress(m)
	case "notifications/message":
		s.childLog(serverID, m)
	case "notifications/resources/updated":
		s.childUpdated(serverID, m)
	case "notifications/resources/list_changed", "notifications/prompts/list_changed":
		_ = s.peer.Notify(m.Method, nil)
	case "notifications/cancelled":
		s.childCancelled(serverID, m)
	}
}

func (s *Session) childProgress(m *wire.Msg) {
	var p map[string]json.RawMessage
	if json.Unmarshal(m.Params, &p) != nil {
		return
	}
	var token string
	_ = json.Unmarshal(p["progressToken"], &token)
	s.mu.Lock()
	client, ok := s.tokens[token]
	s.mu.Unlock()
	if !ok {
		return // the call has ended, or the token was never ours
	}
	p["progressToken"] = client
	s.notifyWith(m.Method, p)
}

func (s *Session) childLog(serverID string, m *wire.Msg) {
	var p map[string]json.RawMessage
	if json.Unmarshal(m.Params, &p) != nil {
		return
	}
	name := s.serverName(serverID)
	var logger string
	if json.Unmarshal(p["logger"], &logger) == nil && logger != "" {
		name += "/" + logger
	}
	p["logger"] = wireString(name)
	s.notifyWith(m.Method, p)
}

func (s *Session) serverName(id string) string {
	if srv, ok := s.cat.Load().byID[id]; ok {
		return serverName(srv)
	}
	return id
}

func (s *Session) notifyWith(method string, p map[string]json.RawMessage) {
	b, err := json.Marshal(p)
	if err == nil {
		_ = s.peer.Notify(method, b)
	}
}

// ChildRequest asks the client on a child's behalf, if the client said
// in initialize that it can answer; the answer goes back to the child.
func (s *Session) ChildRequest(serverID string, m *wire.Msg, answer func(json.RawMessage, *wire.Error)) {
	if e := s.mayAsk(m.Method); e != nil {
		answer(nil, e)
		return
	}
	key := childReq{serverID, string(m.ID)}
	id := s.peer.NewID()
	s.mu.Lock() // known before the answer can come, so that it finds the key to drop
	s.asked[key] = id
	s.mu.Unlock()
	s.peer.Send(id, m.Method, m.Params, func(resp *wire.Msg, err error) {
		s.mu.Lock()
		delete(s.asked, key)
		s.mu.Unlock()
		switch {
		case err != nil:
			answer(nil, &wire.Error{Code: wire.CodeInternal, Message: "metamcp could not ask the client: " + err.Error()})
		case resp.Error != nil:
			answer(nil, resp.Error)
		default:
			answer(resp.Result, nil)
		}
	})
}

// mayAsk refuses a child's request the client cannot answer.
func (s *Session) mayAsk(method string) *wire.Error {
	caps := s.caps.Load()
	if caps == nil {
		caps = &clientCaps{}
	}
	have, known := map[string]bool{
		string(mcp.MethodSamplingCreateMessage): caps.sampling,
		string(mcp.MethodElicitationCreate):     caps.elicitation,
		string(mcp.MethodListRoots):             caps.roots,
	}[method]
	switch {
	case !known:
		return &wire.Error{Code: wire.CodeMethodNotFound, Message: "metamcp does not forward " + method + " to the client"}
	case !have:
		return &wire.Error{Code: wire.CodeMethodNotFound,
			Message: "the MCP client connected to metamcp did not declare the capability for " + method + ", so it cannot be asked"}
	}
	return nil
}

// childCancelled passes on a child's cancellation of its request to the
// client, under metamcp's id for it.
func (s *Session) childCancelled(serverID string, m *wire.Msg) {
	var p struct {
		RequestID json.RawMessage `json:"requestId"`
		Reason    string          `json:"reason,omitempty"`
	}
	if json.Unmarshal(m.Params, &p) != nil {
		return
	}
	s.mu.Lock()
	id, ok := s.asked[childReq{serverID, string(p.RequestID)}]
	s.mu.Unlock()
	if ok && s.peer.Forget(id) {
		b, _ := json.Marshal(map[string]any{"requestId": id, "reason": p.Reason})
		_ = s.peer.Notify(m.Method, b)
	}
}

// fanOut passes a client's notification to every running child.
func (s *Session) fanOut(m *wire.Msg) {
	for _, srv := range s.cat.Load().byID {
		s.sys.Notify(srv, m.Method, m.Params)
	}
	s.delegate(m)
}

// setLevel applies the client's log level to every child that logs, now
// and as each starts.
func (s *Session) setLevel(m *wire.Msg) {
	params := append(json.RawMessage(nil), m.Params...)
	s.level.Store(&params)
	s.mu.Lock()
	clear(s.leveled)
	s.mu.Unlock()
	s.applyLevel(s.cat.Load())
	res, e := s.handleMeta(s.ctx, m)
	if e != nil { // the meta front end has no logging: the children's answer counts
		res = json.RawMessage("{}")
	}
	s.answer(m.ID, res, nil)
}

func (s *Session) applyLevel(c *catalog) {
	level := s.level.Load()
	if level == nil {
		return
	}
	for id, srv := range c.byID {
		if !srv.Running() || !declares(srv, "logging") || !s.markLeveled(id, srv.Gen()) {
			continue
		}
		s.sys.Relay(srv, "logging/setLevel", *level, time.Now().Add(5*time.Second), func(*wire.Msg, error) {})
	}
}

// markLeveled reports whether a server's connection still needs the level.
func (s *Session) markLeveled(id string, gen uint64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.leveled[id] == gen {
		return false
	}
	s.leveled[id] = gen
	return true
}
