package codecs

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// fieldSet describes the JSON fields of one record type; a field's index is its bit in the masks.
type fieldSet struct {
	typ      string   // record type name for errors
	names    []string // JSON field names, by index
	required uint32   // bit i set: names[i] must be present and not null
}

// newFieldSet builds a fieldSet; required lists the names of the required fields.
func newFieldSet(typ string, names []string, required ...string) *fieldSet {
	fs := &fieldSet{typ: typ, names: names}
	for _, r := range required {
		i := fs.index(r)
		if i < 0 {
			panic("codecs: required field " + r + " not in " + typ)
		}
		fs.required |= 1 << i
	}
	return fs
}

// index returns the index of the field named name, or -1. A linear scan over ten short names
// beats a map, because most comparisons stop at the length.
func (fs *fieldSet) index(name string) int {
	for i, n := range fs.names {
		if n == name {
			return i
		}
	}
	return -1
}

// maxFieldName is how much of an unknown field's name an error keeps.
const maxFieldName = 64

// fieldEnd is what reader.next returns after the closing brace.
const fieldEnd = -1

// reader is a strict scanner for one flat JSON object of known fields. It never recurses: a value
// that is an object or an array is always of the wrong type, so nesting depth cannot be abused.
type reader struct {
	data  []byte
	text  string // string(data), made once; unescaped string values are substrings of it
	pos   int
	fs    *fieldSet
	seen  uint32 // fields read so far, null ones included
	field string // the field whose value is being read, for errors
	count int    // fields read so far
	last  int    // index of the previous field
}

func (r *reader) init(data []byte, fs *fieldSet) {
	*r = reader{data: data, text: string(data), fs: fs, last: -1}
}

// fail builds a decode error at the current position for the current field.
func (r *reader) fail(sentinel error, reason string) *FieldError {
	return &FieldError{Op: "decode", Type: r.fs.typ, Field: r.field, Offset: r.pos, Reason: reason, Err: sentinel}
}

// syntax builds an ErrSyntax error that describes the byte at the current position.
func (r *reader) syntax(want string) *FieldError {
	if r.pos >= len(r.data) {
		return r.fail(ErrSyntax, "unexpected end of input, want "+want)
	}
	return r.fail(ErrSyntax, fmt.Sprintf("unexpected %q, want %s", r.data[r.pos], want))
}

func (r *reader) skipSpace() {
	for r.pos < len(r.data) {
		switch r.data[r.pos] {
		case ' ', '\t', '\n', '\r':
			r.pos++
		default:
			return
		}
	}
}

// open consumes the opening brace.
func (r *reader) open() error {
	r.skipSpace()
	if r.pos >= len(r.data) || r.data[r.pos] != '{' {
		return r.syntax("'{'")
	}
	r.pos++
	return nil
}

// next consumes the next field name and its colon and returns the field's index, or fieldEnd
// after the closing brace. A null value is consumed here: it is skipped for an optional field (the
// zero value stays) and refused for a required one, so value readers never see null.
func (r *reader) next() (int, error) {
	for {
		r.field = ""
		r.skipSpace()
		if r.count > 0 {
			if r.pos < len(r.data) && r.data[r.pos] == '}' {
				r.pos++
				return fieldEnd, nil
			}
			if r.pos >= len(r.data) || r.data[r.pos] != ',' {
				return 0, r.syntax("',' or '}'")
			}
			r.pos++
			r.skipSpace()
		} else if r.pos < len(r.data) && r.data[r.pos] == '}' {
			r.pos++
			return fieldEnd, nil
		}
		if r.pos >= len(r.data) || r.data[r.pos] != '"' {
			return 0, r.syntax("field name")
		}
		keyAt := r.pos
		i, name, err := r.key()
		if err != nil {
			return 0, err
		}
		r.skipSpace()
		if r.pos >= len(r.data) || r.data[r.pos] != ':' {
			return 0, r.syntax("':'")
		}
		r.pos++
		r.skipSpace()
		r.count++
		if i < 0 {
			r.pos = keyAt
			if len(name) > maxFieldName {
				name = strings.ToValidUTF8(name[:maxFieldName], "") + "..." // no half rune
			}
			r.field = name
			return 0, r.fail(ErrUnknownField, "")
		}
		r.field = name
		if r.seen&(1<<i) != 0 {
			r.pos = keyAt
			return 0, r.fail(ErrDuplicateField, "")
		}
		r.seen |= 1 << i
		r.last = i
		if !r.null() {
			return i, nil
		}
		if r.fs.required&(1<<i) != 0 {
			return 0, r.fail(ErrBadValue, "null in a required field")
		}
	}
}

