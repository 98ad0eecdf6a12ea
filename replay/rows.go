package replay

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"

	"github.com/shopease/shopease/event"
)

// row is one unit read from a file, before mapping: a CSV record, a JSON array element or an
// NDJSON line. Its slices are valid until the next call to next.
type row struct {
	num    int64    // 1-based ordinal among the file's data rows (the shopease-row header)
	line   int64    // 1-based line where the row starts
	raw    []byte   // the row's bytes as read (truncated for too_large rows)
	fields []string // CSV only
	reason event.Reason
	detail string
}

// rowReader yields the rows of one file. next returns io.EOF after the last row; any other error
// means the file cannot be read further.
type rowReader interface {
	next() (*row, error)
}

// format is how a file's rows are written.
type format int

const (
	formatCSV format = iota + 1
	formatJSONArray
	formatNDJSON
)

func (f format) String() string {
	switch f {
	case formatCSV:
		return "csv"
	case formatJSONArray:
		return "json"
	case formatNDJSON:
		return "ndjson"
	}
	return "unknown"
}

// rawTruncate bounds the original bytes kept for a too_large row: the dead-letter record must fit
// in a Kafka message.
const rawTruncate = 64 << 10

// source is an opened history file: decompressed when it is gzip (told by its magic bytes, not
// its name), with a leading UTF-8 byte order mark removed.
type source struct {
	path   string
	file   *os.File
	gz     *gzip.Reader
	r      *bufio.Reader
	format format
	stored *atomic.Int64 // bytes of the file as stored read so far
}

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// openSource opens path and tells its format from its name (.csv; .json, .ndjson, .jsonl) and,
// for JSON, from its first byte: '[' is an array, '{' one object per line.
func openSource(path string, stored *atomic.Int64) (*source, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnreadable, err)
	}
	if stored == nil {
		stored = new(atomic.Int64)
	}
	s := &source{path: path, file: f, stored: stored}
	br := bufio.NewReaderSize(countingReader{f, stored}, 64<<10)
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		s.gz, err = gzip.NewReader(br)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("%w: %s: gzip: %w", ErrUnreadable, path, err)
		}
		br = bufio.NewReaderSize(s.gz, 64<<10)
	}
	s.r = br
	if bom, _ := br.Peek(3); bytes.Equal(bom, utf8BOM) {
		br.Discard(3)
	}
	if s.format, err = detectFormat(path, br); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func detectFormat(path string, br *bufio.Reader) (format, error) {
	name := strings.TrimSuffix(strings.ToLower(filepath.Base(path)), ".gz")
	switch filepath.Ext(name) {
	case ".csv":
		return formatCSV, nil
	case ".ndjson", ".jsonl":
		return formatNDJSON, nil
	case ".json":
		for i := 1; ; i++ {
			b, err := br.Peek(i)
			if err != nil {
				if errors.Is(err, io.EOF) {
					return formatNDJSON, nil // empty: no rows either way
				}
				return 0, fmt.Errorf("%w: %s: %w", ErrUnreadable, path, err)
			}
			switch c := b[i-1]; c {
			case ' ', '\t', '\r', '\n':
				if i > 4096 {
					return formatNDJSON, nil
				}
				continue
			case '[':
				return formatJSONArray, nil
			default:
				return formatNDJSON, nil
			}
		}
	}
	return 0, fmt.Errorf("%w: %s: not .csv, .json, .ndjson or .jsonl", ErrUnreadable, path)
}

// Close releases the file.
func (s *source) Close() error {
	if s.gz != nil {
		s.gz.Close()
	}
	return s.file.Close()
}

// historyFile reports whether a file found while walking a directory is one replay reads.
func historyFile(name string) bool {
	n := strings.TrimSuffix(strings.ToLower(name), ".gz")
	if n == "truth.json" || strings.HasPrefix(n, ".") {
		return false
	}
	switch filepath.Ext(n) {
	case ".csv", ".json", ".ndjson", ".jsonl":
		return true
	}
	return false
}
