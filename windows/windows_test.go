package windows

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"
)

var base = time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)

// at is the Unix ms of base + d.
func at(d time.Duration) int64 { return base.Add(d).UnixMilli() }

func hm(ms int64) string { return time.UnixMilli(ms).UTC().Format("15:04") }

// TestAdvanceAndClose walks one partition through signals of three expected sources: no
// watermark until all have reported, the slowest source holds it, windows close grace after it in
// a gap-free run from the first window less the grace, and a signal delivered again moves nothing.
func TestAdvanceAndClose(t *testing.T) {
	w, err := New(Config{Size: time.Minute, Grace: 2 * time.Minute, Expect: 3})
	if err != nil {
		t.Fatal(err)
	}
	c := &Clocks{}
	steps := []struct {
		source  string
		win     time.Duration
		changed bool
		// after the step: the watermark ("-" when none) and the windows Close returns
		wm, closed string
	}{
		{"a/0", 5 * time.Minute, true, "-", ""},
		{"a/1", 3 * time.Minute, true, "-", ""},
		{"a/1", 3 * time.Minute, false, "-", ""}, // delivered again
		{"a/2", 4 * time.Minute, true, "10:03", "10:01-10:01"},
		{"a/1", 6 * time.Minute, true, "10:04", "10:01-10:02"},
		{"a/2", 9 * time.Minute, true, "10:05", "10:02-10:03"},
		{"a/1", 2 * time.Minute, true, "10:05", "10:03-10:03"}, // an older first window: clock unchanged
		{"a/0", 12 * time.Minute, true, "10:06", "10:03-10:04"},
	}
	for i, s := range steps {
		if got := w.Advance(c, s.source, at(s.win)); got != s.changed {
			t.Errorf("step %d: changed %v, want %v", i, got, s.changed)
		}
		wm := "-"
		if ms, ok := w.Watermark(c); ok {
			wm = hm(ms)
		}
		closed := ""
		if from, to, _ := w.Close(c); c.Opened {
			closed = hm(from) + "-" + hm(to)
		}
		if wm != s.wm || closed != s.closed {
			t.Errorf("step %d: watermark %s closed %q, want %s %q", i, wm, closed, s.wm, s.closed)
		}
	}
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"sources":[{"s":"a/0","f":1709287500000,"c":1709287920000},{"s":"a/1","f":1709287320000,"c":1709287560000},{"s":"a/2","f":1709287440000,"c":1709287740000}],"opened":true,"start":1709287260000,"frontier":1709287440000}`
	if string(b) != want {
		t.Errorf("stored clocks:\n%s\nwant\n%s", b, want)
	}
}

// TestSignalOrderDoesNotMatter: the signals of several sources, interleaved in any way (each
// source's own in order, as one raw partition reports them) and some sent again (after a
// restart), end in the same stored clocks.
func TestSignalOrderDoesNotMatter(t *testing.T) {
	w, err := New(Config{Expect: 2})
	if err != nil {
		t.Fatal(err)
	}
	sig := []struct {
		s string
		m time.Duration
	}{{"x/0", 0}, {"x/1", time.Minute}, {"x/0", 7 * time.Minute}, {"x/1", 9 * time.Minute}, {"x/0", 8 * time.Minute}, {"x/1", 9 * time.Minute}}
	var want string
	for _, order := range [][]int{{0, 1, 2, 3, 4}, {1, 3, 0, 2, 4}, {0, 2, 4, 1, 3}, {0, 2, 1, 2, 3, 5, 4}} {
		c := &Clocks{}
		for _, i := range order {
			w.Advance(c, sig[i].s, at(sig[i].m))
			w.Close(c)
		}
		b, _ := json.Marshal(c)
		if want == "" {
			want = string(b)
		} else if string(b) != want {
			t.Errorf("order %v: %s, want %s", order, b, want)
		}
	}
}

func TestStartAlignsToSize(t *testing.T) {
	for _, c := range []struct {
		size time.Duration
		t    time.Time
		want string
	}{
		{time.Minute, base.Add(59*time.Second + 999*time.Millisecond), "10:00:00"},
		{time.Minute, base.Add(time.Minute), "10:01:00"},
		{5 * time.Minute, base.Add(7 * time.Minute), "10:05:00"},
		{time.Minute, time.Date(1969, 12, 31, 23, 59, 30, 0, time.UTC), "23:59:00"},
	} {
		w, err := New(Config{Size: c.size})
		if err != nil {
			t.Fatal(err)
		}
		if got := time.UnixMilli(w.Start(c.t.UnixMilli())).UTC().Format("15:04:05"); got != c.want {
			t.Errorf("Start(%v) with size %v = %s, want %s", c.t, c.size, got, c.want)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	for _, c := range []Config{{Size: -time.Minute}, {Size: time.Microsecond}, {Grace: -1}, {Expect: -1}} {
		if _, err := New(c); err == nil {
			t.Errorf("New(%+v): want an error", c)
		}
	}
	w, err := New(Config{})
	if err != nil || fmt.Sprint(w.Config()) != "{1m0s 2m0s 1}" {
		t.Errorf("defaults: %+v, %v", w.Config(), err)
	}
}
