// Package specstore keeps the specification of every server the client
// created, so that the next run of metamcp in the same session can start
// them again under the same server_ids (config restore_servers).
//
// # Layout
//
// One JSON file per server, in the session's state directory
// (config.Config.SessionDir):
//
//	servers/<server_id>.json   a Record (mode 0600)
//	servers.key                32 random bytes (mode 0600), made on first need
//
// A file is written whole to a temporary name, fsync'd and renamed over the
// old one, and the directory is fsync'd: a crash leaves the old record or
// the new one, never a torn one. Files are small and few (one per server),
// so plain files beat a database here: they are readable with cat, and a
// person can delete one to forget a server.
//
// # Secrets
//
// The values of a server's env (create_server's config.env: API keys,
// tokens) are never written in clear. Their names are (Record.EnvNames);
// the values are sealed together with AES-256-GCM under servers.key, bound
// to the server_id, in Record.EnvSealed. This keeps them out of anything
// that reads or copies the records — a backup of the state directory
// without the key, a record pasted into a bug report, a secret scanner —
// but not from a process running as the same user, which can read the key
// (and could read metamcp's memory anyway). A record whose sealed env
// cannot be opened (key deleted or replaced) is reported by Load with
// ErrSealed and its server is not restored. Arguments (args) are stored in
// clear: pass secrets through env, not argv.
//
// # What it owns and promises
//
//   - One writer goroutine, started by Open and ended by Close after it has
//     written everything queued. Put and Delete do not wait for the disk:
//     they queue the operation (waiting only when 256 are queued already);
//     the writer applies operations in the order they were queued.
//   - A record whose env cannot be sealed (the key cannot be made) is
//     written with the env names only; Load reports it with ErrSealed.
//   - A file in servers/ whose name is not a server id is renamed to
//     .ignored at Load, and never restored.
//   - Sync waits until everything queued before it is on disk; metamcp
//     calls it before it answers create_server, so a server the client was
//     told about survives a SIGKILL right after.
//   - Load reads every record once, at start-up, before anything is queued.
//     A record that cannot be read is returned with its error, never
//     skipped in silence.
//   - The store takes no lock of its own: the session's event store holds
//     the session (a second instance is refused before it gets here).
package specstore
