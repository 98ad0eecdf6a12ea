package codecs_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"testing"

	"github.com/lovoo/goka"
	"github.com/shopease/shopease/codecs"
	"github.com/shopease/shopease/event"
)

var writeCorpus = flag.Bool("codecs.write-corpus", false, "rewrite the fuzz seed corpora under testdata/fuzz")

var sentinels = []error{codecs.ErrSyntax, codecs.ErrUnknownField, codecs.ErrDuplicateField,
	codecs.ErrMissingField, codecs.ErrWrongType, codecs.ErrBadValue}

// fuzzDecode checks the properties every decoder keeps on any input: it never panics; an error is
// a *FieldError of the right type that unwraps to one sentinel; an accepted input is valid JSON, its
// value encodes, and the encoding decodes to an equal value, re-encodes to the same bytes and reads
// as the same value with encoding/json.
func fuzzDecode[T any](t *testing.T, typ string, c goka.Codec, data []byte) {
	v, err := c.Decode(data)
	if err != nil {
		var fe *codecs.FieldError
		if !errors.As(err, &fe) || fe.Type != typ || fe.Op != "decode" {
			t.Fatalf("Decode(%q) error %v is not a decode *FieldError for %s", data, err, typ)
		}
		if fe.Offset < 0 || fe.Offset > len(data) {
			t.Fatalf("Decode(%q) error offset %d outside the input", data, fe.Offset)
		}
		n := 0
		for _, s := range sentinels {
			if errors.Is(err, s) {
				n++
			}
		}
		if n != 1 || v != nil {
			t.Fatalf("Decode(%q) = %v, %v: want nil and exactly one sentinel", data, v, err)
		}
		return
	}
	if !json.Valid(data) {
		t.Fatalf("Decode accepted invalid JSON %q", data)
	}
	// encoding/json, reading the same input, agrees on every value; it fails only on money
	// written as a JSON number, which it cannot read into event.Money.
	fromStd := new(T)
	if err := json.Unmarshal(data, fromStd); err != nil {
		if typ != "TransactionLine" {
			t.Fatalf("Decode accepted %q, encoding/json refuses it: %v", data, err)
		}
	} else if !equalNormalized(fromStd, v) {
		t.Fatalf("Decode(%q) = %+v, encoding/json reads %+v", data, v, fromStd)
	}
	enc, err := c.Encode(v)
	if err != nil {
		t.Fatalf("Decode(%q) = %+v, which does not encode: %v", data, v, err)
	}
	v2, err := c.Decode(enc)
	if err != nil {
		t.Fatalf("Decode(Encode(%+v)) = %v (encoding %q)", v, err, enc)
	}
	if !reflect.DeepEqual(v, v2) {
		t.Fatalf("round trip of %q via %q\n got %+v\nwant %+v", data, enc, v2, v)
	}
	enc2, err := c.Encode(v2)
	if err != nil || !bytes.Equal(enc, enc2) {
		t.Fatalf("encoding is not canonical: %q then %q, %v", enc, enc2, err)
	}
	std := new(T)
	if err := json.Unmarshal(enc, std); err != nil {
		t.Fatalf("encoding/json cannot read %q: %v", enc, err)
	}
	if !equalNormalized(std, v) {
		t.Fatalf("encoding/json reads %q as %+v, want %+v", enc, std, v)
	}
}

func FuzzDecodeActivity(f *testing.F) {
	f.Add(object(recordTypes[0].fields))
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzDecode[event.Activity](t, "Activity", codecs.Activity{}, data)
	})
}

func FuzzDecodeTransactionLine(f *testing.F) {
	f.Add(object(recordTypes[1].fields))
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzDecode[event.TransactionLine](t, "TransactionLine", codecs.TransactionLine{}, data)
	})
}

func FuzzDecodeInventoryUpdate(f *testing.F) {
	f.Add(object(recordTypes[2].fields))
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzDecode[event.InventoryUpdate](t, "InventoryUpdate", codecs.InventoryUpdate{}, data)
	})
}

func FuzzDecodeReview(f *testing.F) {
	f.Add(object(recordTypes[3].fields))
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzDecode[event.Review](t, "Review", codecs.Review{}, data)
	})
}

func FuzzDecodeDeadLetter(f *testing.F) {
	f.Add(object(recordTypes[4].fields))
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzDecode[event.DeadLetter](t, "DeadLetter", codecs.DeadLetter{}, data)
	})
}

