package eventstore

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/metamcp/metamcp/actors/child"
)

// FileName is the database's name in a session's state directory.
const FileName = "events.db"

var (
	bucketEvents = []byte("events")
	bucketRuns   = []byte("runs")
	// bucketMeta holds keyReserved: an id no event of an earlier run can
	// have reached (see reserve). Never pruned.
	bucketMeta  = []byte("meta")
	keyReserved = []byte("reserved")
)

// Event is one entry of the history.
type Event struct {
	ID        uint64         `json:"id"`
	Run       uint64         `json:"run,omitempty"` // the run that recorded it (Store.Run)
	Timestamp time.Time      `json:"timestamp"`
	Event     string         `json:"event"`
	ServerID  string         `json:"server_id,omitempty"`
	Data      map[string]any `json:"data,omitempty"`
}

// Run is one Open of the store: one run of metamcp.
type Run struct {
	ID      uint64    `json:"run"`
	Started time.Time `json:"started"`
	PID     int       `json:"pid"`
}

// Options configure a Store. Zero fields mean the defaults named.
type Options struct {
	// Path of the database file (required); its directory is created 0700.
	Path string
	// Log gets the store's warnings (drops, failed commits, pruning).
	Log zerolog.Logger
	// Now is the clock for timestamps and retention (default time.Now).
	Now func() time.Time
	// QueueSize bounds the events waiting for the writer (default 4096).
	QueueSize int
	// BatchSize commits once this many events wait (default 256).
	BatchSize int
	// FlushEvery commits this long after the first event of a batch was
	// queued (default 50 ms).
	FlushEvery time.Duration
	// RetentionCount keeps at most this many events (default 100000).
	RetentionCount int
	// RetentionAge deletes events older than this (default 30 days).
	RetentionAge time.Duration
	// PruneEvery is how often the writer applies retention (default 1 min).
	PruneEvery time.Duration
	// PruneDelay is when, after Open, the writer first applies retention
	// (default 10 s: not while the start's own events are being written).
	PruneDelay time.Duration
	// LockTimeout is how long Open waits for another process to let go of
	// the file before it fails with ErrLocked (default 5 s: long enough for
	// an instance that is shutting down, short enough not to hang).
	LockTimeout time.Duration
	// OnFlush, when set, sees each batch after it is committed and synced,
	// on the writer goroutine. It must not keep the slice.
	OnFlush func([]Event)
}

func (o Options) withDefaults() Options {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.QueueSize <= 0 {
		o.QueueSize = 4096
	}
	if o.BatchSize <= 0 {
		o.BatchSize = 256
	}
	if o.FlushEvery <= 0 {
		o.FlushEvery = 50 * time.Millisecond
	}
	if o.RetentionCount <= 0 {
		o.RetentionCount = 100000
	}
	if o.RetentionAge <= 0 {
		o.RetentionAge = 30 * 24 * time.Hour
	}
	if o.PruneEvery <= 0 {
		o.PruneEvery = time.Minute
	}
	if o.PruneDelay <= 0 {
		o.PruneDelay = 10 * time.Second
	}
	if o.LockTimeout <= 0 {
		o.LockTimeout = 5 * time.Second
	}
	return o
}

// Store is an open event store. Its methods are safe for concurrent use.
type Store struct {
	o     Options
	db    *bolt.DB
	run   Run
	queue chan Event
	stop  chan struct{}
	done  chan struct{} // closed when the writer has returned

	lastID   atomic.Uint64 // the last id handed out
	stored   atomic.Int64  // events on disk
	queued   atomic.Int64  // appended, not yet committed
	dropped  atomic.Uint64 // appended, never written
	dropping atomic.Bool   // a drop was logged and the writer has not caught up yet
	closed   atomic.Bool
	once     sync.Once
	closeErr error
	mem      string // OpenMemory: why nothing is on disk; "" otherwise

	failedCommits int       // in a row; the writer's own
	lastCommitLog time.Time // the writer's own
}

