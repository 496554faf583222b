package eventstore

import (
	"errors"
	"time"

	bolt "go.etcd.io/bbolt"
)

// pruneChunk bounds the deletions of one retention transaction, so that
// pruning a large backlog does not build one huge transaction.
const pruneChunk = 10000

// writeLoop is the writer goroutine: it commits batches, prunes, and on
// stop commits what is queued and returns.
func (s *Store) writeLoop() {
	defer close(s.done)
	timer := time.NewTimer(s.o.FlushEvery)
	timer.Stop()
	firstPrune := time.NewTimer(s.o.PruneDelay)
	defer firstPrune.Stop()
	pruneTick := time.NewTicker(s.o.PruneEvery)
	defer pruneTick.Stop()
	batch := make([]Event, 0, s.o.BatchSize)
	var due <-chan time.Time // the batch's deadline; nil while it is empty
	flush := func() {
		timer.Stop()
		due = nil
		for n := len(s.queue); n > 0; n-- { // behind: what waits goes in this commit too
			batch = append(batch, <-s.queue)
		}
		if len(batch) > 0 {
			s.commit(batch)
			clear(batch)
			batch = batch[:0]
		}
	}
	add := func(e Event) {
		batch = append(batch, e)
		if len(batch) == 1 {
			timer.Reset(s.o.FlushEvery)
			due = timer.C
		}
		if len(batch) >= s.o.BatchSize {
			flush()
		}
	}
	for {
		select {
		case e := <-s.queue:
			add(e)
		case <-due:
			flush()
		case <-firstPrune.C:
			s.prune()
		case <-pruneTick.C:
			s.prune()
		case <-s.stop:
			for {
				select {
				case e := <-s.queue:
					add(e)
				default:
					flush()
					return
				}
			}
		}
	}
}

// commit writes a batch in one transaction, synced before it returns.
func (s *Store) commit(batch []Event) {
	var arena []byte // bbolt keeps the values until the commit: one buffer, never overwritten
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketEvents)
		b.FillPercent = 1 // ids only grow: pages fill completely
		for i := range batch {
			e := &batch[i]
			start := len(arena)
			var err error
			if arena, err = encode(arena, e); err != nil {
				s.o.Log.Warn().Err(err).Uint64("id", e.ID).Msg("event store: writing the event without its data")
				arena, _ = encode(arena[:start], &Event{ID: e.ID, Run: e.Run, Timestamp: e.Timestamp,
					Event: e.Event, ServerID: e.ServerID, Data: map[string]any{"unencodable": err.Error()}})
			}
			if err := b.Put(key(e.ID), arena[start:len(arena):len(arena)]); err != nil {
				return err
			}
		}
		return s.reserve(tx.Bucket(bucketMeta))
	})
	n := int64(len(batch))
	s.queued.Add(-n)
	if err != nil {
		s.dropped.Add(uint64(n))
		s.failedCommits++
		if now := s.o.Now(); s.failedCommits == 1 || now.Sub(s.lastCommitLog) >= time.Minute { // not 20 lines a second
			s.lastCommitLog = now
			s.o.Log.Error().Err(err).Int64("events", n).Uint64("first_id", batch[0].ID).Int("failed_commits", s.failedCommits).
				Msg("event store: events are not being written (disk full?); they are kept in memory only")
		}
		return
	}
	if s.failedCommits > 0 {
		s.o.Log.Warn().Int("failed_commits", s.failedCommits).Msg("event store: writing again")
		s.failedCommits = 0
	}
	s.stored.Add(n)
	if s.o.OnFlush != nil {
		s.o.OnFlush(batch)
	}
	if s.dropping.Load() && len(s.queue) < cap(s.queue)/2 && s.dropping.CompareAndSwap(true, false) {
		s.o.Log.Warn().Uint64("dropped_total", s.dropped.Load()).Msg("event store: the writer caught up")
	}
}

// prune applies retention: the oldest events beyond RetentionCount, then
// those older than RetentionAge, then the runs no event refers to.
func (s *Store) prune() {
	cutoff := s.o.Now().Add(-s.o.RetentionAge).UnixNano()
	total := 0
	for {
		n, err := s.pruneOnce(cutoff)
		total += n
		if err != nil {
			s.o.Log.Warn().Err(err).Msg("event store: pruning")
			return
		}
		if n < pruneChunk {
			break
		}
	}
	if total > 0 {
		s.o.Log.Debug().Int("deleted", total).Int64("stored", s.stored.Load()).Msg("event store: pruned")
	}
}

// errNothingToPrune rolls back a retention transaction that found nothing
// to delete, so that an idle store is not synced every PruneEvery.
var errNothingToPrune = errors.New("nothing to prune")

// pruneOnce deletes up to pruneChunk events in one transaction.
func (s *Store) pruneOnce(cutoff int64) (int, error) {
	deleted := 0
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketEvents)
		excess := s.stored.Load() - int64(s.o.RetentionCount)
		var doomed [][]byte
		c := b.Cursor()
		k, v := c.First()
		for ; k != nil && len(doomed) < pruneChunk; k, v = c.Next() {
			if int64(len(doomed)) >= excess {
				h, err := decodeHeader(v)
				if err == nil && h.ts >= cutoff {
					break
				}
			}
			doomed = append(doomed, append([]byte(nil), k...))
		}
		if len(doomed) == 0 {
			return errNothingToPrune
		}
		for _, k := range doomed { // not with the cursor: bbolt's Cursor.Delete then Next skips keys
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		deleted = len(doomed)
		return pruneRuns(tx, b, s.run.ID)
	})
	if errors.Is(err, errNothingToPrune) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	s.stored.Add(-int64(deleted))
	return deleted, nil
}

// pruneRuns deletes the runs older than the oldest event's, keeping the
// current one.
func pruneRuns(tx *bolt.Tx, events *bolt.Bucket, current uint64) error {
	keep := current
	if k, v := events.Cursor().First(); k != nil {
		h, err := decodeHeader(v)
		if err != nil {
			return nil // keep them all
		}
		keep = min(keep, h.run)
	}
	runs := tx.Bucket(bucketRuns)
	var doomed [][]byte
	c := runs.Cursor()
	for k, _ := c.First(); k != nil && keyID(k) < keep; k, _ = c.Next() {
		doomed = append(doomed, append([]byte(nil), k...))
	}
	for _, k := range doomed {
		if err := runs.Delete(k); err != nil {
			return err
		}
	}
	return nil
}
