package replay

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"

	"github.com/shopease/shopease/event"
)

// csvRows reads an RFC 4180 file with a header line through encoding/csv: FieldsPerRecord is the
// header's width (a row with another count is malformed), records are reused (no allocation per
// row beyond the fields' one string), and a tap keeps each row's original bytes.
type csvRows struct {
	t      *tap
	r      *csv.Reader
	header []string
	width  int
	maxRow int64
	start  int64 // stream offset where r started (a fresh reader follows a too_large row)
	done   int64 // stream offset up to which rows are finished
	num    int64
	row    row
}

// newCSVRows reads the header line; a file without one cannot be read.
func newCSVRows(src io.Reader, maxRow int) (*csvRows, error) {
	c := &csvRows{t: newTap(src, maxRow), maxRow: int64(maxRow)}
	c.reset(0)
	rec, err := c.r.Read()
	switch {
	case errors.Is(err, io.EOF):
		return nil, fmt.Errorf("%w: empty file, no header line", ErrUnreadable)
	case err != nil:
		return nil, fmt.Errorf("%w: header line: %w", ErrUnreadable, err)
	}
	c.header = append([]string(nil), rec...)
	c.width = len(c.header)
	c.r.FieldsPerRecord = c.width
	c.done = c.start + c.r.InputOffset()
	return c, nil
}

func (c *csvRows) reset(at int64) {
	c.start = at
	c.r = csv.NewReader(c.t)
	c.r.ReuseRecord = true
	c.r.FieldsPerRecord = c.width
}

func (c *csvRows) next() (*row, error) {
	c.t.drop(c.done)
	rowStart := c.done
	rec, err := c.r.Read()
	if errors.Is(err, io.EOF) {
		return nil, io.EOF
	}
	c.num++
	r := &c.row
	*r = row{num: c.num}
	if errors.Is(err, errRowTooLarge) {
		return c.tooLarge(rowStart)
	}
	end := c.start + c.r.InputOffset()
	c.done = end
	raw := c.t.span(rowStart, end)
	// encoding/csv skips blank lines before a record; the row starts at its first byte.
	trimmed := bytes.TrimLeft(raw, "\r\n")
	r.line = c.t.lineAt(rowStart + int64(len(raw)-len(trimmed)))
	r.raw = bytes.TrimRight(trimmed, "\r\n")
	if err != nil {
		var pe *csv.ParseError
		if !errors.As(err, &pe) {
			return nil, fmt.Errorf("%w: line %d: %w", ErrUnreadable, r.line, err)
		}
		r.reason, r.detail = event.ReasonMalformed, csvDetail(pe, len(rec), c.width)
		return r, nil
	}
	switch {
	case int64(len(r.raw)) > c.maxRow:
		r.reason, r.detail = event.ReasonTooLarge, fmt.Sprintf("row of %d bytes above the limit of %d", len(r.raw), c.maxRow)
		r.raw = r.raw[:min(len(r.raw), rawTruncate)]
	case !utf8.Valid(r.raw):
		r.reason, r.detail = event.ReasonBadEncoding, "invalid UTF-8"
	default:
		r.fields = rec
	}
	return r, nil
}

// tooLarge rejects the row that started at rowStart and grew past the limit, then skips to the
// end of the line the parser stopped in and starts a fresh parser there. A huge quoted field
// that spans lines is resynchronized at a line inside it; the fragments after it are then
// rejected as malformed, which is the best a reader can do without unbounded memory.
func (c *csvRows) tooLarge(rowStart int64) (*row, error) {
	r := &c.row
	r.line = c.t.lineAt(rowStart)
	n := min(int64(rawTruncate), c.t.end()-rowStart)
	r.raw = append([]byte(nil), c.t.span(rowStart, rowStart+n)...)
	r.reason = event.ReasonTooLarge
	next, rest, err := c.t.skipLine(c.t.end())
	if err != nil {
		return nil, fmt.Errorf("%w: line %d: %w", ErrUnreadable, r.line, err)
	}
	r.detail = fmt.Sprintf("row of more than %d bytes (%d) above the limit", c.maxRow, next-rowStart)
	c.t.restart(next, rest)
	c.reset(next)
	c.done = next
	return r, nil
}

func csvDetail(pe *csv.ParseError, got, want int) string {
	if errors.Is(pe.Err, csv.ErrFieldCount) {
		return fmt.Sprintf("%d fields, header has %d", got, want)
	}
	return pe.Err.Error()
}