// Open opens (creating it if needed) the store at o.Path, records a new Run
// and starts the writer. Close must be called.
func Open(o Options) (*Store, error) {
	o = o.withDefaults()
	if o.Path == "" {
		return nil, errors.New("eventstore: no path")
	}
	if err := os.MkdirAll(filepath.Dir(o.Path), 0o700); err != nil {
		return nil, fmt.Errorf("creating state directory: %w", err)
	}
	db, err := bolt.Open(o.Path, 0o600, &bolt.Options{Timeout: o.LockTimeout})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, lockedError(o.Path, o.LockTimeout)
	}
	if corrupt(err) { // keep it for a person to look at; start a new history
		aside := fmt.Sprintf("%s.corrupt-%s", o.Path, o.Now().UTC().Format("20060102T150405"))
		if rerr := os.Rename(o.Path, aside); rerr == nil {
			o.Log.Error().Err(err).Str("moved_to", aside).Msg("event store: the file is damaged; it was set aside and a new history begins")
			db, err = bolt.Open(o.Path, 0o600, &bolt.Options{Timeout: o.LockTimeout})
		}
	}
	if err != nil {
		return nil, fmt.Errorf("opening event store %s: %w", o.Path, err)
	}
	s := &Store{o: o, db: db, queue: make(chan Event, o.QueueSize), stop: make(chan struct{}), done: make(chan struct{})}
	s.run = Run{Started: o.Now().UTC(), PID: os.Getpid()}
	err = db.Update(func(tx *bolt.Tx) error {
		events, err := tx.CreateBucketIfNotExists(bucketEvents)
		if err != nil {
			return err
		}
		runs, err := tx.CreateBucketIfNotExists(bucketRuns)
		if err != nil {
			return err
		}
		meta, err := tx.CreateBucketIfNotExists(bucketMeta)
		if err != nil {
			return err
		}
		last := uint64(0)
		if k, _ := events.Cursor().Last(); k != nil {
			last = keyID(k)
		}
		if v := meta.Get(keyReserved); len(v) == 8 { // ids go on past anything an earlier run handed out
			last = max(last, keyID(v))
		}
		s.lastID.Store(last)
		if err := s.reserve(meta); err != nil {
			return err
		}
		s.stored.Store(int64(events.Stats().KeyN))
		s.run.ID = 1
		if k, _ := runs.Cursor().Last(); k != nil {
			s.run.ID = keyID(k) + 1
		}
		v, err := json.Marshal(s.run)
		if err != nil {
			return err
		}
		return runs.Put(key(s.run.ID), v)
	})
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("opening event store %s: %w", o.Path, err)
	}
	if err := writeOwner(o.Path, s.run); err != nil {
		o.Log.Warn().Err(err).Msg("event store: cannot record the owner; a second instance will not be told who holds the store")
	}
	go s.writeLoop()
	o.Log.Info().Str("path", o.Path).Uint64("run", s.run.ID).Int64("stored", s.stored.Load()).
		Uint64("last_id", s.lastID.Load()).Msg("event store open")
	return s, nil
}

// reserve records in meta an id that no event handed out before the next
// commit can pass: the last id so far plus what can be handed out and not
// yet written (the queue, twice, and a batch). A run killed before its
// events reach the disk has shown their ids (the ring answers queries);
// the next run starts above the reservation, so it never gives one of
// those ids to another event. A clean Close reserves exactly the last id,
// so that a clean restart goes on without a gap.
func (s *Store) reserve(meta *bolt.Bucket) error {
	return meta.Put(keyReserved, key(s.lastID.Load()+s.slack()))
}

func (s *Store) slack() uint64 { return uint64(2*s.o.QueueSize + s.o.BatchSize) }

// corrupt says whether bbolt refused a file as damaged (not as busy or
// unreadable).
func corrupt(err error) bool {
	return errors.Is(err, bolterrors.ErrInvalid) || errors.Is(err, bolterrors.ErrChecksum) ||
		errors.Is(err, bolterrors.ErrVersionMismatch)
}

