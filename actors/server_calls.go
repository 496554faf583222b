package actors

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/metamcp/metamcp/actors/child"
)

// call serves a CallTool: at once when running, after the handshake when
// starting. A call whose deadline has passed is not sent to the child.
func (a *serverActor) call(ctx actor.Context, m *CallTool) {
	if m.Deadline.IsZero() {
		m.Deadline = time.Now().Add(a.spec.Timeout)
	}
	switch {
	case time.Now().After(m.Deadline):
		respond(ctx, a.notReadyError())
	case a.state == StateRunning:
		a.dispatch(ctx, m, ctx.Sender())
	case a.state == StateStarting:
		a.queue.add(a.deps, ctx.Self(), a.spec.ID, waitingCall{msg: m, sender: ctx.Sender()})
	default:
		respond(ctx, fmt.Errorf("%w (%s)", ErrNotRunning, a.state))
	}
}

// dispatch runs one call on its own goroutine, which replies to the caller.
// A call for a child that has exited but whose exit the actor has not yet
// handled waits in the queue: the restart hands it back to the root, which
// holds it for the next child.
func (a *serverActor) dispatch(ctx actor.Context, m *CallTool, sender *actor.PID) {
	if time.Now().After(m.Deadline) {
		a.deps.reply(sender, a.notReadyError())
		return
	}
	if isClosed(a.conn.Reaped()) {
		a.queue.add(a.deps, ctx.Self(), a.spec.ID, waitingCall{msg: m, sender: sender})
		return
	}
	a.stats.inFlight.Add(1)
	a.stats.callsTotal.Add(1)
	conn, events := a.conn, a.deps.events
	parent, gen := a.connCtx, a.gen
	a.wg.Add(1)
	self := ctx.Self()
	waited := time.Duration(0) // since the root received it: held for a restart or a start
	if !m.arrived.IsZero() {
		waited = time.Since(m.arrived)
	}
	go func() {
		defer a.wg.Done()
		cctx, cancel := callContext(parent, m)
		t0 := time.Now()
		var raw json.RawMessage
		var err error
		if m.Params != nil {
			raw, err = conn.Request(cctx, "tools/call", m.Params)
		} else {
			raw, err = conn.CallTool(cctx, m.Tool, m.Arguments)
		}
		cancel()
		if errors.Is(err, child.ErrNotSent) { // the child is gone: the call waits for the next
			a.stats.inFlight.Add(-1)
			a.stats.callsTotal.Add(-1)
			a.deps.root.Send(self, &unsent{gen: gen, call: waitingCall{msg: m, sender: sender}})
			return
		}
		if err != nil && parent.Err() != nil && !crashed(err) {
			err = fmt.Errorf("%w: the server was stopped during the call", ErrStopping)
		}
		end := time.Now()
		elapsed := end.Sub(t0)
		a.stats.inFlight.Add(-1)
		a.stats.touch(end)
		if answered(err) {
			a.stats.answered(&exchange{at: end, rtt: elapsed, via: "call", gen: gen, pid: conn.PID(), exited: conn.Reaped()})
		}
		reply, ev := a.outcome(m, raw, err, elapsed, waited)
		a.deps.root.Send(events, &publish{Event: ev})
		a.deps.reply(sender, reply)
	}()
}

// answered says whether a call's outcome came from the child: a result or a
// JSON-RPC error (not a timeout, a cancellation or a dead connection).
func answered(err error) bool {
	var rpc *child.RPCError
	return err == nil || errors.As(err, &rpc)
}

// crashed says whether a call failed because the child exited on its own
// (not because metamcp stopped it).
func crashed(err error) bool {
	var exit *child.ExitError
	return errors.As(err, &exit) && !exit.Exit.Requested
}

// callContext ends when the server shuts down, the call's deadline passes,
// or the caller cancels.
func callContext(parent context.Context, m *CallTool) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithDeadline(parent, m.Deadline)
	if m.Ctx == nil {
		return ctx, cancel
	}
	stop := context.AfterFunc(m.Ctx, cancel)
	return ctx, func() { stop(); cancel() }
}

type isErrorField struct {
	IsError bool `json:"isError"`
}

