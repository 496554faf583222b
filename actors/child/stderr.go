package child

import (
	"bufio"
	"io"
	"sync"

	"github.com/rs/zerolog"
)

const (
	ringLines   = 50
	maxLineSize = 4096
)

// ring keeps the last lines a child wrote to stderr. Safe for concurrent use.
type ring struct {
	mu    sync.Mutex
	lines []string
	next  int
	full  bool
}

func newRing(n int) *ring { return &ring{lines: make([]string, n)} }

func (r *ring) add(s string) {
	r.mu.Lock()
	r.lines[r.next] = s
	r.next = (r.next + 1) % len(r.lines)
	if r.next == 0 {
		r.full = true
	}
	r.mu.Unlock()
}

// tail returns up to n of the most recent lines, oldest first.
func (r *ring) tail(n int) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	size := r.next
	if r.full {
		size = len(r.lines)
	}
	if n > size {
		n = size
	}
	out := make([]string, 0, n)
	for i := size - n; i < size; i++ {
		idx := i
		if r.full {
			idx = (r.next + i) % len(r.lines)
		}
		out = append(out, r.lines[idx])
	}
	return out
}

// drainStderr reads src line by line until it fails, keeping each line (cut
// at maxLineSize) in the ring and logging it. Memory stays bounded however
// much the child writes.
func drainStderr(src io.Reader, r *ring, log zerolog.Logger) {
	br := bufio.NewReaderSize(src, maxLineSize)
	for {
		line, err := br.ReadSlice('\n')
		if len(line) > 0 {
			s := trimEOL(line)
			if err == bufio.ErrBufferFull {
				s += " …"
				skipRestOfLine(br)
				err = nil
			}
			if s != "" {
				r.add(s)
				log.Info().Str("stderr", s).Msg("child stderr")
			}
		}
		if err != nil {
			return
		}
	}
}

func skipRestOfLine(br *bufio.Reader) {
	for {
		_, err := br.ReadSlice('\n')
		if err != bufio.ErrBufferFull {
			return
		}
	}
}

func trimEOL(b []byte) string {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return string(b)
}