// OpenMemory returns a store that keeps nothing on disk, for a run whose
// file cannot be opened (a full or read-only disk): Append numbers events
// (from 1) and counts each as dropped from disk, Query finds nothing, so
// the history is what the caller keeps in memory. why says what failed;
// Stats.Path reports it.
func OpenMemory(o Options, why error) *Store {
	o = o.withDefaults()
	s := &Store{o: o, mem: why.Error(), done: make(chan struct{})}
	close(s.done)
	s.run = Run{ID: 1, Started: o.Now().UTC(), PID: os.Getpid()}
	return s
}

// Run is the run this Open recorded.
func (s *Store) Run() Run { return s.run }

// Path is the database file.
func (s *Store) Path() string { return s.o.Path }

// Append numbers e, stamps it with the run (and the time, when it has
// none) and queues it for the writer. It never blocks: when the queue is
// full, e is dropped from disk and Append returns false. It returns e as
// numbered either way.
func (s *Store) Append(e Event) (Event, bool) {
	e.ID = s.lastID.Add(1)
	e.Run = s.run.ID
	if e.Timestamp.IsZero() {
		e.Timestamp = s.o.Now().UTC()
	}
	if s.mem != "" {
		s.dropped.Add(1)
		return e, false
	}
	if s.closed.Load() {
		s.dropped.Add(1)
		return e, false
	}
	s.queued.Add(1)
	select {
	case s.queue <- e:
		return e, true
	default:
		s.queued.Add(-1)
		n := s.dropped.Add(1)
		if s.dropping.CompareAndSwap(false, true) {
			s.o.Log.Warn().Uint64("dropped_total", n).Int("queue", s.o.QueueSize).
				Msg("event store: the writer is behind (disk stalled?); events are kept in memory only until it catches up")
		}
		return e, false
	}
}

// Query is a read of the store.
type Query struct {
	Limit    int       // at most this many, the newest (default 100) — the oldest with Oldest
	Oldest   bool      // the oldest matches above AfterID instead of the newest (to page forward)
	ServerID string    // only this server's
	Type     string    // only this type
	AfterID  uint64    // only ids above this
	Before   uint64    // only ids below this (0: no bound)
	Since    time.Time // only events at or after this time
}

// Query returns the newest matching events on disk (the oldest, with
// q.Oldest), oldest first. Walking from the newest back, it stops at the
// first event at or below AfterID or before Since; walking forward from
// AfterID, it stops at Before.
func (s *Store) Query(q Query) ([]Event, error) {
	if s.closed.Load() {
		return nil, ErrClosed
	}
	if s.mem != "" {
		return nil, nil
	}
	if q.Limit <= 0 {
		q.Limit = 100
	}
	var since int64
	if !q.Since.IsZero() {
		since = q.Since.UnixNano()
	}
	if q.Oldest {
		return s.queryForward(q, since)
	}
	var out []Event
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketEvents).Cursor()
		var k, v []byte
		if q.Before > 0 {
			if k, v = c.Seek(key(q.Before)); k == nil {
				k, v = c.Last()
			} else {
				k, v = c.Prev()
			}
		} else {
			k, v = c.Last()
		}
		for ; k != nil && len(out) < q.Limit; k, v = c.Prev() {
			id := keyID(k)
			if id <= q.AfterID {
				break
			}
			e, ok, older := s.match(&q, since, id, v)
			if older {
				break
			}
			if ok {
				out = append(out, e)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading events: %w", err)
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out, nil
}

// match decodes the record id → v when it passes q's filters (reading
// only its header for those); older says it is before since. A corrupt
// record is logged and matches nothing.
func (s *Store) match(q *Query, since int64, id uint64, v []byte) (e Event, ok, older bool) {
	h, err := decodeHeader(v)
	if err != nil {
		s.o.Log.Warn().Uint64("id", id).Msg("event store: skipping a corrupt record")
		return e, false, false
	}
	if since != 0 && h.ts < since {
		return e, false, true
	}
	if (q.Type != "" && string(h.typ) != q.Type) || (q.ServerID != "" && string(h.serverID) != q.ServerID) {
		return e, false, false
	}
	if e, err = h.event(id); err != nil {
		s.o.Log.Warn().Err(err).Msg("event store: skipping a corrupt record")
		return e, false, false
	}
	return e, true, false
}

// queryForward walks from AfterID up, keeping matches until Limit.
func (s *Store) queryForward(q Query, since int64) ([]Event, error) {
	var out []Event
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketEvents).Cursor()
		for k, v := c.Seek(key(q.AfterID + 1)); k != nil && len(out) < q.Limit; k, v = c.Next() {
			id := keyID(k)
			if q.Before > 0 && id >= q.Before {
				break
			}
			if e, ok, _ := s.match(&q, since, id, v); ok {
				out = append(out, e)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading events: %w", err)
	}
	return out, nil
}

// Runs lists the runs recorded, oldest first.
func (s *Store) Runs() ([]Run, error) {
	if s.mem != "" {
		return []Run{s.run}, nil
	}
	if s.closed.Load() {
		return nil, ErrClosed
	}
	var runs []Run
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketRuns).ForEach(func(_, v []byte) error {
			var r Run
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("%w: run: %v", ErrCorrupt, err)
			}
			runs = append(runs, r)
			return nil
		})
	})
	return runs, err
}

