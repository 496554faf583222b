package child

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/rs/zerolog"

	"github.com/metamcp/metamcp/wire"
)

// Options say what to run and how to report on it.
type Options struct {
	Command string
	Args    []string
	Env     []string // the whole environment of the child, "K=V"
	Dir     string
	Log     zerolog.Logger
	// StopGrace is each rung's wait in the stop ladder (default 500ms).
	StopGrace time.Duration
	// OnExit is called once, from the goroutine that reaped the process,
	// after the exit is recorded. It must not block.
	OnExit func(Exit)
	// OnNotification receives every notification the child sends. It is
	// called from the reading goroutine and must not block.
	OnNotification func(m *wire.Msg)
	// OnRequest receives every request the child sends (sampling,
	// elicitation, roots, ping); answer it with Respond or RespondError. It
	// is called from the reading goroutine and must not block. nil: pings
	// are answered and every other request is refused.
	OnRequest func(c *Conn, m *wire.Msg)
	// Capabilities are the client capabilities declared to the child in
	// initialize (default {}): a gateway declares those it forwards.
	Capabilities json.RawMessage
	// Shim, when set, is an executable that understands
	// "shim --ppid PID -- CMD ARGS..." (metamcp itself). Where the platform
	// supports it (Linux, macOS), the child runs under it so that no
	// descendant survives metamcp; elsewhere it is ignored.
	Shim string
	// Owner is the instance's mark (NewOwnerMark), put in the child's
	// environment as METAMCP_OWNER for the guardian and the start-up sweep.
	Owner string
}

// Conn is one running child and the MCP session with it.
type Conn struct {
	opts     Options
	cmd      *exec.Cmd
	pid      int           // the process metamcp forked: the group leader
	real     atomic.Int64  // the child's own pid when a shim runs it; 0 until known
	status   atomic.Uint64 // the child's wait status + 1, as the shim reported it; 0 until then
	reported chan struct{} // closed when the shim's report has ended (or at once: no shim)
	peer     *wire.Peer
	stdin    *os.File
	stdout   *os.File
	out      *stdoutFilter // what of stdout reaches the session
	stderr   *os.File
	ring     *ring

	nextID    atomic.Int64
	requested atomic.Bool
	exited    chan struct{} // closed once exit is set
	reaped    chan struct{} // closed as soon as the process is reaped, before the group is cleaned up
	exit      Exit
	wg        sync.WaitGroup // the waiter and the stderr drain
	closeOnce sync.Once
	started   time.Time
	mark      string // METAMCP_OWNER of this child and its descendants, or ""
}

// Start forks the child and begins its MCP session (no handshake yet: see
// Initialize). On error no process is left running.
func Start(opts Options) (*Conn, error) {
	if opts.StopGrace <= 0 {
		opts.StopGrace = 500 * time.Millisecond
	}
	c := &Conn{opts: opts, ring: newRing(ringLines), exited: make(chan struct{}), reaped: make(chan struct{})}
	pidR, err := c.spawn()
	if err != nil {
		return nil, err
	}
	// The session exists before the goroutines that watch the process, so
	// a child that dies at once finds it to close.
	c.out = newStdoutFilter(c.stdout)
	c.peer = wire.NewPeer(wire.NewWriter(c.stdin))
	c.peer.OnNotification, c.peer.OnRequest = opts.OnNotification, c.onRequest
	c.peer.OnInvalid = func(_ []byte, err error) {
		if errors.Is(err, wire.ErrHandlerPanic) {
			c.opts.Log.Error().Err(err).Msg("a message of the child made metamcp panic; the session goes on")
			return
		}
		c.opts.Log.Debug().Err(err).Msg("child sent a line that is not JSON-RPC")
	}
	c.watch(pidR)
	c.wg.Add(1)
	go func() { // the session's reader: ends when stdout does
		defer c.wg.Done()
		_ = c.peer.Serve(wire.NewReader(c.out, maxMessageBytes+1))
	}()
	return c, nil
}

// spawn forks the child with its pipes. It returns the read end of the
// shim's report, or nil without a shim.
func (c *Conn) spawn() (*os.File, error) {
	inR, inW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		closeAll(inR, inW)
		return nil, err
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		closeAll(inR, inW, outR, outW)
		return nil, err
	}
	cmd, pidR, err := c.command()
	if err != nil {
		closeAll(inR, inW, outR, outW, errR, errW)
		return nil, err
	}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = inR, outW, errW
	err = startCmd(cmd)
	closeAll(inR, outW, errW) // the child's ends: ours are closed either way
	closeAll(cmd.ExtraFiles...)
	if err != nil {
		closeAll(inW, outR, errR)
		if pidR != nil {
			pidR.Close()
		}
		return nil, fmt.Errorf("starting %s: %w", c.opts.Command, err)
	}
	c.cmd, c.pid, c.started = cmd, cmd.Process.Pid, time.Now()
	c.stdin, c.stdout, c.stderr = inW, outR, errR
	return pidR, nil
}

// watch starts the goroutines that follow the process: the shim's report
// reader, the stderr drain and the one waiter.
func (c *Conn) watch(pidR *os.File) {
	c.reported = make(chan struct{})
	if pidR != nil {
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			c.readReport(pidR)
		}()
	} else {
		close(c.reported)
	}
	drained := make(chan struct{})
	c.wg.Add(2)
	go func() {
		defer c.wg.Done()
		defer close(drained)
		drainStderr(c.stderr, c.ring, c.opts.Log)
	}()
	go c.wait(drained)
}

