package codecs

import (
	"strconv"
	"time"

	"github.com/shopease/shopease/event"
)

// writer appends one JSON object field by field and remembers the first field that would not
// decode, so that the Append functions read as a list of fields.
type writer struct {
	buf []byte
	typ string
	err *FieldError
}

// name extracts the JSON field name from a prefix such as `,"user_id":`, for errors.
func name(prefix string) string {
	start, end := 0, len(prefix)
	for start < end && prefix[start] != '"' {
		start++
	}
	for end > start && prefix[end-1] != '"' {
		end--
	}
	if end-start < 2 {
		return prefix
	}
	return prefix[start+1 : end-1]
}

// str appends prefix and s as a JSON string.
func (w *writer) str(prefix, s string) {
	if w.err != nil {
		return
	}
	w.buf = append(w.buf, prefix...)
	var ok bool
	if w.buf, ok = appendString(w.buf, s); !ok {
		w.err = encodeError(w.typ, name(prefix), "invalid UTF-8")
	}
}

// optStr appends the field only when s is not empty (json omitempty).
func (w *writer) optStr(prefix, s string) {
	if s != "" {
		w.str(prefix, s)
	}
}

// raw appends text that needs no escaping, such as a validated type value.
func (w *writer) raw(parts ...string) {
	if w.err != nil {
		return
	}
	for _, p := range parts {
		w.buf = append(w.buf, p...)
	}
}

// time appends prefix and t as an RFC 3339 UTC string.
func (w *writer) time(prefix string, t time.Time) {
	if w.err != nil {
		return
	}
	w.buf = append(w.buf, prefix...)
	var ok bool
	if w.buf, ok = appendTime(w.buf, t); !ok {
		w.err = encodeError(w.typ, name(prefix), "year in UTC outside 0001..9999")
	}
}

// int appends prefix and v.
func (w *writer) int(prefix string, v int64) {
	if w.err != nil {
		return
	}
	w.buf = append(w.buf, prefix...)
	w.buf = strconv.AppendInt(w.buf, v, 10)
}

// money appends prefix and m as a decimal string.
func (w *writer) money(prefix string, m event.Money) {
	if w.err != nil {
		return
	}
	w.buf = append(append(w.buf, prefix...), '"')
	w.buf = append(m.Append(w.buf), '"')
}

// bytes appends prefix and b as base64.
func (w *writer) bytes(prefix string, b []byte) {
	if w.err != nil {
		return
	}
	w.buf = appendBytes(append(w.buf, prefix...), b)
}

// end closes the object; on error it returns orig, the caller's dst, unchanged.
func (w *writer) end(orig []byte) ([]byte, error) {
	if w.err != nil {
		return orig, w.err
	}
	return append(w.buf, '}'), nil
}
