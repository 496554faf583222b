package actors

import (
	"time"

	"github.com/asynkron/protoactor-go/actor"
)

// TreeNode is one actor of the supervision tree as it describes itself.
type TreeNode struct {
	Name     string         `json:"name"`  // "root", "events", "pool", "monitor", or a server_id
	Kind     string         `json:"kind"`  // "supervisor", "events", "pool", "monitor", "server"
	Actor    string         `json:"actor"` // the protoactor id
	State    string         `json:"state"`
	Server   *ServerInfo    `json:"server,omitempty"` // servers: the root's registry row
	Detail   map[string]any `json:"detail,omitempty"`
	Children []*TreeNode    `json:"children,omitempty"`
	Error    string         `json:"error,omitempty"` // the actor did not answer
}

// describeTimeout bounds the wait for one actor's answer: a busy or
// suspended actor is shown with an error instead of holding the tree.
const describeTimeout = 500 * time.Millisecond

// describeTree asks every child of the root for its node, concurrently
// (ReenterAfter: the root keeps serving meanwhile), and answers with the
// whole tree once all have answered or timed out.
// Servers without an actor (crash_loop, stopped) are described from the
// registry; a server actor suspended for a restart is too.
func (r *rootActor) describeTree(ctx actor.Context) {
	root := &TreeNode{Name: "root", Kind: "supervisor", Actor: ctx.Self().Id, State: "running",
		Detail: map[string]any{"servers": len(r.entries), "live": r.live(), "max_servers": r.deps.cfg.MaxConcurrentServers}}
	type pending struct {
		node *TreeNode
		f    *actor.Future
	}
	var asks []pending
	ask := func(n *TreeNode, pid *actor.PID) {
		asks = append(asks, pending{n, ctx.RequestFuture(pid, &describe{}, describeTimeout)})
	}
	for _, f := range []struct {
		name string
		pid  *actor.PID
	}{{"events", r.events}, {"pool", r.pool}, {"monitor", r.monitor}} {
		n := &TreeNode{Name: f.name, Kind: f.name, Actor: f.pid.Id}
		root.Children = append(root.Children, n)
		ask(n, f.pid)
	}
	for _, e := range r.sortedEntries() {
		info := r.info(e)
		n := &TreeNode{Name: e.spec.ID, Kind: "server", State: e.state, Server: &info}
		if e.actor != nil {
			n.Actor = e.actor.Id
		}
		root.Children = append(root.Children, n)
		if r.hasActor(e) && e.state != StateBackoff && !idle(e.state) {
			ask(n, e.actor)
		}
	}
	sender, remaining := ctx.Sender(), len(asks)
	if remaining == 0 {
		r.deps.reply(sender, root)
		return
	}
	for _, p := range asks {
		ctx.ReenterAfter(p.f, func(res any, err error) {
			if got, ok := res.(*TreeNode); ok && err == nil {
				p.node.State, p.node.Detail, p.node.Children = got.State, got.Detail, got.Children
			} else if err != nil {
				p.node.Error = "no answer: " + err.Error()
			}
			if remaining--; remaining == 0 {
				r.deps.reply(sender, root)
			}
		})
	}
}
