package codecs_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/shopease/shopease/codecs"
	"github.com/shopease/shopease/event"
)

type strictCase struct {
	name  string
	in    []byte
	err   error  // the sentinel
	field string // the field the error must name; "" for the record as a whole
}

// checkStrict decodes every case with decode and checks the sentinel, the type and the field.
func checkStrict(t *testing.T, typ string, decode func([]byte) (any, error), cases []strictCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v, err := decode(tc.in)
			if err == nil {
				t.Fatalf("Decode(%q) = %+v, want an error", tc.in, v)
			}
			if v != nil {
				t.Errorf("Decode returned a value with the error: %+v", v)
			}
			var fe *codecs.FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("Decode(%q) error %v is not a *FieldError", tc.in, err)
			}
			if !errors.Is(err, tc.err) || fe.Err != tc.err {
				t.Errorf("Decode(%q) error = %v, want %v", tc.in, err, tc.err)
			}
			if fe.Type != typ || fe.Field != tc.field || fe.Op != "decode" {
				t.Errorf("Decode(%q) error names %s %s.%s, want decode %s.%s (%v)", tc.in, fe.Op, fe.Type, fe.Field, typ, tc.field, err)
			}
			if fe.Offset < 0 || fe.Offset > len(tc.in) {
				t.Errorf("offset %d outside the input of %d bytes", fe.Offset, len(tc.in))
			}
		})
	}
}

