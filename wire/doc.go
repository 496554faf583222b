// Package wire speaks JSON-RPC 2.0 as MCP frames it on stdio: one message a
// line. It keeps every variable part of a message raw (json.RawMessage), so
// that a relay can pass params, results and errors through without decoding
// them, and it is shared by both ends of metamcp: the client-facing front end
// and the connection to each child.
//
// Contract:
//   - Decode reads a message's envelope in one pass; Params, Result, Error
//     and ID stay raw bytes that alias nothing the reader reuses.
//   - The Append functions build a message by appending to a byte slice; the
//     raw parts given to them are copied as they are (they must be valid
//     JSON, which Decode guarantees for parts it produced).
//   - A Writer writes whole lines under a mutex: concurrent writers never
//     interleave, and a message is one write.
//   - A Peer numbers its own requests, routes each response to the call
//     that is waiting for it, and fails every pending call with the reason
//     its owner gives to Close: no caller waits past that.
//   - Incoming requests and notifications go to the Peer's handlers on the
//     reading goroutine; handlers must not block.
package wire
