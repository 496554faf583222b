package session

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"sync"
	"sync/atomic"

	"github.com/mark3labs/mcp-go/server"
	"github.com/rs/zerolog"

	"github.com/metamcp/metamcp/actors"
	"github.com/metamcp/metamcp/wire"
)

// Options configure a Session.
type Options struct {
	System *actors.System
	// Meta serves what is not the gateway's: initialize, the meta tools
	// (mcpbridge). Its tools are listed when ShowMeta is set.
	Meta *server.MCPServer
	// ShowMeta lists the meta tools; ShowChildren lists the children's
	// tools, resources and prompts (mode meta, gateway or both, and
	// expose_tools: see docs/gateway.md).
	ShowMeta, ShowChildren bool
	// ShowChildTools lists the children's tools (expose_tools); without
	// it their resources and prompts are still shown.
	ShowChildTools bool
	Log            zerolog.Logger
}

// Session is one client's session.
type Session struct {
	opts Options
	sys  *actors.System
	log  zerolog.Logger
	peer *wire.Peer // the client
	meta *metaSession

	cat     atomic.Pointer[catalog]
	prompts atomic.Pointer[promptTable] // as the last prompts/list named them
	caps    atomic.Pointer[clientCaps]
	level   atomic.Pointer[json.RawMessage] // the client's logging/setLevel params

	ctx    context.Context // ends when the session does
	cancel context.CancelFunc
	wg     sync.WaitGroup // the session's goroutines

	mu        sync.Mutex
	inflight  map[string]func(reason string) // client request id → its cancel
	tokens    map[string]json.RawMessage     // our progress token → the client's
	asked     map[childReq]int64             // a child's request → ours to the client
	leveled   map[string]uint64              // server id → connection its log level was set on
	tokenN    atomic.Int64
	dirty     chan struct{}     // a new directory is out (watchDirectory)
	gens      map[string]uint64 // server id → its child when last seen (under refreshMu)
	refreshMu sync.Mutex        // one refresh at a time
}

type childReq struct{ server, id string }

// clientCaps are what the client declared in initialize.
type clientCaps struct{ sampling, elicitation, roots bool }

// New makes a session; Serve runs it.
func New(o Options) *Session {
	ctx, cancel := context.WithCancel(context.Background())
	return &Session{opts: o, sys: o.System, log: o.Log, ctx: ctx, cancel: cancel,
		inflight: map[string]func(string){}, tokens: map[string]json.RawMessage{},
		asked: map[childReq]int64{}, leveled: map[string]uint64{}, dirty: make(chan struct{}, 1), gens: map[string]uint64{}}
}

// Serve speaks MCP over in and out until in ends or ctx is cancelled (then
// in is closed, if it can be). Every goroutine of the session has ended
// when it returns.
func (s *Session) Serve(ctx context.Context, in io.Reader, out io.Writer) error {
	s.peer = wire.NewPeer(wire.NewWriter(out))
	s.peer.OnRequest, s.peer.OnNotification, s.peer.OnInvalid = s.request, s.notification, s.invalid
	if err := s.startMeta(); err != nil {
		return err
	}
	defer s.stopMeta()
	s.cat.Store(&catalog{})
	if s.opts.ShowChildren {
		s.refresh()
		s.wg.Add(1)
		go s.watchDirectory()
		s.sys.SetClients(s)
		s.sys.OnDirectory(s.directoryChanged)
	}
	read := make(chan error, 1)
	go func() { read <- s.peer.Serve(wire.NewReader(in, 0)) }()
	var err error
	select {
	case err = <-read:
	case <-ctx.Done():
		if c, ok := in.(io.Closer); ok {
			c.Close()
		}
	}
	s.end()
	return err
}

// end releases what the session owes: its requests to the client fail,
// its goroutines are cancelled and waited for.
func (s *Session) end() {
	s.sys.OnDirectory(func() {})
	s.peer.Close(errClientGone)
	s.cancel()
	s.wg.Wait()
}

var errClientGone = errors.New("the MCP client has disconnected")

// request serves one request of the client, on the reading goroutine:
// what is quick is answered here, what waits runs on a goroutine.
func (s *Session) request(m *wire.Msg) {
	if !s.opts.ShowChildren && m.Method != "tools/call" { // execute_on_server's fast path stays
		s.delegate(m)
		return
	}
	switch m.Method {
	case "tools/call":
		s.toolsCall(m)
	case "tools/list":
		s.toolsList(m)
	case "ping":
		_ = s.peer.Respond(m.ID, nil)
	case "logging/setLevel":
		s.setLevel(m)
	case "resources/list", "resources/templates/list", "prompts/list",
		"resources/read", "resources/subscribe", "resources/unsubscribe", "prompts/get", "completion/complete":
		s.spawn(m, s.routed)
	default:
		s.delegate(m)
	}
}

// notification serves one notification of the client.
func (s *Session) notification(m *wire.Msg) {
	switch m.Method {
	case "notifications/cancelled":
		s.clientCancelled(m)
	case "notifications/roots/list_changed":
		s.fanOut(m)
	default:
		s.delegate(m)
	}
}

// invalid answers a line that is not a JSON-RPC message.
func (s *Session) invalid(_ []byte, err error) {
	if errors.Is(err, wire.ErrHandlerPanic) { // our bug, not the client's: logged, the session goes on
		s.log.Error().Err(err).Msg("a message of the client made metamcp panic")
		return
	}
	_ = s.peer.RespondError(nil, &wire.Error{Code: wire.CodeParseError, Message: "not a JSON-RPC message: " + err.Error()})
}

// spawn runs a request that waits (for children) on its own goroutine,
// cancellable by the client.
func (s *Session) spawn(m *wire.Msg, serve func(ctx context.Context, m *wire.Msg) (json.RawMessage, *wire.Error)) {
	ctx, cancel := context.WithCancel(s.ctx)
	key := string(m.ID)
	s.track(key, func(string) { cancel() })
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer cancel()
		res, e := serve(ctx, m)
		if !s.untrack(key) {
			return // cancelled: no answer is due
		}
		s.answer(m.ID, res, e)
	}()
}

func (s *Session) answer(id, result json.RawMessage, e *wire.Error) {
	if e != nil {
		_ = s.peer.RespondError(id, e)
		return
	}
	_ = s.peer.Respond(id, result)
}

func (s *Session) track(key string, cancel func(string)) {
	s.mu.Lock()
	s.inflight[key] = cancel
	s.mu.Unlock()
}

// untrack reports whether the request was still in flight (not cancelled).
func (s *Session) untrack(key string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.inflight[key]
	delete(s.inflight, key)
	return ok
}

// clientCancelled stops the request the client cancelled.
func (s *Session) clientCancelled(m *wire.Msg) {
	var p struct {
		RequestID json.RawMessage `json:"requestId"`
		Reason    string          `json:"reason"`
	}
	if json.Unmarshal(m.Params, &p) != nil {
		return
	}
	s.mu.Lock()
	cancel := s.inflight[string(p.RequestID)]
	delete(s.inflight, string(p.RequestID))
	s.mu.Unlock()
	if cancel != nil {
		cancel("cancelled by the client: " + p.Reason)
		return
	}
	s.delegate(m) // a meta tool's call, if any, is mcp-go's
}
