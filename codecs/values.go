package codecs

import (
	"encoding/base64"
	"errors"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/shopease/shopease/event"
)

// int64Value reads a JSON integer that fits in bitSize bits.
func (r *reader) int64Value(bitSize int) (int64, error) {
	if r.pos >= len(r.data) || (r.data[r.pos] != '-' && !isDigit(r.data[r.pos])) {
		return 0, r.wrongType("integer")
	}
	at := r.pos
	text, integer, err := r.number()
	if err != nil {
		return 0, err
	}
	if !integer {
		r.pos = at
		return 0, r.fail(ErrBadValue, "not an integer: "+quote(text))
	}
	v, err := strconv.ParseInt(text, 10, bitSize)
	if err != nil {
		r.pos = at
		e := r.fail(ErrBadValue, "out of range: "+quote(text))
		e.Cause = strconv.ErrRange
		return 0, e
	}
	return v, nil
}

// money reads an amount from a JSON string ("1.95") or, exactly from its text, a JSON number
// literal (1.95); an exponent is refused because no producer needs one for a price.
func (r *reader) money() (event.Money, error) {
	at := r.pos
	var text string
	switch {
	case r.pos < len(r.data) && r.data[r.pos] == '"':
		s, err := r.stringBody()
		if err != nil {
			return 0, err
		}
		text = s
	case r.pos < len(r.data) && (r.data[r.pos] == '-' || isDigit(r.data[r.pos])):
		s, _, err := r.number()
		if err != nil {
			return 0, err
		}
		text = s
	default:
		return 0, r.wrongType("money string or number")
	}
	m, err := event.ParseMoney(text)
	if err != nil {
		r.pos = at
		e := r.fail(ErrBadValue, moneyReason(err)+": "+quote(text))
		e.Cause = err
		return 0, e
	}
	return m, nil
}

func moneyReason(err error) string {
	switch {
	case errors.Is(err, event.ErrMoneyPrecision):
		return "more than 3 decimals"
	case errors.Is(err, event.ErrMoneyRange):
		return "money out of range"
	default:
		return "not a plain decimal"
	}
}

// timeValue reads an RFC 3339 time string.
func (r *reader) timeValue() (time.Time, error) {
	at := r.pos
	s, err := r.str()
	if err != nil {
		return time.Time{}, err
	}
	t, reason := parseTime(s)
	if reason != "" {
		r.pos = at
		return time.Time{}, r.fail(ErrBadValue, reason+": "+quote(s))
	}
	return t, nil
}

// bytesValue reads standard padded base64; the empty string decodes to nil, so that a record
// decodes to the same value whether a producer wrote "" or left the field out.
func (r *reader) bytesValue() ([]byte, error) {
	at := r.pos
	s, err := r.str()
	if err != nil || s == "" {
		return nil, err
	}
	b, err := base64.StdEncoding.Strict().DecodeString(s)
	if err != nil {
		r.pos = at
		e := r.fail(ErrBadValue, "not standard base64")
		e.Cause = err
		return nil, e
	}
	return b, nil
}

// parseTime parses the RFC 3339 profile docs/formats.md allows: "YYYY-MM-DDTHH:MM:SS", then up to
// nine fractional digits, then "Z" or "±HH:MM". It exists because time.Parse falls back to a
// lenient parser (one-digit hours, for one) that the wire format must not accept. The result is in
// UTC with a year in 0001..9999; otherwise reason says what is wrong.
func parseTime(s string) (t time.Time, reason string) {
	const base = len("2006-01-02T15:04:05")
	if len(s) < base+1 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' {
		return time.Time{}, "not an RFC 3339 time"
	}
	year, ok1 := num(s[0:4])
	month, ok2 := num(s[5:7])
	day, ok3 := num(s[8:10])
	hour, ok4 := num(s[11:13])
	minute, ok5 := num(s[14:16])
	sec, ok6 := num(s[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) {
		return time.Time{}, "not an RFC 3339 time"
	}
	if year < 1 || month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, "time field out of range"
	}
	rest := s[base:]
	nsec := 0
	if rest[0] == '.' {
		n := 1
		for n < len(rest) && isDigit(rest[n]) {
			n++
		}
		if n == 1 || n > 10 {
			return time.Time{}, "fraction of a second needs 1 to 9 digits"
		}
		frac, _ := num(rest[1:n])
		for i := n; i < 10; i++ {
			frac *= 10
		}
		nsec = frac
		rest = rest[n:]
	}
	offset := 0
	switch {
	case rest == "Z":
	case len(rest) == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':':
		oh, ok1 := num(rest[1:3])
		om, ok2 := num(rest[4:6])
		if !ok1 || !ok2 || oh > 23 || om > 59 {
			return time.Time{}, "bad time zone offset"
		}
		offset = (oh*60 + om) * 60
		if rest[0] == '-' {
			offset = -offset
		}
	default:
		return time.Time{}, "not an RFC 3339 time"
	}
	t = time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC)
	if t.Day() != day {
		return time.Time{}, "no such day"
	}
	if offset != 0 {
		t = t.Add(-time.Duration(offset) * time.Second)
		if y := t.Year(); y < 1 || y > 9999 {
			return time.Time{}, "year in UTC outside 0001..9999"
		}
	}
	return t, ""
}

// num parses a short run of ASCII digits.
func num(s string) (int, bool) {
	v := 0
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return 0, false
		}
		v = v*10 + int(s[i]-'0')
	}
	return v, true
}

// appendString appends s as a JSON string. It escapes only what JSON requires and reports false
// when s is not valid UTF-8, which the decoder would refuse.
func appendString(dst []byte, s string) ([]byte, bool) {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < 0x80 {
			i++
			continue
		}
		if c >= 0x80 {
			ru, size := utf8.DecodeRuneInString(s[i:])
			if ru == utf8.RuneError && size == 1 {
				return dst, false
			}
			i += size
			continue
		}
		dst = append(dst, s[start:i]...)
		switch c {
		case '"', '\\':
			dst = append(dst, '\\', c)
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		default:
			const hex = "0123456789abcdef"
			dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		}
		i++
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"'), true
}

// appendTime appends t in UTC as an RFC 3339 JSON string, reporting false for a year the decoder
// would refuse.
func appendTime(dst []byte, t time.Time) ([]byte, bool) {
	t = t.UTC()
	if y := t.Year(); y < 1 || y > 9999 {
		return dst, false
	}
	dst = append(dst, '"')
	dst = t.AppendFormat(dst, time.RFC3339Nano)
	return append(dst, '"'), true
}

// appendBytes appends b as a standard base64 JSON string.
func appendBytes(dst []byte, b []byte) []byte {
	dst = append(dst, '"')
	dst = base64.StdEncoding.AppendEncode(dst, b)
	return append(dst, '"')
}