// seedCorpus returns the named seeds of one record type: valid records in several shapes and the
// edge cases that sit next to them (one change away from valid).
func seedCorpus(rt recordType) map[string][]byte {
	fs := rt.fields
	seeds := map[string][]byte{
		"valid":              object(fs),
		"valid-reordered":    object(append(append([]field{}, fs[len(fs)/2:]...), fs[:len(fs)/2]...)),
		"valid-whitespace":   []byte(" \t\r\n" + string(bytes.ReplaceAll(object(fs), []byte(","), []byte(" ,\n "))) + "\n"),
		"valid-escapes":      object(with(fs, rt.strings[1], `"\u00e9\ud83d\uded2\"\\\/\b\f\n\r\t\u0000 日本"`)),
		"valid-time-offset":  object(with(fs, "time", `"2024-03-01T11:45:00.123456789+01:30"`)),
		"valid-time-first":   object(with(fs, "time", `"0001-01-01T00:00:00Z"`)),
		"valid-time-last":    object(with(fs, "time", `"9999-12-31T23:59:59.999999999Z"`)),
		"empty":              nil,
		"empty-object":       []byte("{}"),
		"truncated":          object(fs)[:len(object(fs))/2],
		"trailing":           append(object(fs), '{'),
		"unknown-field":      object(with(fs, "extra", `{"a":[1,{"b":null}]}`)),
		"duplicate":          object(append(append([]field{}, fs...), fs[0])),
		"missing-time":       object(without(fs, "time")),
		"null-required":      object(with(fs, rt.required[0], "null")),
		"invalid-utf8":       object(with(fs, rt.strings[1], "\"\xc3\x28\"")),
		"lone-surrogate":     object(with(fs, rt.strings[1], `"\udc00x"`)),
		"bad-time-day":       object(with(fs, "time", `"2023-02-29T00:00:00Z"`)),
		"bad-time-year-zero": object(with(fs, "time", `"0001-01-01T00:30:00+01:00"`)),
		"bad-time-layout":    object(with(fs, "time", `"2024-03-01T1:15:00Z"`)),
		"wrong-type":         object(with(fs, rt.strings[0], `1e400`)),
	}
	for _, f := range fs {
		seeds["null-"+f.name] = object(with(fs, f.name, "null"))
	}
	if hasField(fs, "type") {
		seeds["unknown-type"] = object(with(fs, "type", `"Purchase"`))
	}
	switch rt.name {
	case "TransactionLine":
		seeds["money-number"] = object(with(fs, "unit_price", `-0.665`))
		seeds["money-max"] = object(with(fs, "unit_price", `"9223372036854775.807"`))
		seeds["money-min"] = object(with(fs, "unit_price", `-9223372036854775.808`))
		seeds["money-over"] = object(with(fs, "unit_price", `"9223372036854775.808"`))
		seeds["money-4-decimals"] = object(with(fs, "unit_price", `4.9501`))
		seeds["money-trailing-zeros"] = object(with(fs, "unit_price", `"4.95000"`))
		seeds["money-exponent"] = object(with(fs, "unit_price", `4.95E+0`))
		seeds["quantity-min"] = object(with(fs, "quantity", `-9223372036854775808`))
		seeds["quantity-over"] = object(with(fs, "quantity", `9223372036854775808`))
		seeds["quantity-fraction"] = object(with(fs, "quantity", `2.0`))
	case "Review":
		seeds["rating-over"] = object(with(fs, "rating", `9223372036854775808`))
		seeds["rating-negative"] = object(with(fs, "rating", `-1`))
	case "DeadLetter":
		seeds["base64-empty"] = object(with(fs, "original", `""`))
		seeds["base64-unpadded"] = object(with(fs, "original", `"eyJ4IjoxfQ"`))
		seeds["base64-newline"] = object(with(fs, "original", `"eyJ4\nIjoxfQ=="`))
	}
	return seeds
}

var fuzzTargets = map[string]string{
	"Activity": "FuzzDecodeActivity", "TransactionLine": "FuzzDecodeTransactionLine",
	"InventoryUpdate": "FuzzDecodeInventoryUpdate", "Review": "FuzzDecodeReview",
	"DeadLetter": "FuzzDecodeDeadLetter",
}

// TestSeedCorpus checks that the committed seed corpora hold every seed seedCorpus describes, and
// rewrites them with -codecs.write-corpus. Files other than seed-* (crashers the fuzzer found) are
// left alone.
func TestSeedCorpus(t *testing.T) {
	for _, rt := range recordTypes {
		dir := filepath.Join("testdata", "fuzz", fuzzTargets[rt.name])
		for name, data := range seedCorpus(rt) {
			path := filepath.Join(dir, "seed-"+name)
			want := fmt.Sprintf("go test fuzz v1\n[]byte(%s)\n", strconv.Quote(string(data)))
			if *writeCorpus {
				if err := os.MkdirAll(dir, 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
					t.Fatal(err)
				}
				continue
			}
			got, err := os.ReadFile(path)
			if err != nil || string(got) != want {
				t.Errorf("%s is missing or stale (err %v); rerun with -codecs.write-corpus", path, err)
			}
		}
	}
}
