package session

import (
	"context"
	"encoding/json"

	"github.com/metamcp/metamcp/wire"
)

// routed serves the requests that go to children other than tools/call:
// lists merged from every child, reads and gets routed to one.
func (s *Session) routed(ctx context.Context, m *wire.Msg) (json.RawMessage, *wire.Error) {
	return nil, &wire.Error{Code: wire.CodeMethodNotFound, Message: m.Method + " is not routed to children yet"}
}

func (s *Session) childUpdated(serverID string, m *wire.Msg) {}
