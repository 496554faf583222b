package main

import (
	"runtime/debug"
	"sync"
	"time"
)

// pauseGC turns the garbage collector off for the start of `metamcp serve`
// and returns the function that turns it back on, which serve calls once
// initialize is answered; it is back on after at most d in any case.
//
// The start allocates a few MiB at once — most of it protoactor-go's
// process registry, 1024 concurrent maps of 32 shards each — and with the
// collector on, that runs one or two collections, on a 2-core machine
// competing with the start itself, for garbage that is not there yet
// (docs/benchmarks.md, row 6).
func pauseGC(d time.Duration) (resume func()) {
	old := debug.SetGCPercent(-1)
	var once sync.Once
	resume = func() { once.Do(func() { debug.SetGCPercent(old) }) }
	time.AfterFunc(d, resume) // when it fires after an earlier resume, once makes it a no-op
	return resume
}
