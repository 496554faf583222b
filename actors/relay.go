package actors

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/metamcp/metamcp/actors/child"
	"github.com/metamcp/metamcp/wire"
)

// Clients is the front end as the children see it: where a child's
// requests to the client (sampling, elicitation, roots) and its
// notifications (progress, logging, list changes, resource updates) go.
// Both methods are called on the child's reading goroutine and must not
// block. Without Clients (SetClients), a child's requests are refused with
// a JSON-RPC error and its notifications are dropped.
type Clients interface {
	// ChildRequest forwards a request of server id's child; answer must be
	// called once, with the client's result or an error for the child.
	ChildRequest(serverID string, m *wire.Msg, answer func(result json.RawMessage, e *wire.Error))
	// ChildNotification forwards a notification of server id's child.
	ChildNotification(serverID string, m *wire.Msg)
}

type clientsHolder struct{ p atomic.Pointer[Clients] }

func (h *clientsHolder) get() Clients {
	if c := h.p.Load(); c != nil {
		return *c
	}
	return nil
}

// SetClients routes the children's requests and notifications to c.
func (s *System) SetClients(c Clients) { s.deps.clients.p.Store(&c) }

// RelayDone receives the outcome of a relayed request, once: the child's
// response (Result or Error set), or err — the call timed out (and was
// cancelled at the child), the child crashed, or the server was stopped.
type RelayDone func(resp *wire.Msg, err error)

// Relay is the gateway's fast path: it sends a request with raw params
// straight to a running server's child, with no actor hop, and calls done
// with the raw answer. The server's timeout applies from now unless
// deadline is earlier; when it passes, the child gets notifications/
// cancelled and done an ErrCallTimeout. It reports false, without calling
// done, when srv has no live child, or when the request cannot be written
// to it (the child has died and is not reaped yet: it never got the
// request): the caller then goes the actor way (CallTool), which waits
// for a restart. The returned cancel stops a call
// the client cancelled: the child is told, and done is not called.
func (s *System) Relay(srv *DirServer, method string, params json.RawMessage, deadline time.Time, done RelayDone) (cancel func(reason string), ok bool) {
	return s.relay(srv, method, params, deadline, "gateway", done)
}

// RelayExecute is Relay for an execute_on_server that a front end serves
// itself (its event says so).
func (s *System) RelayExecute(srv *DirServer, params json.RawMessage, done RelayDone) (cancel func(reason string), ok bool) {
	return s.relay(srv, "tools/call", params, time.Time{}, "execute_on_server", done)
}

// relay is Relay; via names the path in the call's event.
func (s *System) relay(srv *DirServer, method string, params json.RawMessage, deadline time.Time, via string, done RelayDone) (func(string), bool) {
	rt := srv.route
	if rt == nil || isClosed(rt.conn.Reaped()) {
		return nil, false
	}
	if limit := time.Now().Add(srv.Timeout); deadline.IsZero() || deadline.After(limit) {
		deadline = limit
	}
	c := &relayCall{sys: s, srv: srv, rt: rt, method: method, via: via, done: done, t0: time.Now(), id: rt.conn.NewID()}
	if method == "tools/call" {
		c.tool = toolName(params)
	}
	rt.stats.inFlight.Add(1)
	rt.stats.callsTotal.Add(1)
	c.timer = time.AfterFunc(time.Until(deadline), c.expire)
	c.sending.Store(true)
	rt.conn.Send(c.id, method, params, c.answered)
	c.sending.Store(false)
	if c.unsent.Load() {
		// The write failed: the child is dead (or dying) and never got
		// the request, so the caller goes the actor way, which waits for
		// the restart, as when the child is already reaped.
		c.timer.Stop()
		rt.stats.inFlight.Add(-1)
		rt.stats.callsTotal.Add(-1)
		return nil, false
	}
	return c.cancel, true
}

func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// toolName reads the name of a tools/call (for events only): params are
// valid JSON (package session built them), and the name comes first.
func toolName(params json.RawMessage) string {
	var name string
	_ = wire.Fields(params, func(k, v []byte) error {
		if string(k) != "name" {
			return nil
		}
		name, _ = wire.String(v)
		return errFound
	})
	return name
}

var errFound = errors.New("found")

// relayCall is one request on the relay path. Whoever takes it out of the
// connection's pending set (the answer, the timer, a cancel) ends it.
type relayCall struct {
	sys    *System
	srv    *DirServer
	rt     *route
	method string
	via    string // for the event: "gateway" or "execute_on_server"
	tool   string
	id     int64
	t0     time.Time
	timer  *time.Timer
	done   RelayDone

	// sending is set while Relay is in conn.Send; unsent records that the
	// write failed there (Send then calls answered on Relay's goroutine
	// with the write error: the only error that is not an *ExitError).
	sending, unsent atomic.Bool
}

func (c *relayCall) answered(resp *wire.Msg, err error) {
	var exit *child.ExitError
	if err != nil && c.sending.Load() && !errors.As(err, &exit) {
		c.unsent.Store(true)
		return
	}
	c.timer.Stop()
	if err != nil {
		err = c.failure(err)
	}
	c.finish(resp, err)
	c.done(resp, err)
}

func (c *relayCall) expire() {
	if !c.rt.conn.Cancel(c.id, "timed out") {
		return // answered meanwhile
	}
	err := fmt.Errorf("%w after %s (timeout_seconds %.0f); the call was cancelled at the server",
		ErrCallTimeout, time.Since(c.t0).Round(time.Millisecond), c.srv.Timeout.Seconds())
	c.finish(nil, err)
	c.done(nil, err)
}

