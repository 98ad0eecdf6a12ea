package replay

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/shopease/shopease/event"
)

// got is a row as the tests compare it.
type got struct {
	num    int64
	line   int64
	reason event.Reason
	text   string // CSV: fields joined by "|"; JSON: the raw bytes (first 20 for too_large rows)
}

// readAll writes content to a file named name, opens it like Run does and reads every row.
func readAll(t *testing.T, name string, content []byte, maxRow int) ([]got, error) {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, content, 0o644); err != nil {
		t.Fatal(err)
	}
	src, err := openSource(path, nil)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	var rows rowReader
	switch src.format {
	case formatCSV:
		c, err := newCSVRows(src.r, maxRow)
		if err != nil {
			return nil, err
		}
		rows = c
	case formatJSONArray:
		rows = newJSONArrayRows(src.r, maxRow)
	default:
		rows = newNDJSONRows(src.r, maxRow)
	}
	var out []got
	for {
		r, err := rows.next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		g := got{num: r.num, line: r.line, reason: r.reason}
		switch {
		case r.reason == event.ReasonTooLarge:
			g.text = string(r.raw[:min(20, len(r.raw))])
		case r.fields != nil:
			g.text = strings.Join(r.fields, "|")
		default:
			g.text = string(r.raw)
		}
		out = append(out, g)
	}
}

func gz(t *testing.T, s string) []byte {
	t.Helper()
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write([]byte(s))
	w.Close()
	return b.Bytes()
}

var (
	huge       = strings.Repeat("x", 10<<20) // a 10 MB field
	hugePrefix = "1," + strings.Repeat("x", 18)
)

func TestCSVRows(t *testing.T) {
	const ok = ""
	tests := []struct {
		name    string
		content string
		want    []got
	}{
		{"good", "a,b,c\n1,2,3\n4,5,6\n", []got{{1, 2, ok, "1|2|3"}, {2, 3, ok, "4|5|6"}}},
		{"crlf", "a,b,c\r\n1,2,3\r\n4,5,6\r\n", []got{{1, 2, ok, "1|2|3"}, {2, 3, ok, "4|5|6"}}},
		{"bom", "\xEF\xBB\xBFa,b,c\n1,2,3\n", []got{{1, 2, ok, "1|2|3"}}},
		{"no final newline", "a,b,c\n1,2,3", []got{{1, 2, ok, "1|2|3"}}},
		{"blank lines", "a,b,c\n\n1,2,3\n\n\n4,5,6\n", []got{{1, 3, ok, "1|2|3"}, {2, 6, ok, "4|5|6"}}},
		{"quoted comma and newline", "a,b,c\n1,\"x, \"\"y\"\"\nz\",3\n4,5,6\n", []got{{1, 2, ok, "1|x, \"y\"\nz|3"}, {2, 4, ok, "4|5|6"}}},
		{"too few fields", "a,b,c\n1,2\n4,5,6\n", []got{{1, 2, event.ReasonMalformed, "1,2"}, {2, 3, ok, "4|5|6"}}},
		{"too many fields", "a,b,c\n1,2,3,4\n4,5,6\n", []got{{1, 2, event.ReasonMalformed, "1,2,3,4"}, {2, 3, ok, "4|5|6"}}},
		{"text after closing quote", "a,b,c\n1,\"x\"y,3\n4,5,6\n", []got{{1, 2, event.ReasonMalformed, "1,\"x\"y,3"}, {2, 3, ok, "4|5|6"}}},
		{"bare quote", "a,b,c\n1,x\"y,3\n4,5,6\n", []got{{1, 2, event.ReasonMalformed, "1,x\"y,3"}, {2, 3, ok, "4|5|6"}}},
		{"unclosed quote at the end", "a,b,c\n1,2,3\n4,\"5,6\n", []got{{1, 2, ok, "1|2|3"}, {2, 3, event.ReasonMalformed, "4,\"5,6"}}},
		{"invalid utf-8", "a,b,c\n1,\xff\xfe,3\n4,5,6\n", []got{{1, 2, event.ReasonBadEncoding, "1,\xff\xfe,3"}, {2, 3, ok, "4|5|6"}}},
		{"10 MB field", "a,b,c\n1," + huge + ",3\n4,5,6\n", []got{{1, 2, event.ReasonTooLarge, hugePrefix}, {2, 3, ok, "4|5|6"}}},
		{"10 MB quoted field", "a,b,c\n1,\"" + huge + "\",3\n4,5,6\n", []got{{1, 2, event.ReasonTooLarge, "1,\"" + strings.Repeat("x", 17)}, {2, 3, ok, "4|5|6"}}},
		{"header only", "a,b,c\n", nil},
	}
	for _, tt := range tests {
		for _, zipped := range []bool{false, true} {
			name, content := tt.name, []byte(tt.content)
			if zipped {
				name, content = name+"/gzip", gz(t, tt.content)
			}
			t.Run(name, func(t *testing.T) {
				rows, err := readAll(t, "x.csv", content, DefaultMaxRowBytes)
				if err != nil {
					t.Fatalf("read: %v", err)
				}
				if !reflect.DeepEqual(rows, tt.want) {
					t.Errorf("rows:\n got %+v\nwant %+v", rows, tt.want)
				}
			})
		}
	}
}

