// Package session is one MCP client's session with metamcp, over any
// line-framed transport (stdio today; each streamable HTTP session later).
// It is the gateway: it shows the client the children's tools, resources
// and prompts next to metamcp's own meta tools, routes each request to the
// right child, and carries everything else of MCP both ways — progress,
// cancellation, logging, list changes, resource updates, and the
// children's requests to the client (sampling, elicitation, roots).
//
// Contract:
//   - The hot path — a call of a child tool by its gateway name on a
//     running server — decodes only the envelope and the fields routing
//     needs (name, _meta), sends the arguments and returns the child's
//     result as raw bytes, with no actor hop and no goroutine per call
//     (actors.System.Relay). A server that is not running is reached the
//     actor way (actors.CallTool), which waits for its restart.
//   - Everything else that is not the gateway's — initialize, the meta
//     tools — is served by the meta front end (package mcpbridge, on
//     mcp-go), to which the session hands the raw message.
//   - Ids are remapped both ways: a child never sees the client's ids or
//     progress tokens, nor the client a child's; each answer goes back to
//     whoever asked, under the id they used.
//   - A child's request reaches the client only if the client declared
//     the capability in initialize; otherwise the child gets a JSON-RPC
//     error saying why.
//   - Every failure is an MCP error a person can act on, and the session
//     goes on. Serve returns when the input ends; then every request the
//     session still owes an answer is released and every goroutine it
//     started has ended.
//
// What is named how (tools, prompts, resource URIs) is package gateway's;
// docs/gateway.md is the user's account of all of it.
package session
