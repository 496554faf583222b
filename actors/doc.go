// Package actors is metamcp's supervision tree, built on protoactor-go.
//
//	root supervisor (root.go)         registry of servers, routing, restart policy
//	├── events      (events.go)       the event history (on disk: eventstore/)
//	├── pool        (pool.go)         servers kept per template for reuse
//	├── monitor     (monitor.go)      one /proc scan per round: memory and CPU by group
//	└── srv_…       (server.go)       one per child MCP server; owns its process
//
// The front end talks to the tree only through System.Ask with the exported
// request messages of messages.go; each is answered with the reply type its
// comment names or with an error wrapping a sentinel of errors.go.
//
// Promises:
//   - A server actor owns exactly one child process at a time and never
//     leaves it running: on Restarting and Stopping it stops the process by
//     the ladder (close stdin, SIGTERM the group, SIGKILL the group) and waits
//     until it is reaped.
//   - Calls to one server run concurrently, each on its own goroutine; a slow
//     call does not hold the server actor's mailbox.
//   - When a child exits unexpectedly, calls in flight fail at once with the
//     exit and the child's last stderr line; the server actor fails and the
//     root supervisor restarts it after a jittered exponential backoff under
//     the same server_id — as its restart policy (permanent, transient,
//     temporary) says — or, after too many failures in the window, leaves
//     it listed in crash_loop; one its policy does not restart stays listed
//     as stopped. restart_server brings either back.
//   - A child whose process group passes max_memory_mb is killed, and the
//     policy decides.
//   - No descendant of a child outlives metamcp: every child carries the
//     instance's mark, and a guardian process — running before the first
//     child is forked, however long Options.DeferStartup puts it off —
//     kills what is marked when metamcp dies (actors/child).
//   - list_servers, get_server_capabilities and health checks of servers
//     that are not running are answered from the root's registry, so they
//     never wait on a suspended actor.
//   - Every lifecycle change is published to the event-stream actor, which
//     records it without waiting on the disk; the history is kept on disk by
//     actors/eventstore, per session, across runs. Start fails, starting
//     nothing, when another instance holds the session (ErrLocked of
//     eventstore); Shutdown closes the store after the tree has stopped, so
//     the last events are written.
//   - Every server the client created is recorded (actors/specstore) before
//     the create is answered, and forgotten before a stop is answered; a
//     shutdown forgets nothing. With restore_servers on, Start hands the
//     last run's servers to the root, which lists them at once under their
//     server_ids and starts them concurrently; one that cannot come back is
//     listed as restore_failed with the reason and holds no other back.
package actors
