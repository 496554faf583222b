package session

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/metamcp/metamcp/actors"
	"github.com/metamcp/metamcp/actors/child"
	"github.com/metamcp/metamcp/gateway"
	"github.com/metamcp/metamcp/wire"
)

// callParams are the fields of a tools/call the gateway reads; the
// arguments stay raw.
type callParams struct {
	Name      string          `json:"name"`
	Arguments json.RawMessage `json:"arguments"`
	Meta      json.RawMessage `json:"_meta"`
}

// toolsCall is the hot path: a child tool by its gateway name goes
// straight to its server's child; a meta tool to the meta front end, and
// so does a gateway name still unknown once the catalog has caught up
// with the root.
func (s *Session) toolsCall(m *wire.Msg) {
	p, err := readCall(m.Params)
	if err != nil {
		_ = s.peer.RespondError(m.ID, &wire.Error{Code: wire.CodeInvalidParams, Message: "tools/call params: " + err.Error()})
		return
	}
	c := s.cat.Load()
	if rt, ok := c.tools[p.Name]; ok {
		s.callChild(m, p, rt)
		return
	}
	if p.Name == "execute_on_server" && s.opts.ShowMeta && s.executeOnServer(m, p) {
		return
	}
	if _, meta := s.metaNames()[p.Name]; meta || !s.opts.ShowChildren || !strings.Contains(p.Name, gateway.Separator) {
		s.delegate(m) // a meta tool, or nothing the gateway could know
		return
	}
	// A gateway name the catalog does not know (yet): a server whose
	// create_server was answered a moment ago has told the root it runs
	// before that answer went out, but the directory, and so the catalog,
	// follows only once the root has handled it. Catch up (off the
	// reading goroutine), then look again.
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		_, _ = s.sys.Ask(&actors.ListServers{}, catchUpBound)
		s.refresh()
		c := s.cat.Load()
		if rt, ok := c.tools[p.Name]; ok {
			s.callChild(m, p, rt)
			return
		}
		_ = s.peer.RespondError(m.ID, &wire.Error{Code: wire.CodeInvalidParams, Message: c.unknownTool(p.Name)})
	}()
}

// catchUpBound bounds the wait for the root before an unknown gateway
// name is refused.
const catchUpBound = 5 * time.Second

// callChild calls a child's tool: on the relay path when its child runs,
// else the actor way.
func (s *Session) callChild(m *wire.Msg, p callParams, rt toolRoute) {
	token, meta := s.childMeta(p.Meta)
	params := callBody(rt.tool, p.Arguments, meta)
	key := string(m.ID)
	done := func(resp *wire.Msg, err error) {
		s.dropToken(token)
		if s.untrack(key) {
			s.callAnswer(m.ID, resp, err)
		}
	}
	s.track(key, func(string) {}) // replaced below once the call is under way
	if cancel, ok := s.sys.Relay(rt.srv, "tools/call", params, time.Time{}, done); ok {
		s.retrack(key, func(reason string) { cancel(reason); s.dropToken(token) })
		return
	}
	s.viaActors(m, rt, params, token)
}

// readCall reads the params of a tools/call (valid JSON: wire.Decode
// checked the message) in one pass over its members. What is not the
// common shape — not an object, name not a string, a member twice or in
// another case — is read by encoding/json, as it always was.
func readCall(params json.RawMessage) (callParams, error) {
	var p callParams
	var seen uint8
	err := wire.Fields(params, func(k, v []byte) error {
		var bit uint8
		switch string(k) {
		case "name":
			bit = 1
			name, ok := wire.String(v)
			if !ok {
				return errUncommon
			}
			p.Name = name
		case "arguments":
			bit, p.Arguments = 2, v
		case "_meta":
			bit, p.Meta = 4, v
		default:
			if strings.EqualFold(string(k), "name") || strings.EqualFold(string(k), "arguments") || strings.EqualFold(string(k), "_meta") {
				return errUncommon
			}
			return nil
		}
		if seen&bit != 0 {
			return errUncommon
		}
		seen |= bit
		return nil
	})
	if err == nil {
		return p, nil
	}
	p = callParams{}
	return p, json.Unmarshal(params, &p)
}

var errUncommon = errors.New("uncommon shape")

// retrack replaces the cancel of a request still in flight.
func (s *Session) retrack(key string, cancel func(string)) {
	s.mu.Lock()
	if _, ok := s.inflight[key]; ok {
		s.inflight[key] = cancel
	}
	s.mu.Unlock()
}

// viaActors calls a server that has no running child (restarting,
// starting) the actor way: the root holds the call until the child is
// ready or the call's deadline passes.
func (s *Session) viaActors(m *wire.Msg, rt toolRoute, params json.RawMessage, token string) {
	ctx, cancel := context.WithCancel(s.ctx)
	key := string(m.ID)
	s.retrack(key, func(string) { cancel() })
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer cancel()
		defer s.dropToken(token)
		res, err := s.sys.Call(&actors.CallTool{ServerID: rt.srv.ID, Tool: rt.tool, Params: params, Ctx: ctx})
		if !s.untrack(key) {
			return
		}
		var rpc *child.RPCError
		switch {
		case errors.As(err, &rpc): // the child's own error, as the relay path gives it
			data, _ := rpc.Data.(json.RawMessage)
			s.callAnswer(m.ID, &wire.Msg{Error: &wire.Error{Code: rpc.Code, Message: rpc.Message, Data: data}}, nil)
		case err != nil:
			s.callAnswer(m.ID, nil, err)
		default:
			s.callAnswer(m.ID, &wire.Msg{Result: res.Result}, nil)
		}
	}()
}

