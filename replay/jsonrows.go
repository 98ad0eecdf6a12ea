package replay

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/shopease/shopease/event"
)

// jsonArrayRows streams the elements of a top-level JSON array with json.Decoder, one element in
// memory at a time. After an element that does not parse (a truncated object, garbage) it
// resynchronizes at the next line that starts with '{' (the generator and most exporters write
// one element per line); the skipped bytes are one malformed row. Anything but white space after
// the closing ']' is one malformed row too.
type jsonArrayRows struct {
	t      *tap
	dec    *json.Decoder
	start  int64 // stream offset of the decoder's first byte, minus its synthetic prefix
	state  int
	maxRow int64
	done   int64
	num    int64
	row    row
}

const (
	jsonBefore = iota // before '['
	jsonIn            // inside the array
	jsonAfter         // after ']'
	jsonDone
)

func newJSONArrayRows(src io.Reader, maxRow int) *jsonArrayRows {
	j := &jsonArrayRows{t: newTap(src, maxRow), maxRow: int64(maxRow)}
	j.dec = json.NewDecoder(j.t)
	return j
}

// offset converts the decoder's input offset to a stream offset.
func (j *jsonArrayRows) offset() int64 { return j.start + j.dec.InputOffset() }

func (j *jsonArrayRows) next() (*row, error) {
	j.t.drop(j.done)
	switch j.state {
	case jsonBefore:
		tok, err := j.dec.Token()
		if errors.Is(err, io.EOF) {
			return nil, io.EOF
		}
		if err != nil || tok != json.Delim('[') {
			return nil, fmt.Errorf("%w: not a JSON array", ErrUnreadable)
		}
		j.state, j.done = jsonIn, j.offset()
		return j.next()
	case jsonIn:
		if !j.dec.More() {
			if _, err := j.dec.Token(); err != nil {
				// The array was cut after a complete element: nothing of a row is lost.
				j.state = jsonDone
				return j.garbage(j.done)
			}
			j.state, j.done = jsonAfter, j.offset()
			return j.next()
		}
		return j.element()
	case jsonAfter:
		j.state = jsonDone
		return j.garbage(j.done)
	}
	return nil, io.EOF
}

func (j *jsonArrayRows) element() (*row, error) {
	from := j.done
	var raw json.RawMessage
	err := j.dec.Decode(&raw)
	j.num++
	r := &j.row
	*r = row{num: j.num}
	valueStart := from + int64(leadingSeparators(j.t.span(from, j.t.end())))
	r.line = j.t.lineAt(valueStart)
	switch {
	case errors.Is(err, errRowTooLarge):
		r.reason = event.ReasonTooLarge
		r.raw = j.keep(valueStart)
		r.detail = fmt.Sprintf("element of more than %d bytes", j.maxRow)
		return r, j.resync(j.t.end())
	case err != nil:
		r.reason, r.detail = event.ReasonMalformed, err.Error()
		r.raw = j.keep(valueStart)
		if j.t.eof && len(bytes.TrimSpace(r.raw)) == 0 {
			// Cut off after a complete element and its comma: no row is lost.
			j.num--
			j.state = jsonDone
			return nil, io.EOF
		}
		if err := j.resync(valueStart); err != nil {
			return nil, err
		}
		if end := j.t.base; end-valueStart < int64(len(r.raw)) {
			r.raw = bytes.TrimRight(r.raw[:end-valueStart], " \t\r\n,")
		}
		return r, nil
	}
	j.done = j.offset()
	r.raw = j.t.span(valueStart, j.done)
	switch {
	case int64(len(r.raw)) > j.maxRow:
		r.reason, r.detail = event.ReasonTooLarge, fmt.Sprintf("element of %d bytes above the limit of %d", len(r.raw), j.maxRow)
		r.raw = r.raw[:min(len(r.raw), rawTruncate)]
	case !utf8.Valid(r.raw):
		r.reason, r.detail = event.ReasonBadEncoding, "invalid UTF-8"
	case r.raw[0] != '{':
		r.reason, r.detail = event.ReasonMalformed, "element is not an object"
	}
	return r, nil
}

// keep copies up to rawTruncate bytes from stream offset from, before a resync drops them.
func (j *jsonArrayRows) keep(from int64) []byte {
	n := min(int64(rawTruncate), j.t.end()-from)
	return bytes.Clone(j.t.span(from, from+n))
}

