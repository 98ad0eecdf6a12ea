package generate

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/shopease/shopease/event"
)

// appendJSONString appends s as a JSON string escaped exactly as encoding/json escapes it (HTML
// characters included), so hand-encoded rows are byte-identical to json.Marshal's.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c == '\n':
			b = append(b, '\\', 'n')
		case c == '\r':
			b = append(b, '\\', 'r')
		case c == '\t':
			b = append(b, '\\', 't')
		case c < 0x20 || c == '<' || c == '>' || c == '&':
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		case c == 0xe2 && i+2 < len(s) && s[i+1] == 0x80 && (s[i+2] == 0xa8 || s[i+2] == 0xa9):
			b = append(b, '\\', 'u', '2', '0', '2', hex[s[i+2]&0xf])
			i += 2
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}

func appendField(b []byte, name, v string, omitEmpty bool) []byte {
	if omitEmpty && v == "" {
		return b
	}
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, '"', ':')
	return appendJSONString(b, v)
}

func appendTime(b []byte, t time.Time) []byte {
	b = append(b, '"')
	b = t.UTC().AppendFormat(b, time.RFC3339)
	return append(b, '"')
}

// appendActivity appends a as json.Marshal(a) would write it (same field order, omitempty rules).
func appendActivity(b []byte, a *event.Activity) []byte {
	b = append(b, `{"event_id":`...)
	b = appendJSONString(b, a.EventID)
	b = appendField(b, "user_id", a.UserID, false)
	b = appendField(b, "session_id", a.SessionID, true)
	b = appendField(b, "type", string(a.Type), false)
	b = appendField(b, "product_id", a.ProductID, true)
	b = appendField(b, "page", a.Page, true)
	b = appendField(b, "referrer", a.Referrer, true)
	b = appendField(b, "query", a.Query, true)
	b = append(b, `,"time":`...)
	b = appendTime(b, a.Time)
	return append(b, '}')
}

// appendReview appends v as json.Marshal(v) would write it.
func appendReview(b []byte, v *event.Review) []byte {
	b = append(b, `{"review_id":`...)
	b = appendJSONString(b, v.ReviewID)
	b = appendField(b, "user_id", v.UserID, false)
	b = appendField(b, "product_id", v.ProductID, false)
	b = append(b, `,"rating":`...)
	b = strconv.AppendInt(b, int64(v.Rating), 10)
	b = appendField(b, "title", v.Title, true)
	b = appendField(b, "text", v.Text, true)
	b = append(b, `,"time":`...)
	b = appendTime(b, v.Time)
	b = appendField(b, "source", v.Source, true)
	return append(b, '}')
}

// jsonRows writes objects as a JSON array or NDJSON. A JSON array is laid out one object a line,
// "[" and "]" on lines of their own, so a reader can also count rows by line.
type jsonRows struct {
	w    io.Writer
	form Form
	n    int
	cut  bool // the array was cut inside its last object: no closing bracket
	err  error
}

func (j *jsonRows) write(obj []byte) {
	if j.err != nil {
		return
	}
	var sep string
	switch {
	case j.form == FormNDJSON:
		sep = ""
	case j.n == 0:
		sep = "[\n"
	default:
		sep = ",\n"
	}
	if _, err := io.WriteString(j.w, sep); err != nil {
		j.err = err
		return
	}
	if _, err := j.w.Write(obj); err != nil {
		j.err = err
		return
	}
	if j.form == FormNDJSON {
		_, j.err = io.WriteString(j.w, "\n")
	}
	j.n++
}

// close ends the array; when the last object was cut the file ends where the cut is, as if the
// writer had crashed.
func (j *jsonRows) close() error {
	if j.err != nil || j.form == FormNDJSON || j.cut {
		return j.err
	}
	end := "\n]\n"
	if j.n == 0 {
		end = "[]\n"
	}
	_, err := io.WriteString(j.w, end)
	return err
}

// outFile is a data file written under a temporary name and renamed into place when complete, so
// a reader (or a replay started early) never sees half a file under the final name.
type outFile struct {
	path string
	f    *os.File
	gz   *gzip.Writer
	buf  *bufio.Writer
}

func createFile(path string, gz bool) (*outFile, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("generate: %w", err)
	}
	f, err := os.Create(path + ".tmp")
	if err != nil {
		return nil, fmt.Errorf("generate: %w", err)
	}
	o := &outFile{path: path, f: f}
	var w io.Writer = f
	if gz {
		// klauspost's gzip at level 1 is about twice as fast as the standard library's and writes
		// a standard stream; the header has no name or time, so the bytes depend on the content only.
		o.gz, _ = gzip.NewWriterLevel(f, gzip.BestSpeed)
		w = o.gz
	}
	o.buf = bufio.NewWriterSize(w, 256<<10)
	return o, nil
}

func (o *outFile) Write(p []byte) (int, error) { return o.buf.Write(p) }

// close flushes and renames the file into place; on error the temporary file is removed.
func (o *outFile) close() error {
	err := o.buf.Flush()
	if o.gz != nil && err == nil {
		err = o.gz.Close()
	}
	if cerr := o.f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(o.path+".tmp", o.path)
	}
	if err != nil {
		os.Remove(o.path + ".tmp")
		return fmt.Errorf("generate: write %s: %w", o.path, err)
	}
	return nil
}

// abort drops a file that will not be completed.
func (o *outFile) abort() {
	o.f.Close()
	os.Remove(o.path + ".tmp")
}

// dataPath is the path of dataset's file for the day starting at day, relative to the output dir.
func dataPath(dataset string, day time.Time, ext string, gz bool) string {
	p := filepath.Join(dataset, day.Format("2006-01-02")+ext)
	if gz {
		p += ".gz"
	}
	return p
}

func formExt(f Form) string {
	if f == FormNDJSON {
		return ".ndjson"
	}
	return ".json"
}
