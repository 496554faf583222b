package wire

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"
)

// echoPeer is the other end: it answers every request with its params.
func echoPeer(t *testing.T, r io.Reader, w io.Writer) {
	t.Helper()
	other := NewPeer(NewWriter(w))
	other.OnRequest = func(m *Msg) {
		if m.Method == "fail" {
			_ = other.RespondError(m.ID, &Error{Code: -1, Message: "asked to fail"})
			return
		}
		_ = other.Respond(m.ID, m.Params)
	}
	go func() { _ = other.Serve(NewReader(r, 0)) }()
}

func pair(t *testing.T) (*Peer, func()) {
	aR, bW := io.Pipe()
	bR, aW := io.Pipe()
	echoPeer(t, bR, bW)
	p := NewPeer(NewWriter(aW))
	done := make(chan struct{})
	go func() { defer close(done); _ = p.Serve(NewReader(aR, 0)) }()
	return p, func() { aW.Close(); bW.Close(); <-done }
}

func TestPeerCalls(t *testing.T) {
	p, stop := pair(t)
	defer stop()
	ctx := context.Background()
	var wg sync.WaitGroup
	for i := range 50 { // concurrent calls each get their own answer
		wg.Add(1)
		go func() {
			defer wg.Done()
			params := json.RawMessage(`{"n":` + string(rune('0'+i%10)) + `}`)
			res, _, err := p.Call(ctx, "echo", params)
			if err != nil || string(res) != string(params) {
				t.Errorf("call %d: %s %v", i, res, err)
			}
		}()
	}
	wg.Wait()
	if _, _, err := p.Call(ctx, "fail", nil); !errors.As(err, new(*Error)) {
		t.Errorf("an error answer: %v", err)
	}
	if n := p.Pending(); n != 0 {
		t.Errorf("%d requests left pending", n)
	}
}

func TestPeerCloseFailsPending(t *testing.T) {
	r, w := io.Pipe() // nobody answers
	go io.Copy(io.Discard, r)
	p := NewPeer(NewWriter(w))
	got := make(chan error, 1)
	p.Go("slow", nil, func(_ *Msg, err error) { got <- err })
	why := errors.New("child exited")
	p.Close(why)
	select {
	case err := <-got:
		if !errors.Is(err, why) || errors.Is(err, ErrNotSent) {
			t.Fatalf("pending call failed with %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close left a call pending")
	}
	p.Go("later", nil, func(_ *Msg, err error) { got <- err })
	if err := <-got; !errors.Is(err, why) || !errors.Is(err, ErrNotSent) {
		t.Fatalf("a call after Close: %v, want ErrNotSent wrapping the reason", err)
	}
}

func TestPeerCallContext(t *testing.T) {
	r, w := io.Pipe()
	go io.Copy(io.Discard, r)
	p := NewPeer(NewWriter(w))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, _, err := p.Call(ctx, "slow", nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v", err)
	}
	if p.Pending() != 0 {
		t.Fatal("a timed-out call stays pending")
	}
}

func TestReaderLongLines(t *testing.T) {
	long := strings.Repeat("x", 200<<10)
	in := "\n  \n{\"a\":1}\n" + `{"big":"` + long + "\"}\n" + `{"huge":"` + long + long + "\"}\n{\"b\":2}"
	r := NewReader(strings.NewReader(in), 300<<10)
	want := []string{`{"a":1}`, `{"big":"` + long + `"}`, "too long", `{"b":2}`}
	for _, w := range want {
		line, err := r.Line()
		switch {
		case w == "too long" && !errors.Is(err, ErrTooLong):
			t.Fatalf("want ErrTooLong, got %v", err)
		case w != "too long" && (err != nil || string(line) != w):
			t.Fatalf("want %.20q, got %.20q %v", w, line, err)
		}
	}
	if _, err := r.Line(); err != io.EOF {
		t.Fatalf("at the end: %v", err)
	}
}

// A handler that panics is reported, and the Peer reads on.
func TestPeerHandlerPanic(t *testing.T) {
	in := strings.NewReader(`{"jsonrpc":"2.0","method":"boom"}` + "\n" + `{"jsonrpc":"2.0","method":"fine"}` + "\n")
	p := NewPeer(NewWriter(io.Discard))
	var got []string
	var reported error
	p.OnNotification = func(m *Msg) {
		if m.Method == "boom" {
			panic("handler bug")
		}
		got = append(got, m.Method)
	}
	p.OnInvalid = func(_ []byte, err error) { reported = err }
	if err := p.Serve(NewReader(in, 0)); err != nil {
		t.Fatal(err)
	}
	if !errors.Is(reported, ErrHandlerPanic) || len(got) != 1 || got[0] != "fine" {
		t.Fatalf("reported %v, handled %v", reported, got)
	}
}