// key reads the field name whose opening quote is at r.pos and returns its index (-1 for an
// unknown name). It first matches the raw bytes against the name that follows the previous field,
// which is where records in struct order spend no time scanning; names have no escapes, so a raw
// match is an exact one.
func (r *reader) key() (int, string, error) {
	if h := r.last + 1; h < len(r.fs.names) {
		n := r.fs.names[h]
		end := r.pos + 1 + len(n)
		if end < len(r.data) && r.data[end] == '"' && string(r.data[r.pos+1:end]) == n {
			r.pos = end + 1
			return h, n, nil
		}
	}
	name, err := r.stringBody()
	if err != nil {
		return 0, "", err
	}
	return r.fs.index(name), name, nil
}

// null consumes the literal null if it comes next.
func (r *reader) null() bool {
	if len(r.data)-r.pos >= 4 && string(r.data[r.pos:r.pos+4]) == "null" {
		r.pos += 4
		return true
	}
	return false
}

// finish checks that only whitespace follows the object and that every required field was there.
func (r *reader) finish() error {
	r.field = ""
	r.skipSpace()
	if r.pos != len(r.data) {
		return r.fail(ErrSyntax, "data after the object")
	}
	if missing := r.fs.required &^ r.seen; missing != 0 {
		r.field = r.fs.names[bits.TrailingZeros32(missing)]
		return r.fail(ErrMissingField, "")
	}
	return nil
}

// kind names the JSON kind of the value at the current position, for wrong-type errors.
func (r *reader) kind() string {
	if r.pos >= len(r.data) {
		return "end of input"
	}
	switch c := r.data[r.pos]; {
	case c == '"':
		return "string"
	case c == '{':
		return "object"
	case c == '[':
		return "array"
	case c == 't' || c == 'f':
		return "boolean"
	case c == '-' || (c >= '0' && c <= '9'):
		return "number"
	default:
		return fmt.Sprintf("%q", c)
	}
}

// wrongType reports a value of the wrong JSON kind; anything that is not a JSON value at all is a
// syntax error instead.
func (r *reader) wrongType(want string) *FieldError {
	got := r.kind()
	switch got {
	case "string", "object", "array", "boolean", "number":
		return r.fail(ErrWrongType, "want "+want+", got "+got)
	}
	return r.syntax(want)
}

// str reads a string value.
func (r *reader) str() (string, error) {
	if r.pos >= len(r.data) || r.data[r.pos] != '"' {
		return "", r.wrongType("string")
	}
	return r.stringBody()
}

// stringBody reads the string whose opening quote is at r.pos. Plain ASCII without escapes, the
// common case, is a substring of r.text and costs no allocation.
func (r *reader) stringBody() (string, error) {
	start := r.pos + 1
	i := start
	// Eight bytes at a time while none of them ends the fast path.
	for ; i+8 <= len(r.data); i += 8 {
		if special(binary.LittleEndian.Uint64(r.data[i:])) {
			break
		}
	}
	for ; i < len(r.data); i++ {
		c := r.data[i]
		if c == '"' {
			r.pos = i + 1
			return r.text[start:i], nil
		}
		if c == '\\' || c < 0x20 || c >= utf8.RuneSelf {
			return r.slowString(start, i)
		}
	}
	r.pos = len(r.data)
	return "", r.fail(ErrSyntax, "unterminated string")
}

// special reports whether any of the eight bytes in w is a quote, a backslash, a control
// character or not ASCII. The subtractions may also flag a byte after a flagged one (a borrow
// propagates), which only sends the caller to its byte loop a little early.
func special(w uint64) bool {
	const lsb, msb = 0x0101010101010101, 0x8080808080808080
	quote := w ^ (lsb * '"')
	backslash := w ^ (lsb * '\\')
	less := (w - lsb*0x20) &^ w // high bit set where a byte is below 0x20
	isQuote := (quote - lsb) &^ quote
	isBackslash := (backslash - lsb) &^ backslash
	return (less|isQuote|isBackslash|w)&msb != 0
}

