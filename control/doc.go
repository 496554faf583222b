// Package control is metamcp's control plane: how a person (or a script)
// reaches a running `metamcp serve`, whose stdio belongs to the MCP client.
//
// It owns, per instance, in the runtime directory (RuntimeDir):
//
//	metamcp-<pid>.sock   the control endpoint, a Unix socket, mode 0600
//	metamcp-<pid>.json   the instance's Record (pid, start, version, config,
//	                     the MCP client's name and version, addresses)
//
// and serves a small HTTP/JSON API on the socket and, when asked, on one
// loopback TCP address (see Server for the routes). Client and Instances
// are the other end, used by the metamcp CLI.
//
// Promises:
//   - The runtime directory is $XDG_RUNTIME_DIR/metamcp when XDG_RUNTIME_DIR
//     is set and absolute, else os.UserCacheDir()/metamcp/run. It is created
//     0700; Start refuses one that is not a directory owned by this user with
//     mode 0700 (ErrUnsafeDir).
//   - The socket is created inside that private directory, so no other user
//     can reach it even before it is chmod'ed to 0600 right after listen;
//     no process-wide umask is touched.
//   - The optional TCP address must be a loopback address (ErrNotLoopback).
//   - Server.Close ends every request and stream, stops the listeners,
//     removes the socket and the record, and returns when every goroutine
//     the server started has ended. It is idempotent. serve calls it before
//     the actor system stops.
//   - The server only reads the actor system through System.Ask (and its
//     catalog and config); it keeps no state about servers. Metrics are fed
//     by actors.Options.OnEvent (Metrics.Observe), which never blocks.
//   - Instances (and so Dial) recognise a stale instance — a record or
//     socket whose process is gone or whose socket refuses connections — and
//     remove its files.
//
// Errors are sentinels in errors.go; the API answers errors as JSON
// {"error": "..."} with a status code: 400 bad request, 404 unknown server
// or route, 409 server stopping or not running, 503 shutting down, 504 no
// answer in time, 500 anything else.
package control
