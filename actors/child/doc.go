// Package child owns one child MCP server process and the MCP client session
// with it.
//
// A Conn is made by Start, which forks the process in its own process group
// (with parent-death signalling where the OS has it), wires its stdin and
// stdout to an MCP JSON-RPC session and drains its stderr continuously into a
// bounded ring of recent lines and the log. Exactly one goroutine waits for
// the process; when it exits, for whatever reason, every call in flight fails
// at once with an *ExitError naming the exit and the last stderr line, and
// Options.OnExit is called once.
//
// Close stops the process by a ladder — close stdin, wait StopGrace, SIGTERM
// the group, wait StopGrace, SIGKILL the group — and returns only when the
// process has been reaped and every goroutine the Conn started has ended. Close
// is idempotent and safe to call from any goroutine. A Conn never leaves a
// process running once Close has returned.
//
// Calls may run concurrently: MCP allows many requests in flight on one
// connection. A call whose context ends before the child answers is cancelled
// at the child with notifications/cancelled.
package child