// outcome turns a finished call into its reply and its event.
func (a *serverActor) outcome(m *CallTool, raw json.RawMessage, err error, d, waited time.Duration) (any, Event) {
	data := map[string]any{"tool": m.Tool, "duration_ms": float64(d.Microseconds()) / 1000}
	ev := Event{Event: EventToolExecuted, ServerID: a.spec.ID, Data: data}
	if err != nil {
		a.stats.errorsTotal.Add(1)
		err = a.callError(err, d, waited)
		data["error"] = err.Error()
		ev.Event = EventToolError
		if errors.Is(err, ErrCallTimeout) {
			ev.Event = EventToolTimeout
		}
		return err, ev
	}
	var f isErrorField
	_ = json.Unmarshal(raw, &f)
	if f.IsError {
		a.stats.errorsTotal.Add(1)
		data["is_error"] = true
	}
	return &ToolResult{Result: raw, IsError: f.IsError, Duration: d}, ev
}

func (a *serverActor) callError(err error, d, waited time.Duration) error {
	var exit *child.ExitError
	switch {
	case errors.Is(err, ErrStopping):
		return err
	case errors.As(err, &exit):
		return fmt.Errorf("%w: %v", ErrCrashed, exit)
	case errors.Is(err, child.ErrTimeout) && waited > d:
		// Most of its time went on waiting for the server (a restart).
		return fmt.Errorf("%w: it waited %s for the server to be ready and had %s left at it; "+
			"the call was cancelled at the server", ErrCallTimeout, waited.Round(time.Millisecond), d.Round(time.Millisecond))
	case errors.Is(err, child.ErrTimeout):
		return fmt.Errorf("%w after %s (timeout_seconds %.0f); the call was cancelled at the server",
			ErrCallTimeout, d.Round(time.Millisecond), a.spec.Timeout.Seconds())
	case errors.Is(err, child.ErrCancelled):
		return fmt.Errorf("call cancelled after %s: %w", d.Round(time.Millisecond), err)
	}
	return fmt.Errorf("calling %s: %w", a.spec.Name, err)
}

// probe answers with live figures: an MCP ping and resident memory. A
// successful ping is recorded as the child's last answer.
func (a *serverActor) probe(ctx actor.Context) {
	h := &Health{Status: a.state}
	if a.state != StateRunning {
		respond(ctx, h)
		return
	}
	h.PID = a.conn.PID()
	if rss, err := a.conn.ResidentBytes(); err == nil {
		mb := float64(rss) / (1 << 20)
		h.RSSMB = &mb
	}
	sender, conn, parent, gen := ctx.Sender(), a.conn, a.connCtx, a.gen
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		pctx, cancel := context.WithTimeout(parent, pingTimeout)
		rtt, err := conn.Ping(pctx)
		cancel()
		if err != nil {
			h.Error = "ping failed: " + err.Error()
		} else {
			ms := float64(rtt.Microseconds()) / 1000
			h.PingMS, h.Healthy = &ms, true
			a.stats.answered(&exchange{at: time.Now(), rtt: rtt, via: "ping", gen: gen, pid: h.PID, exited: conn.Reaped()})
		}
		a.deps.reply(sender, h)
	}()
}

const pingTimeout = 5 * time.Second

// refreshTools lists the child's tools again after it announced a change.
func (a *serverActor) refreshTools(ctx actor.Context, m *toolsChanged) {
	if m.gen != a.gen || a.state != StateRunning {
		return
	}
	self, conn, parent, gen := ctx.Self(), a.conn, a.connCtx, a.gen
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		lctx, cancel := context.WithTimeout(parent, a.deps.cfg.StartTimeout())
		defer cancel()
		tools, err := conn.ListTools(lctx)
		if err != nil {
			a.log.Warn().Err(err).Msg("listing tools after tools/list_changed")
			return
		}
		a.deps.root.Send(self, &toolsListed{gen: gen, tools: tools})
	}()
}

func (a *serverActor) toolsListed(ctx actor.Context, m *toolsListed) {
	if m.gen != a.gen || a.state != StateRunning {
		return
	}
	info := *a.info
	info.Tools = m.tools
	a.info = &info
	a.tell(ctx, StateRunning, a.info)
	a.publish(ctx, EventToolsChanged, map[string]any{"tools": len(m.tools)})
}

// requeue takes back a call that never reached its child: the next child
// gets it (the actor restarts) unless this one is already the next.
func (a *serverActor) requeue(ctx actor.Context, m *unsent) {
	if m.gen != a.gen && a.state == StateRunning {
		a.dispatch(ctx, m.call.msg, m.call.sender)
		return
	}
	a.queue.add(a.deps, ctx.Self(), a.spec.ID, m.call)
}

// handBack gives the calls still waiting to the root when the actor
// restarts: it holds them for the next child, each until its deadline, or
// answers them if the server will not come back (crash_loop).
func (a *serverActor) handBack(ctx actor.Context) {
	for _, c := range a.queue.take() {
		a.deps.root.RequestWithCustomSender(ctx.Parent(), c.msg, c.sender)
	}
}
