package child

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

func filtered(t *testing.T, in string, oneByte bool) (string, *stdoutFilter) {
	t.Helper()
	var r io.Reader = strings.NewReader(in)
	if oneByte {
		r = iotest.OneByteReader(r)
	}
	f := newStdoutFilter(r)
	out, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	return string(out), f
}

func TestStdoutFilter(t *testing.T) {
	in := "Starting server...\n{\"jsonrpc\":\"2.0\",\"id\":1}\n  \n\t[1]\nDEBUG: x {y}\n{\"a\":1}\n"
	want := "{\"jsonrpc\":\"2.0\",\"id\":1}\n[1]\n{\"a\":1}\n"
	for _, one := range []bool{false, true} {
		got, f := filtered(t, in, one)
		if got != want {
			t.Errorf("oneByte=%v: got %q, want %q", one, got, want)
		}
		if n, sample := f.garbage(); n != 2 || sample != "DEBUG: x {y}" {
			t.Errorf("garbage = %d %q, want 2 and the last line", n, sample)
		}
	}
}

// A JSON line longer than the cap is cut and ended there; what follows it
// passes again.
func TestStdoutFilterCutsHugeLine(t *testing.T) {
	huge := "{" + strings.Repeat("x", maxMessageBytes+1000) + "}\n"
	got, f := filtered(t, huge+"{\"ok\":1}\n", false)
	lines := strings.Split(strings.TrimSuffix(got, "\n"), "\n")
	if len(lines) != 2 || len(lines[0]) != maxMessageBytes || lines[1] != `{"ok":1}` {
		t.Fatalf("got %d lines, first %d bytes, last %q", len(lines), len(lines[0]), lines[len(lines)-1])
	}
	if n, _ := f.garbage(); n != 1 {
		t.Errorf("garbage count %d, want 1", n)
	}
	// Garbage is never held: a 64 MiB non-JSON line passes through a
	// 64 KiB buffer.
	_, f = filtered(t, strings.Repeat("z", 64<<20)+"\n", false)
	if cap(f.buf) > 64<<10 || cap(f.sample) > 1<<10 {
		t.Errorf("buffers grew: %d, %d", cap(f.buf), cap(f.sample))
	}
}

func TestStartErrorQuotesStderrOnce(t *testing.T) {
	exit := &ExitError{Exit: Exit{Code: 3, Stderr: []string{"boom"}}}
	e := &StartError{Err: fmt.Errorf("initialize: %w", exit), Stderr: []string{"boom"}}
	if got := e.Error(); strings.Count(got, "boom") != 1 {
		t.Errorf("%q quotes the stderr line more than once", got)
	}
	e = &StartError{Err: errors.New("no answer"), Stderr: []string{"a", "b"}}
	if got := e.Error(); got != "no answer; stderr: a | b" {
		t.Errorf("got %q", got)
	}
}