// genericCases derives the strict cases that every record type shares from its valid fields.
func genericCases(rt recordType) []strictCase {
	fs := rt.fields
	valid := object(fs)
	cases := []strictCase{
		{"empty input", nil, codecs.ErrSyntax, ""},
		{"only whitespace", []byte(" \n"), codecs.ErrSyntax, ""},
		{"null", []byte("null"), codecs.ErrSyntax, ""},
		{"array", []byte("[" + string(valid) + "]"), codecs.ErrSyntax, ""},
		{"string", []byte(`"x"`), codecs.ErrSyntax, ""},
		{"trailing object", append(append([]byte{}, valid...), valid...), codecs.ErrSyntax, ""},
		{"trailing garbage", append(append([]byte{}, valid...), " x"...), codecs.ErrSyntax, ""},
		{"trailing comma", []byte(strings.TrimSuffix(string(valid), "}") + ",}"), codecs.ErrSyntax, ""},
		{"leading comma", []byte("{," + string(valid[1:])), codecs.ErrSyntax, ""},
		{"missing colon", []byte(strings.Replace(string(valid), `":`, `" `, 1)), codecs.ErrSyntax, ""},
		{"single quotes", []byte(strings.ReplaceAll(string(valid), `"`, `'`)), codecs.ErrSyntax, ""},
		{"invalid UTF-8 outside strings", []byte("\xff" + string(valid)), codecs.ErrSyntax, ""},
		{"BOM", []byte("\ufeff" + string(valid)), codecs.ErrSyntax, ""},
		{"unknown field", object(with(fs, "extra", `1`)), codecs.ErrUnknownField, "extra"},
		{"unknown null field", object(with(fs, "extra", `null`)), codecs.ErrUnknownField, "extra"},
		{"field name in upper case", object(append([]field{{strings.ToUpper(fs[0].name), fs[0].value}}, fs[1:]...)), codecs.ErrUnknownField, strings.ToUpper(fs[0].name)},
		{"nested unknown", object(with(fs, "meta", `{"a":[1,2]}`)), codecs.ErrUnknownField, "meta"},
		{"field name extended", object(append([]field{{fs[0].name + "x", fs[0].value}}, fs[1:]...)), codecs.ErrUnknownField, fs[0].name + "x"},
		{"field name cut", object(append([]field{{fs[0].name[:len(fs[0].name)-1], fs[0].value}}, fs[1:]...)), codecs.ErrUnknownField, fs[0].name[:len(fs[0].name)-1]},
		{"field name at the end of input", []byte(`{"` + fs[0].name), codecs.ErrSyntax, ""},
		{"long unknown name", object(with(fs, strings.Repeat("x", 63)+"é", `1`)), codecs.ErrUnknownField, strings.Repeat("x", 63) + "..."},
	}
	for _, f := range fs {
		cases = append(cases,
			strictCase{"duplicate " + f.name, object(append(append([]field{}, fs...), f)), codecs.ErrDuplicateField, f.name},
			strictCase{"duplicate null " + f.name, object(append(append([]field{}, fs...), field{f.name, "null"})), codecs.ErrDuplicateField, f.name},
			strictCase{f.name + " is an object", object(with(fs, f.name, `{}`)), codecs.ErrWrongType, f.name},
			strictCase{f.name + " is an array", object(with(fs, f.name, `["x"]`)), codecs.ErrWrongType, f.name},
			strictCase{f.name + " is a boolean", object(with(fs, f.name, `true`)), codecs.ErrWrongType, f.name},
			strictCase{f.name + " is a bare word", object(with(fs, f.name, `nil`)), codecs.ErrSyntax, f.name},
		)
	}
	for _, name := range rt.strings {
		cases = append(cases,
			strictCase{name + " is a number", object(with(fs, name, `12`)), codecs.ErrWrongType, name},
			strictCase{name + " has invalid UTF-8", object(with(fs, name, "\"a\xffb\"")), codecs.ErrBadValue, name},
			strictCase{name + " has a truncated UTF-8 sequence", object(with(fs, name, "\"\xe6\x97\"")), codecs.ErrBadValue, name},
			strictCase{name + " has a UTF-16 surrogate as UTF-8", object(with(fs, name, "\"\xed\xa0\x80\"")), codecs.ErrBadValue, name},
			strictCase{name + " has a lone surrogate escape", object(with(fs, name, `"\ud800"`)), codecs.ErrBadValue, name},
			strictCase{name + " has a reversed surrogate pair", object(with(fs, name, `"\ude00\ud83d"`)), codecs.ErrBadValue, name},
			strictCase{name + " has a raw newline", object(with(fs, name, "\"a\nb\"")), codecs.ErrSyntax, name},
			strictCase{name + " has a bad escape", object(with(fs, name, `"a\x41"`)), codecs.ErrSyntax, name},
			strictCase{name + " has a short \\u escape", object(with(fs, name, `"\u41"`)), codecs.ErrSyntax, name},
			strictCase{name + " is unterminated", []byte(`{"` + name + `":"abc`), codecs.ErrSyntax, name},
		)
	}
	for _, name := range rt.required {
		cases = append(cases,
			strictCase{"missing " + name, object(without(fs, name)), codecs.ErrMissingField, name},
			strictCase{"null " + name, object(with(fs, name, "null")), codecs.ErrBadValue, name},
		)
	}
	cases = append(cases, strictCase{"empty object", []byte("{}"), codecs.ErrMissingField, rt.required[0]})
	for _, tm := range badTimes {
		cases = append(cases, strictCase{"time " + tm, object(with(fs, "time", `"`+tm+`"`)), codecs.ErrBadValue, "time"})
	}
	if hasField(fs, "type") {
		for _, v := range []string{`""`, `"bogus"`, `"Purchase"`, `" page_view"`, `"product_view\u0000"`} {
			cases = append(cases, strictCase{"type " + v, object(with(fs, "type", v)), codecs.ErrBadValue, "type"})
		}
	}
	return cases
}

func hasField(fs []field, name string) bool {
	for _, f := range fs {
		if f.name == name {
			return true
		}
	}
	return false
}

// badTimes are time texts that are not in the RFC 3339 profile of docs/formats.md.
var badTimes = []string{
	"",
	"yesterday",
	"2024-03-01",
	"2024-03-01 10:15:00Z",
	"2024-03-01t10:15:00Z",
	"2024-03-01T10:15:00z",
	"2024-03-01T10:15:00",
	"2024-03-01T10:15Z",
	"2024-03-01T1:15:00Z",
	"2024-3-01T10:15:00Z",
	"2024-03-01T10:15:00.Z",
	"2024-03-01T10:15:00,5Z",
	"2024-03-01T10:15:00.1234567890Z",
	"2024-03-01T10:15:00+0100",
	"2024-03-01T10:15:00+01",
	"2024-03-01T10:15:00+24:00",
	"2024-03-01T10:15:00+01:60",
	"2024-03-01T10:15:00ZZ",
	"2024-03-01T10:15:00Z ",
	"0000-01-01T00:00:00Z",
	"0001-01-01T00:30:00+01:00", // year 0 in UTC
	"9999-12-31T23:30:00-01:00", // year 10000 in UTC
	"10000-01-01T00:00:00Z",
	"-001-01-01T00:00:00Z",
	"2023-02-29T00:00:00Z",
	"2024-04-31T00:00:00Z",
	"2024-13-01T00:00:00Z",
	"2024-00-01T00:00:00Z",
	"2024-03-00T00:00:00Z",
	"2024-03-01T24:00:00Z",
	"2024-03-01T23:60:00Z",
	"2024-03-01T23:59:60Z", // Go's time has no leap seconds
	"２０２４-03-01T10:15:00Z",
}