// slowString continues reading a string from i, where stringBody met an escape, a control
// character or a non-ASCII byte; it validates UTF-8 and unescapes.
func (r *reader) slowString(start, i int) (string, error) {
	var sb strings.Builder // empty until the first escape: without escapes the string is a substring
	escaped := false
	for i < len(r.data) {
		c := r.data[i]
		switch {
		case c == '"':
			r.pos = i + 1
			if !escaped {
				return r.text[start:i], nil
			}
			return sb.String(), nil
		case c < 0x20:
			r.pos = i
			return "", r.fail(ErrSyntax, "control character in string")
		case c == '\\':
			if !escaped {
				escaped = true
				sb.Grow(i - start + 16)
				sb.Write(r.data[start:i])
			}
			n, err := r.unescape(i, &sb)
			if err != nil {
				return "", err
			}
			i += n
		case c < utf8.RuneSelf:
			if escaped {
				sb.WriteByte(c)
			}
			i++
		default:
			ru, size := utf8.DecodeRune(r.data[i:])
			if ru == utf8.RuneError && size <= 1 {
				r.pos = i
				return "", r.fail(ErrBadValue, "invalid UTF-8 in string")
			}
			if escaped {
				sb.Write(r.data[i : i+size])
			}
			i += size
		}
	}
	r.pos = len(r.data)
	return "", r.fail(ErrSyntax, "unterminated string")
}

// unescape decodes the escape sequence at i into sb and returns its length in the input.
func (r *reader) unescape(i int, sb *strings.Builder) (int, error) {
	if i+1 >= len(r.data) {
		r.pos = len(r.data)
		return 0, r.fail(ErrSyntax, "unterminated string")
	}
	var c byte
	switch r.data[i+1] {
	case '"', '\\', '/':
		c = r.data[i+1]
	case 'b':
		c = '\b'
	case 'f':
		c = '\f'
	case 'n':
		c = '\n'
	case 'r':
		c = '\r'
	case 't':
		c = '\t'
	case 'u':
		return r.unescapeU(i, sb)
	default:
		r.pos = i
		return 0, r.fail(ErrSyntax, "bad escape in string")
	}
	sb.WriteByte(c)
	return 2, nil
}

// unescapeU decodes \uXXXX at i, joining a surrogate pair; a lone surrogate cannot be UTF-8 and is
// refused rather than silently replaced as encoding/json does.
func (r *reader) unescapeU(i int, sb *strings.Builder) (int, error) {
	r.pos = i
	ru, ok := hex4(r.data[i+2:])
	if !ok {
		return 0, r.fail(ErrSyntax, "bad \\u escape in string")
	}
	if !utf16.IsSurrogate(ru) {
		sb.WriteRune(ru)
		return 6, nil
	}
	if len(r.data) >= i+12 && r.data[i+6] == '\\' && r.data[i+7] == 'u' {
		if lo, ok := hex4(r.data[i+8:]); ok {
			if ru2 := utf16.DecodeRune(ru, lo); ru2 != utf8.RuneError {
				sb.WriteRune(ru2)
				return 12, nil
			}
		}
	}
	return 0, r.fail(ErrBadValue, "lone UTF-16 surrogate in string")
}

// hex4 decodes four hex digits.
func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var v rune
	for _, c := range b[:4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		v = v<<4 | rune(c)
	}
	return v, true
}

// number scans a JSON number and returns its text; integer is false when it has a fraction or an
// exponent.
func (r *reader) number() (text string, integer bool, err error) {
	start := r.pos
	i := r.pos
	if i < len(r.data) && r.data[i] == '-' {
		i++
	}
	switch {
	case i < len(r.data) && r.data[i] == '0':
		i++
	case i < len(r.data) && r.data[i] >= '1' && r.data[i] <= '9':
		i = digits(r.data, i)
	default:
		r.pos = i
		return "", false, r.syntax("digit")
	}
	integer = true
	if i < len(r.data) && r.data[i] == '.' {
		integer = false
		if i+1 >= len(r.data) || !isDigit(r.data[i+1]) {
			r.pos = i + 1
			return "", false, r.syntax("digit after '.'")
		}
		i = digits(r.data, i+1)
	}
	if i < len(r.data) && (r.data[i] == 'e' || r.data[i] == 'E') {
		integer = false
		i++
		if i < len(r.data) && (r.data[i] == '+' || r.data[i] == '-') {
			i++
		}
		if i >= len(r.data) || !isDigit(r.data[i]) {
			r.pos = i
			return "", false, r.syntax("digit in exponent")
		}
		i = digits(r.data, i)
	}
	r.pos = i
	return r.text[start:i], integer, nil
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func digits(b []byte, i int) int {
	for i < len(b) && isDigit(b[i]) {
		i++
	}
	return i
}
