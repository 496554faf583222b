//go:build linux

package actors

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/metamcp/metamcp/config"
)

type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func TestExpired(t *testing.T) {
	now := time.Unix(10_000, 0)
	mk := func(usedAgo, activeAgo time.Duration, inFlight int64) *poolEntry {
		s := &serverStats{}
		s.touch(now.Add(-activeAgo))
		s.inFlight.Store(inFlight)
		return &poolEntry{id: fmt.Sprint(usedAgo, activeAgo, inFlight), stats: s, lastUsed: now.Add(-usedAgo)}
	}
	ttl := time.Minute
	cases := []struct {
		e    *poolEntry
		want bool
	}{
		{mk(2*time.Minute, 2*time.Minute, 0), true},
		{mk(time.Minute, time.Minute, 0), true},       // exactly the TTL
		{mk(2*time.Minute, 10*time.Second, 0), false}, // a call 10 s ago keeps it
		{mk(10*time.Second, 2*time.Minute, 0), false}, // a reuse 10 s ago keeps it
		{mk(2*time.Minute, 2*time.Minute, 1), false},  // a call in flight keeps it
	}
	for _, c := range cases {
		got := len(expired([]*poolEntry{c.e}, now, ttl)) == 1
		if got != c.want {
			t.Errorf("%s: expired = %v, want %v", c.e.id, got, c.want)
		}
	}
}

func TestPoolReuseAndIdleEviction(t *testing.T) {
	clock := &fakeClock{now: time.Now()}
	ts := newTestSystem(t, func(c *config.Config, o *Options) {
		c.PoolIdleTTLSeconds = 60
		o.Now, o.NoSweep = clock.Now, true
	})
	first, err := ts.ask(t, &AcquirePooled{Template: "fake"})
	if err != nil {
		t.Fatal(err)
	}
	a := first.(*PoolAcquired)
	if a.Reused || !a.Server.Pooled {
		t.Fatalf("first acquire: reused=%v pooled=%v", a.Reused, a.Server.Pooled)
	}
	second, err := ts.ask(t, &AcquirePooled{Template: "fake"})
	if err != nil {
		t.Fatal(err)
	}
	if b := second.(*PoolAcquired); !b.Reused || b.Server.ServerID != a.Server.ServerID {
		t.Fatalf("second acquire: reused=%v id %s, want reuse of %s", b.Reused, b.Server.ServerID, a.Server.ServerID)
	}

	ts.sweep(t)
	if ts.server(t, a.Server.ServerID).Status != StateRunning {
		t.Fatal("a fresh pooled server was evicted")
	}
	clock.Advance(61 * time.Second)
	ts.sweep(t)
	checkFor(t, 5*time.Second, 10*time.Millisecond, func() error {
		res, _ := ts.ask(t, &ListServers{})
		if n := len(res.(*ServerList).Servers); n != 0 {
			return fmt.Errorf("%d servers after eviction", n)
		}
		return nil
	})
	if !processGone(a.Server.PID) {
		t.Fatal("evicted server's process is still there")
	}
	if !hasEvent(ts.events(t, a.Server.ServerID), EventPoolEvicted) {
		t.Error("no pool_evicted event")
	}
	third, err := ts.ask(t, &AcquirePooled{Template: "fake"})
	if err != nil {
		t.Fatal(err)
	}
	if c := third.(*PoolAcquired); c.Reused || c.Server.ServerID == a.Server.ServerID {
		t.Fatal("acquire after eviction reused the evicted server")
	}
}

// Concurrent acquires of a template with no pooled server start one
// server, not one each.
func TestPoolConcurrentAcquireStartsOne(t *testing.T) {
	ts := newTestSystem(t, func(_ *config.Config, o *Options) { o.NoSweep = true })
	ids := make([]string, 8)
	var wg sync.WaitGroup
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := ts.Ask(&AcquirePooled{Template: "fake"}, 30*time.Second)
			if err != nil {
				t.Error(err)
				return
			}
			ids[i] = res.(*PoolAcquired).Server.ServerID
		}()
	}
	wg.Wait()
	for _, id := range ids[1:] {
		if id != ids[0] {
			t.Fatalf("concurrent acquires got different servers: %v", ids)
		}
	}
}

func TestPoolUnknownTemplate(t *testing.T) {
	ts := newTestSystem(t, func(_ *config.Config, o *Options) { o.NoSweep = true })
	if _, err := ts.ask(t, &AcquirePooled{Template: "nope"}); err == nil {
		t.Fatal("acquire of an unknown template succeeded")
	}
}

// sweep runs one idle sweep of the pool and waits until it has been handled.
func (ts *testSystem) sweep(t *testing.T) {
	t.Helper()
	ts.as.Root.Send(ts.pool, &poolSweep{})
	// The pool handles messages in order: an answered acquire of an unknown
	// template means the sweep before it is done.
	_, _ = ts.ask(t, &AcquirePooled{Template: "no-such-template-for-sync"})
}
