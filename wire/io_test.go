package wire

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"sync"
	"testing"
	"time"
)

// slowWriter records what it is given and takes its time, so that writers
// pile up behind it and are gathered.
type slowWriter struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	writes int
}

func (s *slowWriter) Write(p []byte) (int, error) {
	time.Sleep(50 * time.Microsecond)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.writes++
	return s.buf.Write(p)
}

// Concurrent writers: every message whole on its own line, each writer's
// in its order, and fewer system writes than messages under contention.
func TestWriterGathers(t *testing.T) {
	sw := &slowWriter{}
	w := NewWriter(sw)
	const writers, each = 16, 200
	var wg sync.WaitGroup
	for g := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				if err := w.Write([]byte(fmt.Sprintf(`{"g":%d,"i":%d}`, g, i))); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	next := make([]int, writers)
	sc := bufio.NewScanner(&sw.buf)
	lines := 0
	for sc.Scan() {
		var g, i int
		if _, err := fmt.Sscanf(sc.Text(), `{"g":%d,"i":%d}`, &g, &i); err != nil || i != next[g] {
			t.Fatalf("line %q: writer %d's message %d expected", sc.Text(), g, next[g])
		}
		next[g]++
		lines++
	}
	if lines != writers*each {
		t.Fatalf("%d lines, want %d", lines, writers*each)
	}
	t.Logf("%d messages in %d writes", lines, sw.writes)
	if sw.writes >= lines {
		t.Errorf("no message was gathered: %d writes for %d messages", sw.writes, lines)
	}
}

// After a failed write every Write fails with that error, at once.
func TestWriterError(t *testing.T) {
	r, pw := io.Pipe()
	r.Close()
	w := NewWriter(pw)
	first := w.Write([]byte(`{}`))
	if !errors.Is(first, io.ErrClosedPipe) {
		t.Fatalf("write to a closed pipe: %v", first)
	}
	if err := w.Write([]byte(`{}`)); err != first {
		t.Fatalf("the next write: %v, want %v", err, first)
	}
}
