// Package mcpbridge is metamcp's MCP front end: the tools the AI client
// sees. Each tool call is validated, turned into one or more actor messages
// (see package actors), and the replies turned back into an MCP result.
//
// Contract:
//   - Every tool returns a JSON object as structuredContent and the same JSON
//     as a text content item.
//   - Every failure — bad arguments, an unknown server, a crash, a timeout —
//     is a tool result with isError true and a message a person can act on.
//     Handlers never panic and never return a Go error, so the session lives on.
//   - Unknown arguments are refused, naming the ones the tool takes.
//   - The bridge holds no state about servers: all of it lives in the actors.
//   - A client's cancellation of a call (notifications/cancelled) cancels the
//     call at the child.
//
// The tools are registered through a table (tools.go), so a later front end
// can add each child's own tools, namespaced, at run time and let mcp-go
// announce tools/list_changed.
package mcpbridge