func TestStrictDecoding(t *testing.T) {
	for _, rt := range recordTypes {
		t.Run(rt.name, func(t *testing.T) {
			checkStrict(t, rt.name, rt.codec.Decode, genericCases(rt))
		})
	}
}

// TestEveryPrefixIsASyntaxError cuts each valid record at every byte: no prefix is a record.
func TestEveryPrefixIsASyntaxError(t *testing.T) {
	for _, rt := range recordTypes {
		valid := object(rt.fields)
		for n := 0; n < len(valid); n++ {
			_, err := rt.codec.Decode(valid[:n])
			var fe *codecs.FieldError
			if !errors.As(err, &fe) || fe.Err != codecs.ErrSyntax || fe.Type != rt.name {
				t.Errorf("%s: Decode(%q) error = %v, want a syntax error", rt.name, valid[:n], err)
			}
		}
	}
}

func TestStrictTransactionLine(t *testing.T) {
	fs := recordTypes[1].fields
	decode := func(b []byte) (any, error) {
		v, err := codecs.DecodeTransactionLine(b)
		if v == nil {
			return nil, err // a typed nil pointer would not compare equal to nil
		}
		return v, err
	}
	checkStrict(t, "TransactionLine", decode, []strictCase{
		{"quantity above int64", object(with(fs, "quantity", `9223372036854775808`)), codecs.ErrBadValue, "quantity"},
		{"quantity below int64", object(with(fs, "quantity", `-9223372036854775809`)), codecs.ErrBadValue, "quantity"},
		{"quantity huge", object(with(fs, "quantity", strings.Repeat("9", 400))), codecs.ErrBadValue, "quantity"},
		{"quantity with a fraction", object(with(fs, "quantity", `2.0`)), codecs.ErrBadValue, "quantity"},
		{"quantity with an exponent", object(with(fs, "quantity", `2e0`)), codecs.ErrBadValue, "quantity"},
		{"quantity as a string", object(with(fs, "quantity", `"2"`)), codecs.ErrWrongType, "quantity"},
		{"quantity with a leading zero", object(with(fs, "quantity", `02`)), codecs.ErrSyntax, ""},
		{"quantity with a plus", object(with(fs, "quantity", `+2`)), codecs.ErrSyntax, "quantity"},
		{"quantity a lone minus", object(with(fs, "quantity", `-`)), codecs.ErrSyntax, "quantity"},
		{"quantity hex", object(with(fs, "quantity", `0x10`)), codecs.ErrSyntax, ""},
		{"quantity NaN", object(with(fs, "quantity", `NaN`)), codecs.ErrSyntax, "quantity"},
		{"money with 4 decimals", object(with(fs, "unit_price", `"4.9501"`)), codecs.ErrBadValue, "unit_price"},
		{"money number with 4 decimals", object(with(fs, "unit_price", `4.9501`)), codecs.ErrBadValue, "unit_price"},
		{"money number with an exponent", object(with(fs, "unit_price", `4.95e0`)), codecs.ErrBadValue, "unit_price"},
		{"money with a currency sign", object(with(fs, "unit_price", `"£4.95"`)), codecs.ErrBadValue, "unit_price"},
		{"money with a thousands separator", object(with(fs, "unit_price", `"1,299.00"`)), codecs.ErrBadValue, "unit_price"},
		{"money with spaces", object(with(fs, "unit_price", `" 4.95"`)), codecs.ErrBadValue, "unit_price"},
		{"money empty", object(with(fs, "unit_price", `""`)), codecs.ErrBadValue, "unit_price"},
		{"money out of range", object(with(fs, "unit_price", `"9223372036854775.808"`)), codecs.ErrBadValue, "unit_price"},
		{"money number out of range", object(with(fs, "unit_price", `99999999999999999999`)), codecs.ErrBadValue, "unit_price"},
		{"money as a boolean", object(with(fs, "unit_price", `false`)), codecs.ErrWrongType, "unit_price"},
		{"money number with a trailing dot", object(with(fs, "unit_price", `4.`)), codecs.ErrSyntax, "unit_price"},
		{"money number with a leading dot", object(with(fs, "unit_price", `.5`)), codecs.ErrSyntax, "unit_price"},
	})
	// The money errors also unwrap to the cause in package event.
	_, err := codecs.DecodeTransactionLine(object(with(fs, "unit_price", `"4.9501"`)))
	if !errors.Is(err, event.ErrMoneyPrecision) {
		t.Errorf("error %v does not unwrap to event.ErrMoneyPrecision", err)
	}
	_, err = codecs.DecodeTransactionLine(object(with(fs, "unit_price", `"9223372036854775.808"`)))
	if !errors.Is(err, event.ErrMoneyRange) {
		t.Errorf("error %v does not unwrap to event.ErrMoneyRange", err)
	}
}

