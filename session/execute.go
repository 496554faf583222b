package session

import (
	"time"

	"github.com/metamcp/metamcp/actors"
	"github.com/metamcp/metamcp/mcpbridge"
	"github.com/metamcp/metamcp/wire"
)

// executeOnServer serves a well-formed execute_on_server of a server whose
// child runs on the relay path, answering exactly as the tool does
// (mcpbridge.ExecuteAnswer) without the meta front end's decoding and
// encoding. It reports false, having done nothing, for anything else:
// the meta front end then serves it, refusals included.
func (s *Session) executeOnServer(m *wire.Msg, p callParams) bool {
	id, tool, args, err := mcpbridge.ExecuteArgs(p.Arguments)
	if err != nil {
		return false
	}
	srv, ok := s.sys.Directory().Server(id)
	if !ok || !srv.Running() {
		return false
	}
	key, t0 := string(m.ID), time.Now()
	s.track(key, func(string) {})
	cancel, ok := s.sys.RelayExecute(srv, callBody(tool, args, nil), func(resp *wire.Msg, err error) {
		if !s.untrack(key) {
			return
		}
		tr, err := actors.RelayOutcome(srv, resp, err)
		if tr != nil {
			tr.Duration = time.Since(t0)
		}
		_ = s.peer.Respond(m.ID, mcpbridge.ExecuteAnswer(id, tool, tr, err))
	})
	if !ok {
		s.untrack(key)
		return false
	}
	s.retrack(key, cancel)
	return true
}
