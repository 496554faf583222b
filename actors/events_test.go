//go:build linux

package actors

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/metamcp/metamcp/actors/eventstore"
	"github.com/metamcp/metamcp/config"
)

// Events of run 1 are in the history of run 2, marked with their run, and
// ids go on where run 1 stopped.
func TestEventsOfEarlierRun(t *testing.T) {
	state := t.TempDir()
	onState := func(c *config.Config, _ *Options) { c.StateDirectory = state }

	run1 := newTestSystem(t, onState)
	id := run1.create(t, "fake").Server.ServerID
	if _, err := run1.ask(t, &StopServer{ServerID: id}); err != nil {
		t.Fatal(err)
	}
	checkFor(t, 5*time.Second, 10*time.Millisecond, func() error {
		if p := run1.events(t, id); !hasEvent(p, EventServerStopped) {
			return fmt.Errorf("run 1: events %v", eventNames(p))
		}
		return nil
	})
	before := run1.events(t, id).Events
	if err := run1.Shutdown(); err != nil {
		t.Fatal(err)
	}

	run2 := newTestSystem(t, onState)
	id2 := run2.create(t, "fake").Server.ServerID
	got := run2.events(t, id).Events
	if len(got) != len(before) {
		t.Fatalf("run 2 sees %d events of %s, run 1 recorded %d: %v", len(got), id, len(before), got)
	}
	for i, e := range got {
		if e.ID != before[i].ID || e.Event != before[i].Event || e.Run != 1 || !e.Timestamp.Equal(before[i].Timestamp) {
			t.Errorf("event %d: run 2 reads %+v, run 1 recorded %+v", i, e, before[i])
		}
	}
	all := run2.events(t, "").Events
	last := all[len(all)-1]
	if last.ServerID != id2 || last.Run != 2 || last.ID <= before[len(before)-1].ID {
		t.Errorf("newest event %+v: want one of %s in run 2 after id %d", last, id2, before[len(before)-1].ID)
	}
	for i := 1; i < len(all); i++ {
		if all[i].ID <= all[i-1].ID {
			t.Fatalf("events out of order: %d after %d", all[i].ID, all[i-1].ID)
		}
	}
}

// With a ring of 100, most of 400 events are only on disk: queries merge
// the store with the ring, complete and in order, with every filter; what
// was just published is seen before it is written.
func TestEventQueryMergesStoreAndRing(t *testing.T) {
	ts := newTestSystem(t, func(c *config.Config, _ *Options) { c.EventHistorySize = 100 })
	store := ts.deps.store
	first := store.Stats().LastID + 1
	publish := func(i int) {
		ts.as.Root.Send(ts.System.events, &publish{Event: Event{Event: []string{"tick", "tock"}[i%2],
			ServerID: fmt.Sprintf("srv_%d", i%4), Data: map[string]any{"i": i}}})
	}
	for i := range 400 {
		publish(i)
		if i%30 == 29 { // let the writer keep up: the queue holds 33 here
			checkFor(t, 5*time.Second, time.Millisecond, func() error {
				if st := store.Stats(); st.Queued > 0 || st.LastID < first+uint64(i) {
					return fmt.Errorf("store %+v", st)
				}
				return nil
			})
		}
	}
	if st := store.Stats(); st.Dropped != 0 {
		t.Fatalf("dropped from disk: %+v", st)
	}
	ask := func(q QueryEvents) []Event {
		t.Helper()
		res, err := ts.ask(t, &q)
		if err != nil {
			t.Fatal(err)
		}
		var out []Event
		for _, e := range res.(*EventPage).Events {
			if e.ID >= first {
				out = append(out, e)
			}
		}
		return out
	}
	ids := func(evs []Event) (out []int) {
		for _, e := range evs {
			out = append(out, int(e.ID-first))
		}
		return out
	}
	seq := func(from, to, step int) (out []int) {
		for i := from; i < to; i += step {
			out = append(out, i)
		}
		return out
	}
	tests := []struct {
		name string
		q    QueryEvents
		want []int
	}{
		{"everything", QueryEvents{Limit: 1000}, seq(0, 400, 1)},
		{"newest 150, across ring and store", QueryEvents{Limit: 150}, seq(250, 400, 1)},
		{"type", QueryEvents{Limit: 1000, Type: "tock"}, seq(1, 400, 2)},
		{"server", QueryEvents{Limit: 1000, ServerID: "srv_3"}, seq(3, 400, 4)},
		{"server and type, limited", QueryEvents{Limit: 5, ServerID: "srv_2", Type: "tick"}, seq(382, 400, 4)},
		{"after an id on disk", QueryEvents{Limit: 1000, AfterID: first + 9}, seq(10, 400, 1)},
		{"after an id in the ring", QueryEvents{Limit: 1000, AfterID: first + 349}, seq(350, 400, 1)},
		{"oldest after an id on disk, across store and ring", QueryEvents{Oldest: true, Limit: 320, AfterID: first + 9},
			seq(10, 330, 1)},
		{"oldest after an id in the ring", QueryEvents{Oldest: true, Limit: 5, AfterID: first + 349}, seq(350, 355, 1)},
		{"oldest of a server, across store and ring", QueryEvents{Oldest: true, Limit: 90, ServerID: "srv_1", AfterID: first - 1},
			seq(1, 360, 4)},
	}
	for _, tt := range tests {
		if got := ids(ask(tt.q)); !slices.Equal(got, tt.want) {
			t.Errorf("%s: %v\nwant %v", tt.name, got, tt.want)
		}
	}
	// Just published: in the ring, not yet on disk, already in the history.
	publish(400)
	publish(401)
	if got := ids(ask(QueryEvents{Limit: 3})); !slices.Equal(got, []int{399, 400, 401}) {
		t.Errorf("right after publishing: %v", got)
	}
	// Data read back from disk comes as JSON numbers.
	if e := ask(QueryEvents{Limit: 1000})[0]; e.Data["i"] != float64(0) || e.Run != store.Run().ID {
		t.Errorf("oldest event: %+v", e)
	}
}