func TestStrictReview(t *testing.T) {
	fs := recordTypes[3].fields
	checkStrict(t, "Review", codecs.Review{}.Decode, []strictCase{
		{"rating above int", object(with(fs, "rating", fmt.Sprint(uint64(1)<<63))), codecs.ErrBadValue, "rating"},
		{"rating with a fraction", object(with(fs, "rating", `4.5`)), codecs.ErrBadValue, "rating"},
		{"rating as a string", object(with(fs, "rating", `"5"`)), codecs.ErrWrongType, "rating"},
	})
}

func TestStrictDeadLetter(t *testing.T) {
	fs := recordTypes[4].fields
	checkStrict(t, "DeadLetter", codecs.DeadLetter{}.Decode, []strictCase{
		{"key not base64", object(with(fs, "key", `"!!"`)), codecs.ErrBadValue, "key"},
		{"original without padding", object(with(fs, "original", `"eyJ4IjoxfQ"`)), codecs.ErrBadValue, "original"},
		{"original with non-zero padding bits", object(with(fs, "original", `"eyJ4IjoxfR=="`)), codecs.ErrBadValue, "original"},
		{"original URL alphabet", object(with(fs, "original", `"-_-_"`)), codecs.ErrBadValue, "original"},
		{"original as bytes array", object(with(fs, "original", `[1,2]`)), codecs.ErrWrongType, "original"},
	})
}

// TestErrorText checks the error text names type and field and never quotes a free-text value,
// which may be a raw user id.
func TestErrorText(t *testing.T) {
	fs := recordTypes[0].fields
	tests := []struct {
		in   []byte
		want string
	}{
		{object(with(fs, "user_id", "\"u99999\xff\"")), `codecs: decode Activity.user_id at byte 40: bad value: invalid UTF-8 in string`},
		{object(without(fs, "time")), `codecs: decode Activity.time at byte 165: missing required field`},
		{object(with(fs, "type", `"u99999-is-not-a-type-and-is-long"`)), `codecs: decode Activity.type at byte 72: bad value: unknown type "u99999-is-not-a-type-and"...`},
		{object(with(fs, "time", `"2024-02-30T00:00:00Z"`)), `codecs: decode Activity.time at byte 172: bad value: no such day: "2024-02-30T00:00:00Z"`},
		{[]byte(`{"event_id":1}`), `codecs: decode Activity.event_id at byte 12: wrong JSON type: want string, got number`},
		{[]byte(`{"event_id":"x"} {`), `codecs: decode Activity at byte 17: syntax error: data after the object`},
	}
	for _, tt := range tests {
		_, err := codecs.DecodeActivity(tt.in)
		if err == nil || err.Error() != tt.want {
			t.Errorf("Decode(%q) error\n got %v\nwant %s", tt.in, err, tt.want)
		}
	}
}