// Stats are the store's counters.
type Stats struct {
	Path    string
	Run     uint64
	LastID  uint64 // the last id handed out
	Stored  int64  // events on disk
	Queued  int64  // appended, not yet on disk
	Dropped uint64 // appended this run and never written (queue full, failed commit)
}

// Stats reads the counters.
func (s *Store) Stats() Stats {
	path := s.o.Path
	if s.mem != "" {
		path = "memory only: " + s.mem
	}
	return Stats{Path: path, Run: s.run.ID, LastID: s.lastID.Load(), Stored: s.stored.Load(),
		Queued: s.queued.Load(), Dropped: s.dropped.Load()}
}

// Close stops the writer after it has committed what was queued, and
// closes the file. Appends after Close are dropped. It is idempotent.
func (s *Store) Close() error {
	s.once.Do(func() {
		s.closed.Store(true)
		if s.mem != "" {
			return
		}
		close(s.stop)
		<-s.done
		if err := s.db.Update(func(tx *bolt.Tx) error { // every id is written: the next run goes on from it
			return tx.Bucket(bucketMeta).Put(keyReserved, key(s.lastID.Load()))
		}); err != nil {
			s.o.Log.Warn().Err(err).Msg("event store: recording the last id")
		}
		removeOwner(s.o.Path)
		if err := s.db.Close(); err != nil {
			s.closeErr = fmt.Errorf("closing event store: %w", err)
		}
	})
	return s.closeErr
}

// ---- Who holds the lock -------------------------------------------------

// owner is what the instance holding the store writes next to it, so that
// a second instance can say who is in the way (bbolt's lock cannot).
type owner struct {
	PID     int       `json:"pid"`
	Run     uint64    `json:"run"`
	Started time.Time `json:"started"`
}

func ownerPath(db string) string { return db + ".owner" }

func writeOwner(db string, r Run) error {
	data, err := json.Marshal(owner{PID: r.PID, Run: r.ID, Started: r.Started})
	if err != nil {
		return err
	}
	tmp := ownerPath(db) + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, ownerPath(db))
}

// removeOwner removes the owner file if it is still this process's.
func removeOwner(db string) {
	var o owner
	if data, err := os.ReadFile(ownerPath(db)); err == nil && json.Unmarshal(data, &o) == nil && o.PID == os.Getpid() {
		_ = os.Remove(ownerPath(db))
	}
}

func lockedError(db string, waited time.Duration) error {
	who := "another process"
	var o owner
	if data, err := os.ReadFile(ownerPath(db)); err == nil && json.Unmarshal(data, &o) == nil && o.PID > 0 {
		if child.Alive(o.PID) {
			who = fmt.Sprintf("metamcp pid %d (run %d, started %s)", o.PID, o.Run, o.Started.Local().Format(time.RFC3339))
		} else {
			who = fmt.Sprintf("another process (its last recorded owner, metamcp pid %d, has exited)", o.PID)
		}
	}
	return fmt.Errorf("%w: %s is held by %s; waited %s. Another metamcp is running with this session: "+
		"stop it, or start this one with another --session", ErrLocked, db, who, waited)
}