func TestCSVUnreadable(t *testing.T) {
	for _, content := range []string{"", "a,\"b\n"} {
		_, err := readAll(t, "x.csv", []byte(content), DefaultMaxRowBytes)
		if !errors.Is(err, ErrUnreadable) {
			t.Errorf("%q: err %v, want ErrUnreadable", content, err)
		}
	}
}

func TestJSONArrayRows(t *testing.T) {
	const ok = ""
	tests := []struct {
		name    string
		content string
		want    []got
	}{
		{"good", "[\n{\"a\":1},\n{\"a\":2}\n]\n", []got{{1, 2, ok, `{"a":1}`}, {2, 3, ok, `{"a":2}`}}},
		{"one line", `[{"a":1},{"a":2}]`, []got{{1, 1, ok, `{"a":1}`}, {2, 1, ok, `{"a":2}`}}},
		{"empty", "[]\n", nil},
		{"bom and crlf", "\xEF\xBB\xBF[\r\n{\"a\":1},\r\n{\"a\":2}\r\n]\r\n", []got{{1, 2, ok, `{"a":1}`}, {2, 3, ok, `{"a":2}`}}},
		{"truncated", "[\n{\"a\":1},\n{\"a\":", []got{{1, 2, ok, `{"a":1}`}, {2, 3, event.ReasonMalformed, `{"a":`}}},
		{"cut after an element", "[\n{\"a\":1},\n", []got{{1, 2, ok, `{"a":1}`}}},
		{"trailing garbage", "[\n{\"a\":1}\n] xyz\n", []got{{1, 2, ok, `{"a":1}`}, {2, 3, event.ReasonMalformed, "xyz"}}},
		{"bad element in the middle", "[\n{\"a\":1},\n{\"a\":x},\n{\"a\":3}\n]\n", []got{{1, 2, ok, `{"a":1}`}, {2, 3, event.ReasonMalformed, `{"a":x}`}, {3, 4, ok, `{"a":3}`}}},
		{"bad last element", "[\n{\"a\":1},\n{\"a\":x}\n]\n", []got{{1, 2, ok, `{"a":1}`}, {2, 3, event.ReasonMalformed, `{"a":x}`}}},
		{"not an object", `[1,{"a":2}]`, []got{{1, 1, event.ReasonMalformed, "1"}, {2, 1, ok, `{"a":2}`}}},
		{"invalid utf-8", "[\n{\"a\":\"\xff\"},\n{\"a\":2}\n]", []got{{1, 2, event.ReasonBadEncoding, "{\"a\":\"\xff\"}"}, {2, 3, ok, `{"a":2}`}}},
		{"10 MB element", "[\n{\"a\":\"" + huge + "\"},\n{\"a\":2}\n]\n", []got{{1, 2, event.ReasonTooLarge, `{"a":"` + strings.Repeat("x", 14)}, {2, 3, ok, `{"a":2}`}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows, err := readAll(t, "x.json", []byte(tt.content), DefaultMaxRowBytes)
			if err != nil {
				t.Fatalf("read: %v", err)
			}
			if !reflect.DeepEqual(rows, tt.want) {
				t.Errorf("rows:\n got %+v\nwant %+v", rows, tt.want)
			}
		})
	}
}

func TestNDJSONRows(t *testing.T) {
	const ok = ""
	tests := []struct {
		name    string
		file    string
		content string
		want    []got
	}{
		{"good", "x.ndjson", "{\"a\":1}\n{\"a\":2}\n", []got{{1, 1, ok, `{"a":1}`}, {2, 2, ok, `{"a":2}`}}},
		{"crlf, blank lines, no final newline", "x.ndjson", "{\"a\":1}\r\n\r\n{\"a\":2}", []got{{1, 1, ok, `{"a":1}`}, {2, 3, ok, `{"a":2}`}}},
		{"json extension, objects per line", "x.json", "\xEF\xBB\xBF{\"a\":1}\n{\"a\":2}\n", []got{{1, 1, ok, `{"a":1}`}, {2, 2, ok, `{"a":2}`}}},
		{"not an object", "x.ndjson", "[1]\n{\"a\":2}\n", []got{{1, 1, event.ReasonMalformed, "[1]"}, {2, 2, ok, `{"a":2}`}}},
		{"invalid utf-8", "x.ndjson", "{\"a\":\"\xff\"}\n{\"a\":2}\n", []got{{1, 1, event.ReasonBadEncoding, "{\"a\":\"\xff\"}"}, {2, 2, ok, `{"a":2}`}}},
		{"10 MB line", "x.ndjson", "{\"a\":\"" + huge + "\"}\n{\"a\":2}\n", []got{{1, 1, event.ReasonTooLarge, `{"a":"` + strings.Repeat("x", 14)}, {2, 2, ok, `{"a":2}`}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows, err := readAll(t, tt.file, []byte(tt.content), DefaultMaxRowBytes)
			if err != nil {
				t.Fatalf("read: %v", err)
			}
			if !reflect.DeepEqual(rows, tt.want) {
				t.Errorf("rows:\n got %+v\nwant %+v", rows, tt.want)
			}
		})
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
