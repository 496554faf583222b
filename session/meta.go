package session

import (
	"context"
	"encoding/json"
	"sync"
	"sync/atomic"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/metamcp/metamcp/wire"
)

// metaSession is the session as mcp-go sees it: where the meta front end
// sends its notifications, and where initialize leaves the client's
// capabilities.
type metaSession struct {
	s           *Session
	notes       chan mcp.JSONRPCNotification
	initialized atomic.Bool
	level       atomic.Value // mcp.LoggingLevel
	info        atomic.Value // mcp.Implementation
	capsMu      sync.Mutex
	caps        mcp.ClientCapabilities
	done        chan struct{} // the notification pump has ended
}

var (
	_ server.ClientSession         = (*metaSession)(nil)
	_ server.SessionWithClientInfo = (*metaSession)(nil)
	_ server.SessionWithLogging    = (*metaSession)(nil)
)

func (m *metaSession) SessionID() string                                   { return "stdio" }
func (m *metaSession) NotificationChannel() chan<- mcp.JSONRPCNotification { return m.notes }
func (m *metaSession) Initialize()                                         { m.initialized.Store(true) }
func (m *metaSession) Initialized() bool                                   { return m.initialized.Load() }
func (m *metaSession) SetLogLevel(l mcp.LoggingLevel)                      { m.level.Store(l) }

func (m *metaSession) GetLogLevel() mcp.LoggingLevel {
	if l, ok := m.level.Load().(mcp.LoggingLevel); ok {
		return l
	}
	return mcp.LoggingLevelError
}

func (m *metaSession) GetClientInfo() mcp.Implementation {
	i, _ := m.info.Load().(mcp.Implementation)
	return i
}

func (m *metaSession) SetClientInfo(i mcp.Implementation) { m.info.Store(i) }

func (m *metaSession) GetClientCapabilities() mcp.ClientCapabilities {
	m.capsMu.Lock()
	defer m.capsMu.Unlock()
	return m.caps
}

// SetClientCapabilities is called by initialize: the gateway forwards the
// children's requests that the client declared it can answer.
func (m *metaSession) SetClientCapabilities(c mcp.ClientCapabilities) {
	m.capsMu.Lock()
	m.caps = c
	m.capsMu.Unlock()
	m.s.caps.Store(&clientCaps{sampling: c.Sampling != nil, elicitation: c.Elicitation != nil, roots: c.Roots != nil})
}

// startMeta registers the session with the meta front end and pumps its
// notifications to the client.
func (s *Session) startMeta() error {
	s.meta = &metaSession{s: s, notes: make(chan mcp.JSONRPCNotification, 100), done: make(chan struct{})}
	if err := s.opts.Meta.RegisterSession(s.ctx, s.meta); err != nil {
		return err
	}
	go func() {
		defer close(s.meta.done)
		for {
			select {
			case n := <-s.meta.notes:
				if b, err := json.Marshal(n); err == nil {
					_ = s.peer.Write(b)
				}
			case <-s.ctx.Done():
				return
			}
		}
	}()
	return nil
}

func (s *Session) stopMeta() {
	s.opts.Meta.UnregisterSession(context.Background(), s.meta.SessionID())
	s.cancel()
	<-s.meta.done
}

// delegate hands a message to the meta front end. A tools/call (a meta
// tool may take long) runs on its own goroutine; the rest, quick and
// ordered (initialize before notifications/initialized), here.
func (s *Session) delegate(m *wire.Msg) {
	if m.Method == "tools/call" {
		s.spawn(m, s.handleMeta)
		return
	}
	res, e := s.handleMeta(s.ctx, m)
	if m.IsRequest() {
		s.answer(m.ID, res, e)
	}
}

// handleMeta runs one message through mcp-go and returns its answer.
func (s *Session) handleMeta(ctx context.Context, m *wire.Msg) (json.RawMessage, *wire.Error) {
	raw := wire.AppendMessage(nil, m)
	resp := s.opts.Meta.HandleMessage(s.opts.Meta.WithContext(ctx, s.meta), raw)
	if resp == nil {
		return nil, nil
	}
	b, err := json.Marshal(resp)
	if err != nil {
		return nil, &wire.Error{Code: wire.CodeInternal, Message: "encoding the answer: " + err.Error()}
	}
	out, err := wire.Decode(b)
	if err != nil {
		return nil, &wire.Error{Code: wire.CodeInternal, Message: "the meta front end gave no answer: " + err.Error()}
	}
	return out.Result, out.Error
}
