package child

import (
	"bytes"
	"io"
	"sync"
)

// maxMessageBytes caps one JSON-RPC message from a child. mcp-go reads a
// child's stdout a line at a time with no limit, so a child that writes a
// huge line would cost metamcp its size, several times over.
const maxMessageBytes = 32 << 20

// stdoutFilter sits between a child's stdout and the MCP session. It passes
// lines that start (after blanks) with '{' or '[' — JSON-RPC — and drops
// every other line as it streams past, without buffering it, keeping a
// sample of it for error messages. A JSON line longer than maxMessageBytes
// is cut there and ended, so the session sees one unparseable line, which
// it skips, instead of holding the whole of it.
type stdoutFilter struct {
	r   io.Reader
	buf []byte
	// line state
	atStart bool // at the start of a line, before any non-blank byte
	drop    bool // dropping the rest of this line
	passed  int  // bytes of this line passed on

	mu      sync.Mutex
	dropped int    // lines dropped
	sample  []byte // the start of the last dropped line
}

func newStdoutFilter(r io.Reader) *stdoutFilter {
	return &stdoutFilter{r: r, buf: make([]byte, 64<<10), atStart: true}
}

func (f *stdoutFilter) Read(p []byte) (int, error) {
	for {
		n, err := f.r.Read(f.buf[:min(len(f.buf), len(p))])
		out := f.filter(f.buf[:n], p)
		if out > 0 || err != nil {
			return out, err
		}
	}
}

// filter copies the bytes of in that pass into p (len(p) >= len(in)) and
// returns how many. It works on spans (bytes.IndexByte), not byte by byte:
// a flood of garbage costs a scan for newlines and nothing else.
func (f *stdoutFilter) filter(in, p []byte) int {
	out := 0
	for len(in) > 0 {
		if f.atStart {
			b := in[0]
			if b == ' ' || b == '\t' || b == '\r' || b == '\n' {
				in = in[1:] // leading blanks and empty lines: dropped, harmless
				continue
			}
			f.atStart, f.passed, f.drop = false, 0, b != '{' && b != '['
			if f.drop {
				f.noteDropped(nil, true)
			}
		}
		end := bytes.IndexByte(in, '\n')
		span := in
		if end >= 0 {
			span = in[:end]
		}
		if f.drop {
			f.noteDropped(span, false)
		} else {
			keep := min(len(span), maxMessageBytes-f.passed)
			out += copy(p[out:], span[:keep])
			f.passed += keep
			if keep < len(span) { // over the cap: end the line here, drop the rest
				p[out] = '\n'
				out++
				f.drop = true
				f.noteDropped(span[keep:], true)
			}
		}
		if end < 0 {
			break
		}
		if !f.drop {
			p[out] = '\n'
			out++
		}
		f.atStart = true
		in = in[end+1:]
	}
	return out
}

const sampleBytes = 120

func (f *stdoutFilter) noteDropped(b []byte, first bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if first {
		f.dropped++
		f.sample = f.sample[:0]
	}
	if room := sampleBytes - len(f.sample); room > 0 {
		f.sample = append(f.sample, b[:min(room, len(b))]...)
	}
}

// garbage reports how many non-JSON lines the child wrote and the start of
// the last one.
func (f *stdoutFilter) garbage() (int, string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.dropped, string(f.sample)
}
