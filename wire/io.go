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
type Writer struct {
	mu  sync.Mutex
	w   io.Writer
	buf []byte
	err error // the first write error: every later write fails with it
}

// NewWriter writes to w.
func NewWriter(w io.Writer) *Writer { return &Writer{w: w} }

// Write writes msg and a newline in one write.
func (w *Writer) Write(msg []byte) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return w.err
	}
	w.buf = append(append(w.buf[:0], msg...), '\n')
	if _, err := w.w.Write(w.buf); err != nil {
		w.err = err
	}
	if cap(w.buf) > 1<<20 { // do not keep a huge buffer for good
		w.buf = nil
	}
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
