//go:build linux

package actors

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/server"

	"github.com/metamcp/metamcp/wire"
)

// serveDeafOnUSR1 is the fake server on a stdin it closes on SIGUSR1,
// then lives on: a child that is dead to metamcp's writes (EPIPE) but not
// yet exited, as a child is between its death and its reaping.
func serveDeafOnUSR1() {
	if err := syscall.SetNonblock(0, true); err != nil { // pollable: Close ends the read
		os.Exit(98)
	}
	stdin := os.NewFile(0, "stdin")
	usr1 := make(chan os.Signal, 1)
	signal.Notify(usr1, syscall.SIGUSR1)
	go func() {
		<-usr1
		stdin.Close()
	}()
	_ = server.NewStdioServer(newFakeServer()).Listen(context.Background(), stdin, os.Stdout)
	time.Sleep(time.Hour)
}

// runningDirServer is a server of the current directory, once it runs.
func runningDirServer(t *testing.T, ts *testSystem, id string) *DirServer {
	t.Helper()
	var srv *DirServer
	checkFor(t, 5*time.Second, 5*time.Millisecond, func() error {
		for _, s := range ts.Directory().Servers {
			if s.ID == id && s.Running() {
				srv = s
				return nil
			}
		}
		return fmt.Errorf("%s is not running in the directory", id)
	})
	return srv
}

// A request the relay path cannot write — the child no longer reads,
// though it has not been reaped — never reached the child: Relay reports
// false, so that the caller goes the actor way (which waits for the
// restart), instead of failing the call with the write error.
func TestRelayUnwritable(t *testing.T) {
	ts := newTestSystem(t, nil, fakeTemplate(t, "deaf", "deaf_on_usr1", nil))
	created := ts.create(t, "deaf")
	srv := runningDirServer(t, ts, created.Server.ServerID)

	params := json.RawMessage(`{"name":"echo","arguments":{"text":"hi"}}`)
	answered := make(chan *wire.Msg, 1)
	if _, ok := ts.Relay(srv, "tools/call", params, time.Time{}, func(m *wire.Msg, err error) {
		if err != nil {
			t.Errorf("echo: %v", err)
		}
		answered <- m
	}); !ok {
		t.Fatal("Relay to a running child reported false")
	}
	select {
	case <-answered:
	case <-time.After(5 * time.Second):
		t.Fatal("no answer to echo")
	}

	pid := created.Server.PID
	if err := syscall.Kill(pid, syscall.SIGUSR1); err != nil {
		t.Fatal(err)
	}
	fd0 := "/proc/" + strconv.Itoa(pid) + "/fd/0"
	checkFor(t, 5*time.Second, 5*time.Millisecond, func() error {
		if _, err := os.Lstat(fd0); err == nil {
			return fmt.Errorf("the child still has its stdin open")
		}
		return nil
	})

	var got error
	_, ok := ts.Relay(srv, "tools/call", params, time.Time{}, func(_ *wire.Msg, err error) { got = err })
	if ok || got != nil {
		t.Errorf("Relay to a child that no longer reads: ok %v, done(%v); want false and done not called", ok, got)
	}
	if n := srv.route.stats.inFlight.Load(); n != 0 {
		t.Errorf("in flight after the unwritten request: %d", n)
	}
}
