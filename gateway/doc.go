// Package gateway is the pure part of metamcp's gateway mode: the names
// under which the tools, prompts and resources of many child servers are
// listed as metamcp's own, and the way back from such a name to the server
// and the name the child gave. It knows no transport, no actors and no MCP
// types: strings in, strings out.
//
// Contract:
//   - Every exposed tool or prompt name matches ^[a-zA-Z0-9_-]{1,64}$, and
//     is "<server>__<name>" whenever that is valid and free.
//   - Names are a function of the set of refs, never of their order; a
//     name that had to change (sanitized, cut, taken) ends in a hash of the
//     server id and the child's name, so it is stable while the set's plain
//     names are.
//   - An exposed name maps back to exactly one ref, and a reserved name
//     (metamcp's own tools) is never handed out. Table.Lookup is O(1) and
//     does not allocate.
//   - ResolveURI undoes ExposeURI for every URI, and exposing a URI
//     template commutes with expanding it (RFC 6570), so a URI made from a
//     template that was never listed routes back too.
//   - Nothing here keeps state or starts goroutines; a Table is read-only
//     once built and safe for concurrent use.
//
// The mapping, with examples, is in docs/gateway.md ("Naming"). Which
// tools a server shows at all is config.ToolFilter (create_server's and a
// template's "tools"): it lives in config so that the actors can hold it
// without importing a front-end package.
package gateway