// A second System on the same session fails at start, naming the first.
func TestSecondInstanceOfSessionRefused(t *testing.T) {
	state := t.TempDir()
	newTestSystem(t, func(c *config.Config, _ *Options) { c.StateDirectory = state })
	cfg := config.Defaults()
	cfg.TempDirectory, cfg.StateDirectory = t.TempDir(), state
	t0 := time.Now()
	sys, err := Start(Options{Config: &cfg})
	if err == nil {
		_ = sys.Shutdown()
		t.Fatal("a second System on the same session started")
	}
	if !errors.Is(err, eventstore.ErrLocked) || !strings.Contains(err.Error(), "metamcp pid ") {
		t.Errorf("second start: %v", err)
	}
	if took := time.Since(t0); took > 10*time.Second {
		t.Errorf("refusal took %s", took)
	}
}

// BenchmarkRecordEvent is the cost of recording an event (issue 5).
// "publish" is what the publisher (the root, a server actor) pays: a send
// to the event-stream actor's mailbox. "recorded" is the time until the
// event-stream actor has numbered the event, queued it for the store and
// kept it in the ring, amortised over a burst: its throughput. Neither
// includes the disk: the store's writer commits off this path
// (eventstore's BenchmarkWriteThroughput), and dropped/op counts events
// that did not reach the disk because its queue was full.
func BenchmarkRecordEvent(b *testing.B) {
	sys := benchSystem(b, 1)
	store := sys.deps.store
	ev := &publish{Event: Event{Event: EventToolExecuted, ServerID: "srv_0123456789ab",
		Data: map[string]any{"tool": "add", "duration_ms": 1.25, "is_error": false}}}
	waitRecorded := func(id uint64) {
		for store.Stats().LastID < id {
			time.Sleep(50 * time.Microsecond)
		}
	}
	run := func(b *testing.B, wait bool) {
		before := store.Stats()
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N { // not b.Loop: its timer stops before the wait below
			sys.as.Root.Send(sys.events, ev)
		}
		if wait {
			waitRecorded(before.LastID + uint64(b.N))
		}
		b.StopTimer()
		waitRecorded(before.LastID + uint64(b.N))
		b.ReportMetric(float64(store.Stats().Dropped-before.Dropped)/float64(b.N), "dropped/op")
		for store.Stats().Queued > 0 { // the next round starts with an empty queue
			time.Sleep(time.Millisecond)
		}
	}
	b.Run("publish", func(b *testing.B) { run(b, false) })
	b.Run("recorded", func(b *testing.B) { run(b, true) })
}

// With the writer stalled, the queue full and events dropped from disk,
// queries still answer every event the ring or the disk holds, once each
// and in order — newest pages and oldest-first pages alike — and after the
// writer catches up too.
func TestEventQueryWithWriterStalled(t *testing.T) {
	release := make(chan struct{})
	var once sync.Once
	ts := newTestSystem(t, func(c *config.Config, o *Options) {
		c.EventHistorySize = 100
		o.storeOptions = func(so *eventstore.Options) {
			so.OnFlush = func([]Event) { <-release } // the first commit lands, then the writer stalls
		}
	})
	t.Cleanup(func() { once.Do(func() { close(release) }) })
	store := ts.deps.store
	first := store.Stats().LastID + 1
	for i := range 400 {
		ts.as.Root.Send(ts.System.events, &publish{Event: Event{Event: "tick", Data: map[string]any{"i": i}}})
	}
	checkFor(t, 5*time.Second, time.Millisecond, func() error {
		if st := store.Stats(); st.LastID < first+399 || st.Dropped == 0 {
			return fmt.Errorf("store %+v", st)
		}
		return nil
	})
	check := func(when string) {
		t.Helper()
		res, err := ts.ask(t, &QueryEvents{Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		newest := res.(*EventPage).Events
		var forward []Event
		for after := first - 1; ; {
			res, err := ts.ask(t, &QueryEvents{Oldest: true, Limit: 37, AfterID: after})
			if err != nil {
				t.Fatal(err)
			}
			page := res.(*EventPage).Events
			forward = append(forward, page...)
			if len(page) < 37 {
				break
			}
			after = page[len(page)-1].ID
		}
		var ours []Event
		for _, e := range newest {
			if e.ID >= first {
				ours = append(ours, e)
			}
		}
		if len(ours) != len(forward) {
			t.Fatalf("%s: newest-first has %d events, paging forward %d", when, len(ours), len(forward))
		}
		for i := range ours {
			if ours[i].ID != forward[i].ID || (i > 0 && ours[i].ID <= ours[i-1].ID) {
				t.Fatalf("%s: at %d: %d vs %d", when, i, ours[i].ID, forward[i].ID)
			}
		}
		// The ring's 100 are all there.
		if n := len(ours); n < 100 || ours[n-1].ID != first+399 || ours[n-100].ID != first+300 {
			t.Fatalf("%s: %d events, the newest 100 are not all there", when, n)
		}
	}
	check("stalled")
	once.Do(func() { close(release) })
	checkFor(t, 5*time.Second, time.Millisecond, func() error {
		if st := store.Stats(); st.Queued > 0 {
			return fmt.Errorf("store %+v", st)
		}
		return nil
	})
	check("caught up")
}