func TestEncodeRefuses(t *testing.T) {
	bad := "u77777\xff" // as if a raw user id
	tests := []struct {
		name  string
		codec interface{ Encode(any) ([]byte, error) }
		value any
		err   error
		field string
	}{
		{"nil pointer", codecs.Activity{}, (*event.Activity)(nil), codecs.ErrUnsupportedType, ""},
		{"nil", codecs.Review{}, nil, codecs.ErrUnsupportedType, ""},
		{"another record type", codecs.Review{}, &event.Activity{}, codecs.ErrUnsupportedType, ""},
		{"pointer to pointer", codecs.DeadLetter{}, new(*event.DeadLetter), codecs.ErrUnsupportedType, ""},
		{"unknown activity type", codecs.Activity{}, event.Activity{Type: "click", Time: t0}, codecs.ErrBadValue, "type"},
		{"empty tx type", codecs.TransactionLine{}, event.TransactionLine{Time: t0}, codecs.ErrBadValue, "type"},
		{"unknown inventory type", codecs.InventoryUpdate{}, event.InventoryUpdate{Type: "audit", Time: t0}, codecs.ErrBadValue, "type"},
		{"year 0", codecs.Review{}, event.Review{Time: firstTime.Add(-1)}, codecs.ErrBadValue, "time"},
		{"year 10000", codecs.DeadLetter{}, event.DeadLetter{Time: lastTime.Add(1)}, codecs.ErrBadValue, "time"},
		{"invalid UTF-8 query", codecs.Activity{}, event.Activity{Type: event.Search, Query: bad, Time: t0}, codecs.ErrBadValue, "query"},
		{"invalid UTF-8 line id", codecs.TransactionLine{}, event.TransactionLine{LineID: bad, Type: event.Purchase, Time: t0}, codecs.ErrBadValue, "line_id"},
		{"invalid UTF-8 source", codecs.TransactionLine{}, event.TransactionLine{Type: event.Purchase, Source: bad, Time: t0}, codecs.ErrBadValue, "source"},
		{"invalid UTF-8 sku", codecs.InventoryUpdate{}, event.InventoryUpdate{Type: event.Restock, SKU: bad, Time: t0}, codecs.ErrBadValue, "sku"},
		{"invalid UTF-8 text", codecs.Review{}, event.Review{Text: bad, Time: t0}, codecs.ErrBadValue, "text"},
		{"invalid UTF-8 detail", codecs.DeadLetter{}, event.DeadLetter{Detail: bad, Time: t0}, codecs.ErrBadValue, "detail"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.codec.Encode(tt.value)
			if !errors.Is(err, tt.err) || got != nil {
				t.Fatalf("Encode = %q, %v; want nil, %v", got, err, tt.err)
			}
			var fe *codecs.FieldError
			if errors.As(err, &fe) != (tt.err == codecs.ErrBadValue) {
				t.Fatalf("Encode error %v: *FieldError = %v", err, errors.As(err, &fe))
			}
			if fe != nil && (fe.Field != tt.field || fe.Op != "encode" || fe.Offset != -1) {
				t.Errorf("Encode error names %s.%s at %d, want encode .%s", fe.Type, fe.Field, fe.Offset, tt.field)
			}
			if strings.Contains(err.Error(), "u77777") {
				t.Errorf("error text %q quotes a free-text value", err)
			}
		})
	}
	// A failed append leaves the caller's buffer as it was.
	dst := []byte("keep")
	out, err := codecs.AppendActivity(dst, &event.Activity{EventID: "x", Type: event.PageView, Query: bad, Time: t0})
	if err == nil || string(out) != "keep" {
		t.Errorf("AppendActivity = %q, %v; want \"keep\" and an error", out, err)
	}
}

// TestStringFastPath puts every special byte at every position of a 24-byte string, so that each
// lane of the eight-byte scan sees it.
func TestStringFastPath(t *testing.T) {
	fs := recordTypes[0].fields
	for _, c := range []string{"\"", "\\", "\x00", "\x1f", "\x80", "\xff", "é", "\x7f", " "} {
		for pos := 0; pos < 24; pos++ {
			s := []byte(strings.Repeat("a", 24))
			text := string(s[:pos]) + c + string(s[pos:])
			lit := jsonString(text)
			got, err := codecs.DecodeActivity(object(with(fs, "query", lit)))
			valid := c == "é" || c == "\x7f" || c == " " || c == "\"" || c == "\\"
			if valid && (err != nil || got.Query != text) {
				t.Errorf("query %q: got %+v, %v", text, got, err)
			}
			if !valid && err == nil {
				t.Errorf("query %q decoded without error", text)
			}
		}
	}
}

// jsonString quotes s as this test's producers would: escaping only quote and backslash, so that
// control characters and invalid UTF-8 reach the decoder raw.
func jsonString(s string) string {
	r := strings.NewReplacer(`"`, `\"`, `\`, `\\`)
	return `"` + r.Replace(s) + `"`
}
