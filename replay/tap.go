package replay

import (
	"bytes"
	"errors"
	"io"
	"sync/atomic"
)

// errRowTooLarge is returned by tap.Read when the row being parsed has grown past the limit; the
// row reader turns it into a too_large reject and resynchronizes after the row.
var errRowTooLarge = errors.New("replay: row above the size limit")

// maxTapRead bounds each read from the source, so a parser's read-ahead past the current row
// stays small and the limit check below stays close to the true row size.
const maxTapRead = 64 << 10

// tap sits between the (decompressed) source and a parser (encoding/csv, encoding/json). It keeps
// every byte from the start of the current row, so a row's original bytes can be sent to the
// dead-letter topic as read, counts newlines for file:line, and stops a parser that reads more
// than limit bytes past the row start (an unclosed quote or a huge field must not pull a whole
// file into memory).
type tap struct {
	src     io.Reader
	pending []byte // bytes to serve before src (left over from a resynchronization)
	buf     []byte // bytes from offset base to base+len(buf)
	base    int64  // stream offset of buf[0]; rows before it are done
	lines   int64  // newlines before base
	limit   int64  // maximum bytes read past base before errRowTooLarge
	eof     bool
}

func newTap(src io.Reader, limit int) *tap {
	return &tap{src: src, limit: int64(limit) + maxTapRead}
}

func (t *tap) Read(p []byte) (int, error) {
	if int64(len(t.buf)) > t.limit {
		return 0, errRowTooLarge
	}
	if len(p) > maxTapRead {
		p = p[:maxTapRead]
	}
	var n int
	var err error
	if len(t.pending) > 0 {
		n = copy(p, t.pending)
		t.pending = t.pending[n:]
	} else {
		n, err = t.src.Read(p)
		if err == io.EOF {
			t.eof = true
		}
	}
	t.buf = append(t.buf, p[:n]...)
	return n, err
}

// end returns the stream offset just past the last byte handed to the parser.
func (t *tap) end() int64 { return t.base + int64(len(t.buf)) }

// span returns the bytes of [from, to) in stream offsets; they must not have been dropped yet.
func (t *tap) span(from, to int64) []byte { return t.buf[from-t.base : to-t.base] }

// lineAt returns the 1-based line number of stream offset off (≥ base).
func (t *tap) lineAt(off int64) int64 {
	return t.lines + 1 + int64(bytes.Count(t.buf[:off-t.base], nl))
}

// drop forgets the bytes before stream offset off (the end of a finished row).
func (t *tap) drop(off int64) {
	k := off - t.base
	t.lines += int64(bytes.Count(t.buf[:k], nl))
	n := copy(t.buf, t.buf[k:])
	t.buf = t.buf[:n]
	t.base = off
	if cap(t.buf) > 4*maxTapRead && len(t.buf) < maxTapRead {
		t.buf = append([]byte(nil), t.buf...) // give back the memory a huge row took
	}
}

// skipLine discards bytes up to and including the next newline at or after stream offset from,
// reading from src as needed. It returns the stream offset after that newline and the bytes
// after it that were already read; the caller starts a fresh parser there.
func (t *tap) skipLine(from int64) (next int64, rest []byte, err error) {
	pos := from
	for {
		if i := bytes.IndexByte(t.buf[pos-t.base:], '\n'); i >= 0 {
			next = pos + int64(i) + 1
			rest = append([]byte(nil), t.buf[next-t.base:]...)
			rest = append(rest, t.pending...)
			return next, rest, nil
		}
		pos = t.end()
		// Read more, but keep only what is needed to count lines: a 1 GB line must not stay in memory.
		t.lines += int64(bytes.Count(t.buf, nl))
		t.base = t.end()
		t.buf = t.buf[:0]
		if t.eof && len(t.pending) == 0 {
			return t.end(), nil, nil
		}
		chunk := make([]byte, maxTapRead)
		var n int
		if len(t.pending) > 0 {
			n = copy(chunk, t.pending)
			t.pending = t.pending[n:]
		} else {
			n, err = t.src.Read(chunk)
			if err == io.EOF {
				t.eof, err = true, nil
			}
			if err != nil {
				return 0, nil, err
			}
		}
		t.buf = append(t.buf, chunk[:n]...)
	}
}

// restart makes the tap serve rest (bytes already read from src) before src again, with the
// stream position at next; used after skipLine.
func (t *tap) restart(next int64, rest []byte) {
	t.lines += int64(bytes.Count(t.buf[:next-t.base], nl))
	t.buf = t.buf[:0]
	t.base = next
	t.pending = rest
}

var nl = []byte{'\n'}

// countingReader counts the bytes read through it, for progress (MB/s, ETA) on the file as stored.
type countingReader struct {
	r io.Reader
	n *atomic.Int64
}

func (c countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// peekInLine returns the first byte at the stream position that is not a space, tab or CR,
// without consuming anything; ok is false at the end of the stream.
func (t *tap) peekInLine() (b byte, ok bool, err error) {
	mark := len(t.buf)
	defer func() {
		t.pending = append(bytes.Clone(t.buf[mark:]), t.pending...)
		t.buf = t.buf[:mark]
	}()
	chunk := make([]byte, 4096)
	for scanned := mark; ; {
		for ; scanned < len(t.buf); scanned++ {
			if c := t.buf[scanned]; c != ' ' && c != '\t' && c != '\r' {
				return c, true, nil
			}
		}
		if t.eof && len(t.pending) == 0 {
			return 0, false, nil
		}
		n, err := t.Read(chunk)
		if err != nil && !errors.Is(err, io.EOF) {
			return 0, false, err
		}
		if n == 0 && t.eof && len(t.pending) == 0 {
			return 0, false, nil
		}
	}
}