// resync skips to the first line after stream offset from that starts with '{' (or ']') and
// starts a fresh decoder there, fed a synthetic '[' so that it is inside an array again.
func (j *jsonArrayRows) resync(from int64) error {
	pos := from
	for {
		next, rest, err := j.t.skipLine(pos)
		if err != nil {
			return fmt.Errorf("%w: line %d: %w", ErrUnreadable, j.row.line, err)
		}
		j.t.restart(next, rest)
		b, ok, err := j.t.peekInLine()
		if err != nil {
			return fmt.Errorf("%w: line %d: %w", ErrUnreadable, j.row.line, err)
		}
		if !ok {
			j.state, j.done = jsonDone, next
			return nil
		}
		if b == '{' || b == ']' {
			j.dec = json.NewDecoder(io.MultiReader(strings.NewReader("["), j.t))
			j.start = next - 1
			j.dec.Token() // the synthetic '['
			j.state, j.done = jsonIn, next
			return nil
		}
		pos = next
	}
}

// garbage reads what follows the array (or the cut-off end of it); white space ends the file,
// anything else is one malformed row holding its first bytes.
func (j *jsonArrayRows) garbage(from int64) (*row, error) {
	for j.t.end()-from < rawTruncate && !j.t.eof {
		if _, err := j.t.Read(make([]byte, 4096)); err != nil && !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%w: after the array: %w", ErrUnreadable, err)
		}
	}
	rest := j.t.span(from, min(j.t.end(), from+rawTruncate))
	trimmed := bytes.TrimLeft(rest, " \t\r\n,")
	if len(bytes.TrimSpace(trimmed)) == 0 {
		return nil, io.EOF
	}
	j.num++
	j.row = row{
		num:    j.num,
		line:   j.t.lineAt(from + int64(len(rest)-len(trimmed))),
		raw:    bytes.TrimRight(trimmed, " \t\r\n"),
		reason: event.ReasonMalformed,
		detail: "data after the end of the JSON array, or the array is cut off",
	}
	return &j.row, nil
}

// leadingSeparators counts the white space and commas before an array element.
func leadingSeparators(b []byte) int {
	n := 0
	for n < len(b) && strings.IndexByte(" \t\r\n,", b[n]) >= 0 {
		n++
	}
	return n
}

// ndjsonRows reads one JSON object per line with a bounded line buffer: a line longer than
// maxRow is rejected as too_large and skipped without being held in memory. Blank lines are
// not rows.
type ndjsonRows struct {
	br     *bufio.Reader
	maxRow int
	line   int64
	num    int64
	buf    []byte
	row    row
}

func newNDJSONRows(src io.Reader, maxRow int) *ndjsonRows {
	return &ndjsonRows{br: bufio.NewReaderSize(src, 64<<10), maxRow: maxRow}
}

func (n *ndjsonRows) next() (*row, error) {
	for {
		line, size, err := n.readLine()
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%w: line %d: %w", ErrUnreadable, n.line+1, err)
		}
		if size == 0 && errors.Is(err, io.EOF) {
			return nil, io.EOF
		}
		n.line++
		line = bytes.TrimRight(line, "\r\n")
		if size <= n.maxRow+2 && len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		n.num++
		r := &n.row
		*r = row{num: n.num, line: n.line, raw: line}
		switch {
		case len(line) > n.maxRow:
			r.reason, r.detail = event.ReasonTooLarge, fmt.Sprintf("line of %d bytes above the limit of %d", size, n.maxRow)
			r.raw = line[:min(len(line), rawTruncate)]
		case !utf8.Valid(line):
			r.reason, r.detail = event.ReasonBadEncoding, "invalid UTF-8"
		case bytes.TrimLeft(line, " \t")[0] != '{':
			r.reason, r.detail = event.ReasonMalformed, "line is not a JSON object"
		}
		return r, nil
	}
}

// readLine returns the next line (at most maxRow+2 bytes of it are kept) and its full size.
func (n *ndjsonRows) readLine() ([]byte, int, error) {
	n.buf = n.buf[:0]
	size := 0
	for {
		chunk, err := n.br.ReadSlice('\n')
		size += len(chunk)
		if room := n.maxRow + 2 - len(n.buf); room > 0 {
			n.buf = append(n.buf, chunk[:min(len(chunk), room)]...)
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		return n.buf, size, err
	}
}
