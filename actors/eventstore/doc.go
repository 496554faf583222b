// Package eventstore keeps metamcp's event history on disk, so that it
// outlives a run: one bbolt database per session, events.db in the
// session's state directory (config.Config.SessionDir).
//
// # Why bbolt
//
// go.etcd.io/bbolt is pure Go (no cgo, so metamcp stays one static binary),
// keeps everything in a single file, and is ACID: each write transaction is
// a copy-on-write B+tree update that is fsync'd before Commit returns, and
// the two alternating meta pages mean a crash at any moment leaves the last
// committed tree intact — there is no log to replay and no torn record to
// repair. It is maintained by the etcd project, which runs it under etcd.
// A second process cannot open the same file: Open takes an exclusive
// flock.
//
// # What it owns and promises
//
//   - The database file and one writer goroutine, started by Open and ended
//     by Close, which first writes everything that was queued.
//   - Append never blocks and never touches the disk: it numbers the event,
//     stamps it with the run, and hands it to the writer through a bounded
//     queue (Options.QueueSize). When the queue is full (the disk stalls),
//     the event is dropped from disk — Append says so, Stats counts it, and
//     the log says how many — and the caller keeps it in memory.
//   - The writer commits a batch when Options.BatchSize events are queued or
//     Options.FlushEvery after the first of them, whichever comes first,
//     taking into the commit everything that waits in the queue by then (so
//     that a writer that is behind catches up with fewer syncs); an event
//     that Options.OnFlush has seen is on disk (fsync'd).
//   - Ids are big-endian uint64 keys that continue across runs: the first
//     id of a run is one more than the last id on disk. Within a run they
//     are consecutive; an id dropped from disk leaves a gap.
//   - Each Open records a Run (number, start time, pid) in the runs bucket;
//     every event carries the number of the run that recorded it.
//   - Retention: the writer deletes the oldest events beyond
//     Options.RetentionCount and those older than Options.RetentionAge,
//     once after Open and then every Options.PruneEvery, never on the write
//     path.
//   - Query reads what is on disk; events still queued are the caller's to
//     merge (the event-stream actor keeps them in its ring).
//   - A second Open of the same file (another metamcp instance of the same
//     session) waits Options.LockTimeout for the lock and then fails with an
//     error matching ErrLocked that names the process holding it. Refusing
//     is the chosen behaviour: taking over would mean killing a live
//     instance's children behind its back.
//
// # Record format
//
// Bucket "events": key = id (8 bytes, big-endian); value = version byte 1,
// timestamp (Unix nanoseconds, 8 bytes big-endian), run (uvarint), type and
// server_id (each a uvarint length and bytes), then the event's data as
// JSON (absent when there is none). Filters on type, server and time read
// only the fixed part. Bucket "runs": key = run number (8 bytes,
// big-endian); value = the Run as JSON.
//
// Data read back from disk is decoded from JSON: numbers come back as
// float64.
package eventstore