func (c *relayCall) cancel(reason string) {
	if c.rt.conn.Cancel(c.id, reason) {
		c.timer.Stop()
		c.finish(nil, fmt.Errorf("call cancelled: %w", child.ErrCancelled))
	}
}

// failure names what ended a call that got no answer.
func (c *relayCall) failure(err error) error {
	var exit *child.ExitError
	switch {
	case errors.As(err, &exit) && exit.Exit.Requested:
		return fmt.Errorf("%w: %s was stopped during the call", ErrStopping, c.srv.ID)
	case errors.As(err, &exit):
		return fmt.Errorf("%w: %v; it is being restarted under the same name", ErrCrashed, exit)
	}
	return fmt.Errorf("calling %s: %w", c.srv.Name, err)
}

// finish keeps the server's figures and records the call's event.
func (c *relayCall) finish(resp *wire.Msg, err error) {
	end := time.Now()
	d := end.Sub(c.t0)
	st := c.rt.stats
	st.inFlight.Add(-1)
	st.touch(end)
	if resp != nil {
		st.answered(&exchange{at: end, rtt: d, via: "call", gen: c.rt.gen, pid: c.rt.conn.PID(), exited: c.rt.conn.Reaped()})
	}
	if c.method != "tools/call" {
		return
	}
	data := map[string]any{"tool": c.tool, "duration_ms": float64(d.Microseconds()) / 1000, "via": c.via}
	ev := Event{Event: EventToolExecuted, ServerID: c.srv.ID, Data: data}
	switch {
	case err != nil:
		st.errorsTotal.Add(1)
		data["error"], ev.Event = err.Error(), EventToolError
		if errors.Is(err, ErrCallTimeout) {
			ev.Event = EventToolTimeout
		}
	case resp.Error != nil: // as the actor path records it
		st.errorsTotal.Add(1)
		data["error"], ev.Event = (&child.RPCError{Code: resp.Error.Code, Message: resp.Error.Message}).Error(), EventToolError
	case isToolError(resp.Result):
		st.errorsTotal.Add(1)
		data["is_error"] = true
	}
	c.sys.deps.root.Send(c.sys.deps.events, &publish{Event: ev})
}

var isErrorKey = []byte(`"isError"`)

// isToolError reads a CallToolResult's isError; a cheap search first, as
// most results are not errors.
func isToolError(raw json.RawMessage) bool {
	if !bytes.Contains(raw, isErrorKey) {
		return false
	}
	var f isErrorField
	_ = json.Unmarshal(raw, &f)
	return f.IsError
}

// Notify sends a notification to a server's running child; false when it
// has none.
func (s *System) Notify(srv *DirServer, method string, params json.RawMessage) bool {
	rt := srv.route
	if rt == nil || isClosed(rt.conn.Reaped()) {
		return false
	}
	return rt.conn.Notify(context.Background(), method, params) == nil
}

// Call is CallTool the quickest way: on the relay path when the server's
// child is running (no actor hop, no goroutine) and the call has no raw
// Params, else through the root (which holds it during a restart). The
// reply and errors are CallTool's.
func (s *System) Call(m *CallTool) (*ToolResult, error) {
	srv, ok := s.Directory().Server(m.ServerID)
	if ok && m.Params == nil {
		type answer struct {
			m   *wire.Msg
			err error
		}
		ch := make(chan answer, 1)
		params, t0 := callParams(m.Tool, m.Arguments), time.Now()
		cancel, sent := s.relay(srv, "tools/call", params, m.Deadline, "execute_on_server", func(r *wire.Msg, err error) { ch <- answer{r, err} })
		if sent {
			var a answer
			select {
			case a = <-ch:
			case <-contextDone(m.Ctx):
				cancel("cancelled by the client")
				return nil, fmt.Errorf("call cancelled: %w", child.ErrCancelled)
			}
			res, err := relayResult(srv, a.m, a.err)
			if res != nil {
				res.Duration = time.Since(t0)
			}
			return res, err
		}
	}
	res, err := s.Ask(m, callBound)
	if err != nil {
		return nil, err
	}
	return res.(*ToolResult), nil
}

// callBound guards against a reply lost to a bug: every call is answered
// by its deadline (timeout_seconds is at most 3600).
const callBound = 3600*time.Second + time.Minute

func contextDone(ctx context.Context) <-chan struct{} {
	if ctx == nil {
		return nil
	}
	return ctx.Done()
}

// callParams are a tools/call's params from a tool name and raw arguments.
func callParams(tool string, args json.RawMessage) json.RawMessage {
	if len(args) == 0 {
		args = json.RawMessage("{}")
	}
	b := append([]byte(`{"name":`), wire.AppendString(nil, tool)...)
	b = append(append(append(b, `,"arguments":`...), args...), '}')
	return b
}

// RelayOutcome turns a relayed tools/call's answer into CallTool's reply
// and error, as execute_on_server reports them.
func RelayOutcome(srv *DirServer, m *wire.Msg, err error) (*ToolResult, error) {
	return relayResult(srv, m, err)
}

// relayResult turns a relayed answer into CallTool's reply.
func relayResult(srv *DirServer, m *wire.Msg, err error) (*ToolResult, error) {
	if err != nil {
		return nil, err
	}
	if m.Error != nil {
		return nil, fmt.Errorf("calling %s: %w", srv.Name, &child.RPCError{Code: m.Error.Code, Message: m.Error.Message, Data: m.Error.Data})
	}
	return &ToolResult{Result: m.Result, IsError: isToolError(m.Result)}, nil
}