// callAnswer answers a gateway tool call: the child's result or JSON-RPC
// error as it came, or a tool error saying what happened (a crash, a
// timeout, a restart) that the model and the person can act on.
func (s *Session) callAnswer(id json.RawMessage, resp *wire.Msg, err error) {
	switch {
	case err != nil:
		_ = s.peer.Respond(id, toolError(err))
	case resp.Error != nil:
		_ = s.peer.RespondError(id, resp.Error)
	default:
		_ = s.peer.Respond(id, resp.Result)
	}
}

// toolError is a CallToolResult with isError and the message.
func toolError(err error) json.RawMessage {
	msg := err.Error()
	if errors.Is(err, actors.ErrUnknownServer) {
		msg += " (the server was stopped; tools/list shows what is there now)"
	}
	b := append([]byte(`{"content":[{"type":"text","text":`), wireString("metamcp: "+msg)...)
	return append(b, `}],"isError":true}`...)
}

// callBody is the params of the child's tools/call.
func callBody(tool string, args, meta json.RawMessage) json.RawMessage {
	b := make([]byte, 0, len(tool)+len(args)+len(meta)+40)
	b = append(b, `{"name":`...)
	b = wire.AppendString(b, tool)
	b = append(b, `,"arguments":`...)
	if len(args) == 0 || string(args) == "null" {
		args = json.RawMessage("{}")
	}
	b = append(b, args...)
	if len(meta) > 0 {
		b = append(append(b, `,"_meta":`...), meta...)
	}
	return append(b, '}')
}

// modernPrefix marks the _meta keys of protocol 2026-07-28 that describe
// the client's own request to metamcp; a child, which metamcp speaks to in
// its own session, must not take them for its own.
const modernPrefix = "io.modelcontextprotocol/"

// childMeta is the _meta a child gets: the client's, without the keys of
// the client's protocol session, with the progress token replaced by one
// of ours (returned, "" when none) that routes the child's progress back.
// It is built from the members as they came (a member given twice counts
// once, the last, as encoding/json reads it); nil when none is left.
func (s *Session) childMeta(meta json.RawMessage) (token string, out json.RawMessage) {
	if len(meta) == 0 || string(meta) == "null" {
		return "", nil
	}
	type member struct{ key, value []byte }
	var kept []member
	err := wire.Fields(meta, func(k, v []byte) error {
		if bytes.HasPrefix(k, []byte(modernPrefix)) {
			return nil
		}
		for i := range kept {
			if bytes.Equal(kept[i].key, k) {
				kept = append(kept[:i], kept[i+1:]...)
				break
			}
		}
		kept = append(kept, member{bytes.Clone(k), v})
		return nil
	})
	if err != nil || len(kept) == 0 {
		return "", nil
	}
	out = append(make([]byte, 0, len(meta)), '{')
	for i, f := range kept {
		if i > 0 {
			out = append(out, ',')
		}
		out = append(wire.AppendString(out, string(f.key)), ':')
		if string(f.key) == "progressToken" {
			token = "metamcp-" + strconv.FormatInt(s.tokenN.Add(1), 10)
			s.mu.Lock()
			s.tokens[token] = json.RawMessage(f.value)
			s.mu.Unlock()
			out = wire.AppendString(out, token)
			continue
		}
		out = append(out, f.value...)
	}
	return token, append(out, '}')
}

func (s *Session) dropToken(token string) {
	if token == "" {
		return
	}
	s.mu.Lock()
	delete(s.tokens, token)
	s.mu.Unlock()
}

func wireString(v string) []byte { return wire.AppendString(nil, v) }

// toolsList answers tools/list: the meta tools, then the children's.
func (s *Session) toolsList(m *wire.Msg) {
	var b bytes.Buffer
	b.WriteString(`{"tools":[`)
	if s.opts.ShowMeta {
		b.Write(s.metaTools())
	}
	if c := s.cat.Load(); len(c.list) > 0 {
		if b.Len() > len(`{"tools":[`) {
			b.WriteByte(',')
		}
		b.Write(c.list)
	}
	b.WriteString(`]}`)
	_ = s.peer.Respond(m.ID, b.Bytes())
}

// unknownTool says why a name is not a tool, and what is there instead.
func (c *catalog) unknownTool(name string) string {
	prefix, _, found := strings.Cut(name, "__")
	var same []string
	for exposed := range c.tools {
		if found && strings.HasPrefix(exposed, prefix+"__") {
			same = append(same, exposed)
		}
	}
	if len(same) == 0 {
		return fmt.Sprintf("unknown tool %q: no running server offers it; tools/list shows the tools there are "+
			"(a child's tool is <server>__<tool>; list_servers shows the servers)", name)
	}
	sort.Strings(same)
	return fmt.Sprintf("unknown tool %q: server %q has %s", name, prefix, strings.Join(same, ", "))
}
