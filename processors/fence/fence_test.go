package fence

import (
	"errors"
	"testing"
)

func TestVectorAdmitsEachOriginOnce(t *testing.T) {
	var v Vector
	steps := []struct {
		o    Origin
		want bool
	}{
		{Origin{"raw.tx", 3, 10}, true},
		{Origin{"raw.tx", 3, 10}, false}, // redelivery
		{Origin{"raw.tx", 1, 4}, true},   // another partition has its own fence
		{Origin{"raw.tx", 3, 9}, false},  // older than the fence
		{Origin{"raw.tx", 3, 11}, true},
		{Origin{"raw.act", 3, 2}, true}, // another topic too
		{Origin{"raw.tx", 1, 4}, false},
	}
	for i, s := range steps {
		if got := v.Admit(s.o); got != s.want {
			t.Errorf("step %d Admit(%v) = %v, want %v", i, s.o, got, s.want)
		}
	}
	want := Vector{{"raw.act/3", 2}, {"raw.tx/1", 4}, {"raw.tx/3", 11}}
	if len(v) != len(want) {
		t.Fatalf("vector %v, want %v", v, want)
	}
	for i := range want {
		if v[i] != want[i] {
			t.Errorf("vector[%d] = %v, want %v", i, v[i], want[i])
		}
	}
	if !v.Applied(Origin{"raw.tx", 3, 5}) || v.Applied(Origin{"raw.tx", 3, 12}) || v.Applied(Origin{"raw.x", 0, 0}) {
		t.Error("Applied disagrees with Admit")
	}
}

func TestOriginRoundTrip(t *testing.T) {
	for _, o := range []Origin{{"shopease.transactions", 7, 123456789}, {"ns.a/b", 0, 0}} {
		got, err := ParseOrigin(o.String())
		if err != nil || got != o {
			t.Errorf("ParseOrigin(%q) = %v, %v", o.String(), got, err)
		}
	}
	h := Headers(Origin{"shopease.activity", 2147483647, 9223372036854775807})
	if got := string(h[Header]); got != "shopease.activity/2147483647/9223372036854775807" {
		t.Errorf("Headers: %q", got)
	}
	// One allocation for the value and the map's own: Headers runs once per emitted record.
	if n := testing.AllocsPerRun(100, func() { Headers(Origin{"shopease.activity", 7, 123456789}) }); n > 2 {
		t.Errorf("Headers: %.0f allocations, want ≤ 2", n)
	}
	for _, bad := range []string{"", "x", "x/1", "x/a/1", "x/1/-1", "/1/2"} {
		if _, err := ParseOrigin(bad); !errors.Is(err, ErrBadOrigin) {
			t.Errorf("ParseOrigin(%q): %v", bad, err)
		}
	}
}