// wait is the only goroutine that waits for the process. It records the
// exit, kills what is left of the group, fails every call in flight and
// reports the exit.
func (c *Conn) wait(drained <-chan struct{}) {
	defer c.wg.Done()
	err := c.cmd.Wait()
	close(c.reaped)
	_ = killGroup(c.pid) // grandchildren left in the group die with the leader
	releaseGroup(c.pid)
	killLeftBehind(c.mark) // and those that left it
	select {               // let the last stderr lines arrive before reporting
	case <-drained:
	case <-time.After(100 * time.Millisecond):
		c.stderr.Close() // a process outside the group still holds the pipe
	}
	c.exit = exitFromWait(err, c.requested.Load(), c.ring.tail(5))
	select { // a shim reports how the child itself ended
	case <-c.reported:
		if st := c.status.Load(); st > 0 {
			c.exit.Code, c.exit.Signal = shimStatus(st - 1)
		}
	case <-time.After(100 * time.Millisecond):
	}
	close(c.exited)
	// Unblock the session: pending requests fail now, not at their timeout.
	c.peer.Close(&ExitError{Exit: c.exit})
	c.stdout.Close()
	if c.opts.OnExit != nil {
		c.opts.OnExit(c.exit)
	}
}

// PID is the OS process id of the child: the server itself, also when a
// shim runs it (as soon as the shim has reported it; the shim's pid before).
func (c *Conn) PID() int {
	if p := c.real.Load(); p > 0 {
		return int(p)
	}
	return c.pid
}

// GroupID is the process group of the child and everything it started
// (the pid of the process metamcp forked).
func (c *Conn) GroupID() int { return c.pid }

// StartedAt is when the process was forked.
func (c *Conn) StartedAt() time.Time { return c.started }

// Exited is closed when the process has exited and been reaped.
func (c *Conn) Exited() <-chan struct{} { return c.exited }

// Reaped is closed as soon as the process has been reaped: earlier than
// Exited, which waits for the group's clean-up and the last stderr lines.
// Whoever must not take the child for alive watches this one.
func (c *Conn) Reaped() <-chan struct{} { return c.reaped }

// ExitInfo is valid once Exited is closed.
func (c *Conn) ExitInfo() Exit {
	<-c.exited
	return c.exit
}

// Garbage reports how many lines the child wrote to stdout that were not
// JSON-RPC (they are dropped), and the start of the last one.
func (c *Conn) Garbage() (int, string) {
	if c.out == nil {
		return 0, ""
	}
	return c.out.garbage()
}

// StderrTail returns up to n of the child's last stderr lines.
func (c *Conn) StderrTail(n int) []string { return c.ring.tail(n) }

// ResidentBytes samples the child's resident memory from the OS.
func (c *Conn) ResidentBytes() (int64, error) { return residentBytes(c.PID()) }

// ProcessResident samples the resident memory of any process from the OS
// (not supported everywhere: an error then).
func ProcessResident(pid int) (int64, error) { return residentBytes(pid) }

// Close stops the child by the ladder and waits until it is reaped and every
// goroutine of the Conn has ended.
func (c *Conn) Close() error {
	c.closeOnce.Do(func() {
		c.requested.Store(true)
		c.stdin.Close() // a well-behaved server exits now
		if !c.waitExit(c.opts.StopGrace) {
			_ = terminateGroup(c.pid)
			if !c.waitExit(c.opts.StopGrace) {
				c.kill()
				<-c.exited
			}
		}
		c.wg.Wait()
		c.stdin.Close()
		c.stderr.Close()
	})
	return nil
}

func (c *Conn) waitExit(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-c.exited:
		return true
	case <-t.C:
		return false
	}
}

func (c *Conn) onRequest(m *wire.Msg) {
	switch {
	case c.opts.OnRequest != nil:
		c.opts.OnRequest(c, m)
	case m.Method == "ping":
		_ = c.peer.Respond(m.ID, nil)
	default:
		_ = c.peer.RespondError(m.ID, &wire.Error{Code: wire.CodeMethodNotFound,
			Message: m.Method + " is not available: metamcp has no client to ask"})
	}
}

// Respond answers a request of the child.
func (c *Conn) Respond(id, result json.RawMessage) error { return c.peer.Respond(id, result) }

// RespondError answers a request of the child with an error.
func (c *Conn) RespondError(id json.RawMessage, e *wire.Error) error {
	return c.peer.RespondError(id, e)
}

func closeAll(files ...*os.File) {
	for _, f := range files {
		f.Close()
	}
}

// errFor turns a transport failure into the error a caller can act on.
func (c *Conn) errFor(ctx context.Context, err error) error {
	select {
	case <-c.exited:
		return &ExitError{Exit: c.exit}
	default:
	}
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return ErrTimeout
	case ctx.Err() != nil:
		return ErrCancelled
	case errors.Is(err, wire.ErrClosed), errors.Is(err, syscall.EPIPE),
		errors.Is(err, os.ErrClosed), errors.Is(err, io.ErrClosedPipe), errors.Is(err, io.EOF):
		// The pipes failed first (the child is gone, or going); the exit
		// is a moment behind.
		if c.waitExit(time.Second) {
			return &ExitError{Exit: c.exit}
		}
		return ErrClosed
	}
	return err
}
