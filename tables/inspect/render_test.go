package inspect_test

import (
	"testing"

	"github.com/lovoo/goka"
	"github.com/lovoo/goka/codec"

	"github.com/shopease/shopease/tables/inspect"
)

func TestJSON(t *testing.T) {
	cases := []struct {
		name  string
		codec goka.Codec
		rec   inspect.Record
		want  string
	}{
		{"decoded", new(codec.Int64), inspect.Record{Table: "t", Partition: 2, Key: "k", Value: []byte("42")},
			`{"table":"t","partition":2,"key":"k","value":42}`},
		{"raw text", nil, inspect.Record{Table: "t", Partition: 0, Key: "k", Value: []byte(`{"a":1}`)},
			`{"table":"t","partition":0,"key":"k","raw":"{\"a\":1}"}`},
		{"raw binary", nil, inspect.Record{Table: "t", Partition: 1, Key: "k", Value: []byte{0xff, 0x00}},
			`{"table":"t","partition":1,"key":"k","raw_base64":"/wA="}`},
		{"binary key", nil, inspect.Record{Table: "t", Partition: 1, Key: "\xff", Value: []byte("v")},
			`{"table":"t","partition":1,"key_base64":"/w==","raw":"v"}`},
		{"empty value", nil, inspect.Record{Table: "t", Partition: 3, Key: "k", Value: []byte{}},
			`{"table":"t","partition":3,"key":"k","empty":true}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := inspect.JSON(tc.codec, tc.rec)
			if err != nil || string(got) != tc.want {
				t.Fatalf("JSON = %s, %v; want %s", got, err, tc.want)
			}
		})
	}
	if _, err := inspect.JSON(new(codec.Int64), inspect.Record{Table: "t", Key: "k", Value: []byte("x")}); err == nil {
		t.Fatal("JSON with an undecodable value succeeded")
	}
}
