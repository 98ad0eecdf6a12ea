package activity

import (
	"errors"
	"testing"

	"github.com/shopease/shopease/codecs"
	"github.com/shopease/shopease/event"
)

// FuzzDecode checks Decode against the strict codec it relaxes: wherever the codec decodes,
// Decode returns the same record; wherever Decode alone succeeds, the codec failed on the type
// value only, and the type Decode kept is indeed unknown.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		rawActivity("u1", "page_view", "", t0),
		rawActivity("u1", "hover", "P1", t0),
		rawActivity("u1", `ho\"ver`, "", t0),
		rawActivity("u1", `\u0070age_view`, "", t0),
		`{"event_id":"a","type":"x","type":"page_view","time":"` + t0 + `"}`,
		`{"event_id":"a","type":"x","colour":1,"time":"` + t0 + `"}`,
		`{"event_id":"a","type":null,"time":"` + t0 + `"}`,
		`{"type":"hover"`,
		`{"event_id":"a","type":"\xff","time":"` + t0 + `"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		strict, strictErr := codecs.DecodeActivity(b)
		got, err := Decode(b)
		switch {
		case strictErr == nil:
			if err != nil || *got != *strict {
				t.Fatalf("codec decodes %q to %+v, Decode to %+v, %v", b, strict, got, err)
			}
		case err == nil:
			var fe *codecs.FieldError
			if !errors.As(strictErr, &fe) || fe.Field != "type" || !errors.Is(strictErr, codecs.ErrBadValue) {
				t.Fatalf("Decode accepted %q that the codec refused for another reason: %v", b, strictErr)
			}
			if got.Type.Valid() {
				t.Fatalf("Decode of %q kept the known type %q although the codec refused it", b, got.Type)
			}
		}
	})
}

func TestDecodeKeepsUnknownType(t *testing.T) {
	cases := []struct {
		raw  string
		want event.ActivityType
		ok   bool
	}{
		{rawActivity("u1", "hover", "", t0), "hover", true},
		{rawActivity("u1", `ho\"ver\u0041`, "", t0), `ho"verA`, true},
		{rawActivity("u1", "", "", t0), "", true},
		{rawActivity("u1", "page_view", "", t0), event.PageView, true},
		{`{"event_id":"a","type":"hover","colour":1,"time":"` + t0 + `"}`, "", false},
		{`{"event_id":"a","type":"hover"`, "", false},
	}
	for _, c := range cases {
		a, err := Decode([]byte(c.raw))
		if (err == nil) != c.ok || (err == nil && a.Type != c.want) {
			t.Errorf("Decode(%s) = %+v, %v; want type %q, ok %v", c.raw, a, err, c.want, c.ok)
		}
	}
}
