package storagetest

import (
	"fmt"
	"testing"
)

// op is one step of a key-value script; the expectations are checked after the step.
type op struct {
	do      string // set, delete, get
	key     string
	value   []byte // for set
	want    []byte // for get: nil means absent
	wantHas bool   // for get
}

func (h *harness) testKeyValue(t *testing.T) {
	cases := []struct {
		name string
		ops  []op
	}{
		{"missing key", []op{
			{do: "get", key: "a", want: nil, wantHas: false},
		}},
		{"set then get", []op{
			{do: "set", key: "a", value: []byte("1")},
			{do: "get", key: "a", want: []byte("1"), wantHas: true},
			{do: "get", key: "b", want: nil, wantHas: false},
		}},
		{"overwrite", []op{
			{do: "set", key: "a", value: []byte("1")},
			{do: "set", key: "a", value: []byte("22")},
			{do: "get", key: "a", want: []byte("22"), wantHas: true},
		}},
		{"delete", []op{
			{do: "set", key: "a", value: []byte("1")},
			{do: "delete", key: "a"},
			{do: "get", key: "a", want: nil, wantHas: false},
		}},
		{"delete missing key", []op{
			{do: "delete", key: "nope"},
			{do: "get", key: "nope", want: nil, wantHas: false},
		}},
		{"set after delete", []op{
			{do: "set", key: "a", value: []byte("1")},
			{do: "delete", key: "a"},
			{do: "set", key: "a", value: []byte("3")},
			{do: "get", key: "a", want: []byte("3"), wantHas: true},
		}},
		{"empty value is present and non-nil", []op{
			{do: "set", key: "e", value: []byte{}},
			{do: "get", key: "e", want: []byte{}, wantHas: true},
		}},
		{"empty key", []op{
			{do: "set", key: "", value: []byte("root")},
			{do: "get", key: "", want: []byte("root"), wantHas: true},
		}},
		{"binary key and value", []op{
			{do: "set", key: "\x00\xff\x01", value: []byte{0, 1, 2, 255}},
			{do: "get", key: "\x00\xff\x01", want: []byte{0, 1, 2, 255}, wantHas: true},
			{do: "get", key: "\x00\xff", want: nil, wantHas: false},
		}},
		{"large value", []op{
			{do: "set", key: "big", value: bytesOf(1<<20, 7)},
			{do: "get", key: "big", want: bytesOf(1<<20, 7), wantHas: true},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st := h.openRecovered(t)
			for i, o := range tc.ops {
				step := fmt.Sprintf("step %d (%s %q)", i, o.do, o.key)
				switch o.do {
				case "set":
					if err := st.Set(o.key, o.value); err != nil {
						t.Fatalf("%s: %v", step, err)
					}
				case "delete":
					if err := st.Delete(o.key); err != nil {
						t.Fatalf("%s: %v", step, err)
					}
				case "get":
					got, err := st.Get(o.key)
					if err != nil {
						t.Fatalf("%s: %v", step, err)
					}
					if !sameBytes(got, o.want) {
						t.Fatalf("%s: Get = %q (nil=%t), want %q (nil=%t)", step, trunc(got), got == nil, trunc(o.want), o.want == nil)
					}
					has, err := st.Has(o.key)
					if err != nil || has != o.wantHas {
						t.Fatalf("%s: Has = %t, %v; want %t", step, has, err, o.wantHas)
					}
				}
			}
		})
	}

	t.Run("nil value", func(t *testing.T) {
		st := h.openRecovered(t)
		err := st.Set("n", nil)
		if h.c.Quirks.NilValueStored {
			got, gerr := st.Get("n")
			if err != nil || gerr != nil || got == nil || len(got) != 0 {
				t.Fatalf("quirk NilValueStored: Set = %v, Get = %q (nil=%t), %v; want stored empty value", err, got, got == nil, gerr)
			}
			return
		}
		if err == nil {
			t.Fatal("Set(key, nil) succeeded, want an error (goka deletes instead of storing nil)")
		}
		if has, _ := st.Has("n"); has {
			t.Fatal("Set(key, nil) failed but the key exists")
		}
	})
}

// testValueOwnership checks that the store neither keeps the caller's slice nor hands out its own:
// goka's codecs may decode without copying (codec.Bytes returns the slice as is) and a callback may
// keep the decoded value.
func (h *harness) testValueOwnership(t *testing.T) {
	st := h.openRecovered(t)
	in := []byte("original")
	mustSetBytes(t, st, "k", in)
	in[0] = 'X'
	got, err := st.Get("k")
	if err != nil {
		t.Fatal(err)
	}
	wantAfterInput := "original"
	if h.c.Quirks.AliasesValues {
		wantAfterInput = "Xriginal"
	}
	if string(got) != wantAfterInput {
		t.Fatalf("after mutating the slice passed to Set: Get = %q, want %q", got, wantAfterInput)
	}
	got[1] = 'Y'
	again, err := st.Get("k")
	if err != nil {
		t.Fatal(err)
	}
	wantAfterOutput := wantAfterInput
	if h.c.Quirks.AliasesValues {
		wantAfterOutput = "XYiginal"
	}
	if string(again) != wantAfterOutput {
		t.Fatalf("after mutating the slice Get returned: Get = %q, want %q", again, wantAfterOutput)
	}
}

func mustSetBytes(t *testing.T, st interface{ Set(string, []byte) error }, k string, v []byte) {
	t.Helper()
	if err := st.Set(k, v); err != nil {
		t.Fatalf("Set(%q): %v", k, err)
	}
}

func bytesOf(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i) ^ seed
	}
	return b
}

func trunc(b []byte) []byte {
	if len(b) > 16 {
		return b[:16]
	}
	return b
}
