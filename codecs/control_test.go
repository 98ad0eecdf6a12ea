package codecs_test

import (
	"errors"
	"testing"
	"time"

	"github.com/shopease/shopease/codecs"
	"github.com/shopease/shopease/event"
)

func TestControlCodec(t *testing.T) {
	c := codecs.Control{Codec: codecs.Activity{}}
	marker := event.EndOfInput{Partitions: 3}.Encode()
	if b, err := c.Encode(marker); err != nil || string(b) != string(marker) {
		t.Errorf("marker encoded as %q, %v; want the bytes unchanged", b, err)
	}
	a := &event.Activity{EventID: "e1", UserID: "u1", Type: event.PageView, Time: time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)}
	b, err := c.Encode(a)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := codecs.Activity{}.Encode(a)
	if string(b) != string(want) {
		t.Errorf("activity encoded as %s, want %s", b, want)
	}
	v, err := c.Decode(b)
	if err != nil || v.(*event.Activity).EventID != "e1" {
		t.Errorf("decoded %+v, %v", v, err)
	}
	if _, err := c.Encode(42); err == nil {
		t.Error("an int encoded without error")
	}
	// A consumer that decoded a marker without looking at its headers gets an error, not an event.
	if v, err := c.Decode(marker); !errors.Is(err, codecs.ErrUnknownField) {
		t.Errorf("a marker decoded as %+v, %v; want ErrUnknownField", v, err)
	}
}
