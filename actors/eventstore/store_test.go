package eventstore

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	if dir := os.Getenv(burstEnv); dir != "" { // the helper process of TestSIGKILLDuringBurst
		runBurst(dir)
		return
	}
	goleak.VerifyTestMain(m)
}

func openTest(t testing.TB, path string, o Options) *Store {
	t.Helper()
	o.Path = path
	s, err := Open(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// flushed returns an OnFlush that counts, and a wait for n events.
func flushed() (func([]Event), func(t testing.TB, n int)) {
	var mu sync.Mutex
	cond := sync.NewCond(&mu)
	total := 0
	on := func(b []Event) {
		mu.Lock()
		total += len(b)
		cond.Broadcast()
		mu.Unlock()
	}
	wait := func(t testing.TB, n int) {
		t.Helper()
		done := make(chan struct{})
		go func() {
			mu.Lock()
			for total < n {
				cond.Wait()
			}
			mu.Unlock()
			close(done)
		}()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("%d events flushed within 10 s, want %d", total, n)
		}
	}
	return on, wait
}

func ids(evs []Event) []uint64 {
	out := make([]uint64, len(evs))
	for i, e := range evs {
		out[i] = e.ID
	}
	return out
}

func TestAppendQueryAcrossRuns(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s", FileName)
	s1, err := Open(Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 6 {
		e, ok := s1.Append(Event{Event: []string{"a", "b"}[i%2], ServerID: fmt.Sprintf("srv_%d", i%3),
			Data: map[string]any{"i": i}})
		if !ok || e.ID != uint64(i+1) || e.Run != 1 || e.Timestamp.IsZero() {
			t.Fatalf("append %d: %+v, %v", i, e, ok)
		}
	}
	if err := s1.Close(); err != nil { // flushes
		t.Fatal(err)
	}
	if _, ok := s1.Append(Event{Event: "late"}); ok {
		t.Error("Append after Close was accepted")
	}
	if _, err := os.Stat(ownerPath(path)); !os.IsNotExist(err) {
		t.Errorf("owner file left after Close: %v", err)
	}

	s2 := openTest(t, path, Options{})
	if s2.Run().ID != 2 || s2.Stats().Stored != 6 {
		t.Fatalf("second open: run %d, stats %+v", s2.Run().ID, s2.Stats())
	}
	e, _ := s2.Append(Event{Event: "a", ServerID: "srv_0"})
	if e.ID != 7 || e.Run != 2 {
		t.Fatalf("first event of run 2: %+v, want id 7 run 2", e)
	}
	if err := s2.Close(); err != nil {
		t.Fatal(err)
	}
	s3 := openTest(t, path, Options{})

	tests := []struct {
		name string
		q    Query
		want []uint64
	}{
		{"all", Query{}, []uint64{1, 2, 3, 4, 5, 6, 7}},
		{"limit keeps the newest", Query{Limit: 2}, []uint64{6, 7}},
		{"type", Query{Type: "b"}, []uint64{2, 4, 6}},
		{"server", Query{ServerID: "srv_0"}, []uint64{1, 4, 7}},
		{"type and server", Query{Type: "a", ServerID: "srv_0"}, []uint64{1, 7}},
		{"after", Query{AfterID: 5}, []uint64{6, 7}},
		{"before", Query{Before: 3}, []uint64{1, 2}},
		{"before past the end", Query{Before: 100, Limit: 1}, []uint64{7}},
		{"since the future", Query{Since: time.Now().Add(time.Hour)}, []uint64{}},
	}
	for _, tt := range tests {
		got, err := s3.Query(tt.q)
		if err != nil || !slices.Equal(ids(got), tt.want) {
			t.Errorf("%s: %v, %v; want %v", tt.name, ids(got), err, tt.want)
		}
	}
	got, _ := s3.Query(Query{})
	if got[0].Run != 1 || got[6].Run != 2 || got[0].Data["i"] != float64(0) || got[0].ServerID != "srv_0" {
		t.Errorf("read back: %+v ... %+v", got[0], got[6])
	}
	runs, err := s3.Runs()
	if err != nil || len(runs) != 3 || runs[2].ID != 3 || runs[2].PID != os.Getpid() {
		t.Errorf("runs: %+v, %v", runs, err)
	}
}

func TestRetention(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	s := openTest(t, path, Options{Now: clock})
	for i := range 50 { // 40 days old .. 1 day old, a day apart... then recent
		s.Append(Event{Event: "old", Timestamp: now.Add(-time.Duration(50-i) * 24 * time.Hour)})
	}
	for range 150 {
		s.Append(Event{Event: "new"})
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// Age beyond count: 30 days removes the 20 oldest (50..31 days old),
	// where a count of 190 alone would remove 10. Pruning runs once the
	// writer starts.
	s = openTest(t, path, Options{Now: clock, PruneDelay: time.Millisecond, RetentionCount: 190, RetentionAge: 30 * 24 * time.Hour})
	waitStored(t, s, 180)
	if got, err := s.Query(Query{Limit: 1, Oldest: true}); err != nil || len(got) != 1 || got[0].ID != 21 {
		t.Fatalf("after retention by age: oldest %v, %v; want id 21", ids(got), err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// Count beyond age: 100 events keep ids 101..200.
	s = openTest(t, path, Options{Now: clock, PruneDelay: time.Millisecond, RetentionCount: 100, RetentionAge: 30 * 24 * time.Hour})
	waitStored(t, s, 100)
	got, err := s.Query(Query{Limit: 1000})
	if err != nil || len(got) != 100 || got[0].ID != 101 || got[99].ID != 200 {
		t.Fatalf("after retention by count: %d events, first %v, %v", len(got), ids(got)[:1], err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// Age alone: a month later everything is older than 30 days.
	later := func() time.Time { return now.Add(31 * 24 * time.Hour) }
	s = openTest(t, path, Options{Now: later, PruneDelay: time.Millisecond})
	waitStored(t, s, 0)
	runs, _ := s.Runs()
	if len(runs) != 1 || runs[0].ID != s.Run().ID {
		t.Errorf("runs after everything was pruned: %+v, want only the current one", runs)
	}
	// Ids go on past the pruned ones, also in a run that finds the store
	// empty: no id is given to two events.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openTest(t, path, Options{Now: later, PruneDelay: time.Millisecond})
	if e, _ := s.Append(Event{Event: "after"}); e.ID != 201 {
		t.Errorf("first id after everything was pruned: %d, want 201", e.ID)
	}
}

// Oldest queries page forward from AfterID and stop at Before.
func TestQueryOldestFirst(t *testing.T) {
	on, wait := flushed()
	s := openTest(t, filepath.Join(t.TempDir(), FileName), Options{OnFlush: on})
	for i := range 30 {
		s.Append(Event{Event: []string{"a", "b", "c"}[i%3], ServerID: "srv"})
	}
	wait(t, 30)
	got, err := s.Query(Query{Oldest: true, AfterID: 4, Limit: 5})
	if err != nil || !slices.Equal(ids(got), []uint64{5, 6, 7, 8, 9}) {
		t.Fatalf("oldest 5 after 4: %v, %v", ids(got), err)
	}
	got, _ = s.Query(Query{Oldest: true, AfterID: 4, Type: "a", Before: 20, Limit: 100})
	if !slices.Equal(ids(got), []uint64{7, 10, 13, 16, 19}) {
		t.Fatalf("type a in (4, 20): %v", ids(got))
	}
}

// waitStored waits until retention has left n events on disk.
func waitStored(t *testing.T, s *Store, n int64) {
	t.Helper()
	checkFor(t, 5*time.Second, 10*time.Millisecond, func() error {
		if st := s.Stats(); st.Stored != n {
			return fmt.Errorf("stored %d, want %d", st.Stored, n)
		}
		return nil
	})
}

func TestSecondOpenFailsNamingTheHolder(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	openTest(t, path, Options{})
	t0 := time.Now()
	_, err := Open(Options{Path: path, LockTimeout: 200 * time.Millisecond})
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("second Open: %v, want ErrLocked", err)
	}
	if took := time.Since(t0); took > 2*time.Second {
		t.Errorf("second Open took %s", took)
	}
	if want := fmt.Sprintf("metamcp pid %d (run 1,", os.Getpid()); !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not name the holder (%q)", err, want)
	}
}

// TestQueueFullDropsFromDisk stalls the writer (OnFlush blocks) and fills
// the queue: Append must neither block nor lie.
func TestQueueFullDropsFromDisk(t *testing.T) {
	release := make(chan struct{})
	var once sync.Once
	entered := make(chan struct{})
	s := openTest(t, filepath.Join(t.TempDir(), FileName), Options{QueueSize: 8, BatchSize: 1,
		OnFlush: func([]Event) {
			once.Do(func() { close(entered) })
			<-release
		}})
	s.Append(Event{Event: "first"})
	<-entered // the writer is stuck after committing event 1
	accepted, dropped := 0, 0
	t0 := time.Now()
	for range 100 {
		if _, ok := s.Append(Event{Event: "burst"}); ok {
			accepted++
		} else {
			dropped++
		}
	}
	if took := time.Since(t0); took > 100*time.Millisecond {
		t.Errorf("100 appends against a stalled writer took %s", took)
	}
	if accepted != 8 || dropped != 92 || s.Stats().Dropped != 92 {
		t.Errorf("accepted %d, dropped %d, stats %+v; want 8 and 92", accepted, dropped, s.Stats())
	}
	close(release)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if st := s.Stats(); st.Stored != 9 || st.Queued != 0 {
		t.Errorf("after close: %+v, want 9 stored", st)
	}
}

// TestFlushLatency: a lone event is on disk within about FlushEvery.
func TestFlushLatency(t *testing.T) {
	on, wait := flushed()
	s := openTest(t, filepath.Join(t.TempDir(), FileName), Options{FlushEvery: 20 * time.Millisecond, OnFlush: on})
	t0 := time.Now()
	s.Append(Event{Event: "one"})
	wait(t, 1)
	if took := time.Since(t0); took > time.Second {
		t.Errorf("one event took %s to be flushed", took)
	}
	got, err := s.Query(Query{})
	if err != nil || len(got) != 1 {
		t.Errorf("query: %v, %v", got, err)
	}
}

// checkFor polls f until it returns nil or total passes.
func checkFor(t *testing.T, total, every time.Duration, f func() error) {
	t.Helper()
	deadline := time.Now().Add(total)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(every)
	}
}

func BenchmarkAppend(b *testing.B) {
	s := openTest(b, filepath.Join(b.TempDir(), FileName), Options{})
	e := Event{Event: "tool_executed", ServerID: "srv_0123456789", Data: map[string]any{"tool": "add", "duration_ms": 1.5}}
	b.ReportAllocs()
	for b.Loop() {
		s.Append(e)
	}
	b.StopTimer()
	if err := s.Close(); err != nil {
		b.Fatal(err)
	}
	st := s.Stats()
	b.ReportMetric(float64(st.Dropped)/float64(b.N), "dropped/op")
}

// BenchmarkWriteThroughput is the writer's sustained cost on disk: each
// op is a burst of 1024 appends (4 full batches) waited for until committed
// (fsync'd); ns/event is the cost per event.
func BenchmarkWriteThroughput(b *testing.B) {
	const burst = 1024
	s := openTest(b, filepath.Join(b.TempDir(), FileName), Options{})
	e := Event{Event: "tool_executed", ServerID: "srv_0123456789", Data: map[string]any{"tool": "add", "duration_ms": 1.5}}
	b.ResetTimer()
	for range b.N {
		for range burst {
			s.Append(e)
		}
		for s.Stats().Queued > 0 {
			time.Sleep(100 * time.Microsecond)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*burst), "ns/event")
	b.ReportMetric(float64(s.Stats().Dropped)/float64(b.N*burst), "dropped/event")
}

// A damaged file is set aside (kept for a person to look at) and a new
// history begins, instead of metamcp refusing to start.
func TestDamagedFileSetAside(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, FileName)
	junk := bytes.Repeat([]byte("not a bbolt file "), 1000)
	if err := os.WriteFile(path, junk, 0o600); err != nil {
		t.Fatal(err)
	}
	s := openTest(t, path, Options{})
	if e, ok := s.Append(Event{Event: "first"}); !ok || e.ID != 1 {
		t.Errorf("first event of the new history: %+v %v", e, ok)
	}
	aside, _ := filepath.Glob(path + ".corrupt-*")
	if len(aside) != 1 {
		t.Fatalf("set aside: %v", aside)
	}
	if b, _ := os.ReadFile(aside[0]); !bytes.Equal(b, junk) {
		t.Error("the damaged file was not kept as it was")
	}
}

// OpenMemory keeps nothing and says so.
func TestOpenMemory(t *testing.T) {
	s := OpenMemory(Options{Path: "/nonexistent/events.db"}, errors.New("read-only file system"))
	e1, ok1 := s.Append(Event{Event: "a"})
	e2, _ := s.Append(Event{Event: "b"})
	if ok1 || e1.ID != 1 || e2.ID != 2 {
		t.Errorf("appends: %+v %v, %+v", e1, ok1, e2)
	}
	if got, err := s.Query(Query{Limit: 10}); err != nil || len(got) != 0 {
		t.Errorf("query: %v %v", got, err)
	}
	if st := s.Stats(); st.Dropped != 2 || !strings.Contains(st.Path, "read-only file system") {
		t.Errorf("stats %+v", st)
	}
	if err := s.Close(); err != nil {
		t.Error(err)
	}
}
