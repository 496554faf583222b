package wire

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
)

// ErrClosed is returned for calls on a Peer whose input has ended.
var ErrClosed = errors.New("connection closed")

// ErrHandlerPanic is reported to OnInvalid when a handler or a Done
// panicked on a message; the Peer reads on.
var ErrHandlerPanic = errors.New("a handler panicked")

// ErrNotSent wraps the error of a request that never left: the Peer was
// closed before it, or writing it failed. The other side never saw it, so
// it is safe to send again elsewhere.
var ErrNotSent = errors.New("request not sent")

// Done receives the answer to a request sent with Go: the response message
// (Result or Error set), or err when none will come.
type Done func(resp *Msg, err error)

// Peer is one end of a JSON-RPC connection: it sends requests and matches
// the responses, and hands incoming requests and notifications to its
// handlers.
type Peer struct {
	w      *Writer
	nextID atomic.Int64

	mu      sync.Mutex
	pending map[int64]Done
	closed  error // set once: why no more answers come

	// OnRequest receives each incoming request; answer it with Respond or
	// RespondError. nil: every request is answered "method not found".
	OnRequest func(m *Msg)
	// OnNotification receives each incoming notification.
	OnNotification func(m *Msg)
	// OnInvalid is told of lines that are not JSON-RPC messages.
	OnInvalid func(line []byte, err error)
}

// NewPeer writes to w. Set the handlers before Serve.
func NewPeer(w *Writer) *Peer { return &Peer{w: w, pending: map[int64]Done{}} }

// Go sends a request and calls done with its answer, once, from the
// reading goroutine (or from Close, or at once when the write fails). It
// returns the request's id, for Forget.
func (p *Peer) Go(method string, params json.RawMessage, done Done) int64 {
	id := p.NewID()
	p.Send(id, method, params, done)
	return id
}

// NewID reserves the id of a request to Send: for a caller that must know
// it before the answer can come (to arm a timer that cancels it).
func (p *Peer) NewID() int64 { return p.nextID.Add(1) }

// Send is Go with an id from NewID.
func (p *Peer) Send(id int64, method string, params json.RawMessage, done Done) {
	p.mu.Lock()
	if p.closed != nil {
		err := p.closed
		p.mu.Unlock()
		done(nil, fmt.Errorf("%w: %w", ErrNotSent, err))
		return
	}
	p.pending[id] = done
	p.mu.Unlock()
	err := p.w.Build(func(b []byte) []byte { return AppendRequest(b, id, method, params) })
	if err != nil && p.Forget(id) {
		done(nil, fmt.Errorf("%w: %w", ErrNotSent, err))
	}
}

// Forget drops a pending request; it reports whether it was still pending
// (then its Done will not be called).
func (p *Peer) Forget(id int64) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	_, ok := p.pending[id]
	delete(p.pending, id)
	return ok
}

// Call sends a request and waits for its result until ctx ends. The id is
// returned also on error, so that a caller can cancel it at the other end.
func (p *Peer) Call(ctx context.Context, method string, params json.RawMessage) (json.RawMessage, int64, error) {
	type answer struct {
		m   *Msg
		err error
	}
	ch := make(chan answer, 1)
	id := p.Go(method, params, func(m *Msg, err error) { ch <- answer{m, err} })
	select {
	case a := <-ch:
		if a.err != nil {
			return nil, id, a.err
		}
		if a.m.Error != nil {
			return nil, id, a.m.Error
		}
		return a.m.Result, id, nil
	case <-ctx.Done():
		if !p.Forget(id) { // answered meanwhile
			a := <-ch
			if a.err == nil && a.m.Error == nil {
				return a.m.Result, id, nil
			}
		}
		return nil, id, ctx.Err()
	}
}

// Notify sends a notification.
func (p *Peer) Notify(method string, params json.RawMessage) error {
	return p.w.Build(func(b []byte) []byte { return AppendNotification(b, method, params) })
}

// Respond answers an incoming request.
func (p *Peer) Respond(id, result json.RawMessage) error {
	return p.w.Build(func(b []byte) []byte { return AppendResult(b, id, result) })
}

// RespondError answers an incoming request with an error.
func (p *Peer) RespondError(id json.RawMessage, e *Error) error {
	return p.w.Build(func(b []byte) []byte { return AppendError(b, id, e) })
}

// Write sends a message built elsewhere (one JSON object).
func (p *Peer) Write(msg []byte) error { return p.w.Write(msg) }

// Pending counts requests still waiting for an answer.
func (p *Peer) Pending() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.pending)
}

// Serve reads messages from r until it ends and returns the read error
// (nil at EOF). It does not Close the Peer: its owner does, with the reason
// it knows (a child's exit, a client gone).
func (p *Peer) Serve(r *Reader) error {
	for {
		line, err := r.Line()
		if errors.Is(err, ErrTooLong) {
			p.invalid(nil, err)
			continue
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		p.dispatch(line)
	}
}

func (p *Peer) dispatch(line []byte) {
	defer func() { // a handler's bug must not end the process: it is reported, reading goes on
		if r := recover(); r != nil {
			p.invalid(line, fmt.Errorf("%w: %v", ErrHandlerPanic, r))
		}
	}()
	m, err := Decode(line)
	switch {
	case err != nil:
		p.invalid(line, err)
	case m.IsResponse():
		p.answer(&m)
	case m.IsRequest():
		p.request(&m)
	case p.OnNotification != nil:
		p.OnNotification(&m)
	}
}

func (p *Peer) request(m *Msg) {
	if p.OnRequest == nil {
		_ = p.RespondError(m.ID, &Error{Code: CodeMethodNotFound, Message: "method not found: " + m.Method})
		return
	}
	p.OnRequest(m)
}

func (p *Peer) answer(m *Msg) {
	id, ok := IntID(m.ID)
	if !ok {
		p.invalid(nil, errors.New("response with an id this side never sent: "+string(m.ID)))
		return
	}
	p.mu.Lock()
	done := p.pending[id]
	delete(p.pending, id)
	p.mu.Unlock()
	if done != nil {
		done(m, nil)
	}
}

func (p *Peer) invalid(line []byte, err error) {
	if p.OnInvalid != nil {
		p.OnInvalid(line, err)
	}
}

// Close fails every pending request with why and every later one at once.
// Only the first call counts.
func (p *Peer) Close(why error) {
	p.mu.Lock()
	if p.closed != nil {
		p.mu.Unlock()
		return
	}
	p.closed = why
	pending := p.pending
	p.pending = map[int64]Done{}
	p.mu.Unlock()
	for _, done := range pending {
		done(nil, why)
	}
}
