package wire

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"sync"
)

// MaxLine is the longest message a Reader accepts by default.
const MaxLine = 32 << 20

// ErrTooLong is returned for a line longer than a Reader's limit; the line
// is skipped and reading can go on.
var ErrTooLong = errors.New("message too long")

// Reader reads messages a line at a time.
type Reader struct {
	r   *bufio.Reader
	max int
	big []byte // a line longer than the buffer, assembled
}

// NewReader reads lines of at most max bytes (MaxLine when max <= 0).
func NewReader(r io.Reader, max int) *Reader {
	if max <= 0 {
		max = MaxLine
	}
	return &Reader{r: bufio.NewReaderSize(r, 64<<10), max: max}
}

// Line returns the next non-blank line without its line end. The slice is
// valid until the next call. A line over the limit is consumed and reported
// as ErrTooLong.
func (r *Reader) Line() ([]byte, error) {
	for {
		line, err := r.next()
		if err != nil {
			return nil, err
		}
		line = bytes.TrimSpace(line)
		if len(line) > 0 {
			return line, nil
		}
	}
}

func (r *Reader) next() ([]byte, error) {
	if cap(r.big) > 1<<20 { // do not keep a huge line's buffer for good
		r.big = nil
	}
	line, err := r.r.ReadSlice('\n')
	if err == nil || (err == io.EOF && len(line) > 0) {
		return line, nil
	}
	if err != bufio.ErrBufferFull {
		return nil, err
	}
	r.big = append(r.big[:0], line...)
	for {
		line, err = r.r.ReadSlice('\n')
		if len(r.big)+len(line) > r.max {
			return nil, r.skip(err)
		}
		r.big = append(r.big, line...)
		if err != bufio.ErrBufferFull {
			if err == io.EOF && len(r.big) > 0 {
				err = nil
			}
			return r.big, err
		}
	}
}

// skip consumes the rest of an over-long line.
func (r *Reader) skip(err error) error {
	r.big = r.big[:0]
	for err == bufio.ErrBufferFull {
		_, err = r.r.ReadSlice('\n')
	}
	if err != nil && err != io.EOF {
		return err
	}
	return fmt.Errorf("%w: over %d bytes", ErrTooLong, r.max)
}

// Writer writes whole messages, one line each, safe for concurrent use.
// Messages that arrive while another is being written are gathered and go
// out together in the next write: under load many answers cost one system
// call, and an answer alone is written at once by its own goroutine, with
// no hand-off.
type Writer struct {
	w       io.Writer
	mu      sync.Mutex
	pending []byte // messages waiting for the write under way
	spare   []byte
	writing bool   // a goroutine is writing; it writes pending too
	queued  uint64 // messages handed to Write
	written uint64 // of those, how many are written
	err     error  // the first write error: every later write fails with it
	flushed *sync.Cond
}

// NewWriter writes to w.
func NewWriter(w io.Writer) *Writer {
	wr := &Writer{w: w}
	wr.flushed = sync.NewCond(&wr.mu)
	return wr
}

// Write writes msg and a newline. It returns once msg has been written
// (by this goroutine, or by the one that was writing when it came), or
// with the error that stopped writing.
func (w *Writer) Write(msg []byte) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return w.err
	}
	w.pending = append(append(w.pending, msg...), '\n')
	w.queued++
	if mine := w.queued; w.writing { // the writer takes it with its next write
		for w.written < mine && w.err == nil {
			w.flushed.Wait()
		}
		return w.err
	}
	w.writing = true
	for len(w.pending) > 0 && w.err == nil {
		out, upto := w.pending, w.queued
		w.pending, w.spare = w.spare[:0], nil
		w.mu.Unlock()
		_, err := w.w.Write(out)
		w.mu.Lock()
		if err != nil {
			w.err = err
		} else {
			w.written = upto
		}
		if cap(out) <= 1<<20 { // do not keep a huge buffer for good
			w.spare = out[:0]
		}
		w.flushed.Broadcast()
	}
	w.writing = false
	w.flushed.Broadcast()
	return w.err
}

// Build appends a message to a pooled buffer, writes it, and returns the
// buffer: for writers that build messages on a hot path.
func (w *Writer) Build(build func(b []byte) []byte) error {
	bp := bufs.Get().(*[]byte)
	b := build((*bp)[:0])
	err := w.Write(b)
	if cap(b) <= 64<<10 {
		*bp = b
		bufs.Put(bp)
	}
	return err
}

var bufs = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}
