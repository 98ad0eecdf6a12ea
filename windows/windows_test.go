package windows

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/shopease/shopease/processors/fence"
)

type agg struct{ N int }

var base = time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)

func at(d time.Duration) time.Time { return base.Add(d) }

func o(topic string, p int32, off int64) fence.Origin {
	return fence.Origin{Topic: topic, Partition: p, Offset: off}
}

// TestAdmitAndClose walks one partition through records from two inputs and three sources:
// exact window assignment, duplicates by origin, the watermark held by the slowest source and by
// an input not seen yet, closing after the grace period, and late records.
func TestAdmitAndClose(t *testing.T) {
	clock := NewManualClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	w, err := New(Config{Size: time.Minute, Grace: 30 * time.Second, Idle: time.Minute, Expect: map[string]int{"a": 1, "b": 1}, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	st := &State[agg]{}
	steps := []struct {
		input string
		o     fence.Origin
		t     time.Duration
		want  Verdict
		// after the step: the watermark ("-" when none) and the windows Close returns
		wm     string
		closed string
	}{
		{"a", o("raw.a", 0, 1), 10 * time.Second, Accepted, "-", "[]"},
		{"a", o("raw.a", 0, 1), 10 * time.Second, Duplicate, "-", "[]"},
		{"a", o("raw.a", 0, 2), 3 * time.Minute, Accepted, "-", "[]"}, // input b unseen: no watermark
		{"b", o("raw.b", 0, 1), 20 * time.Second, Accepted, "10:00:20", "[]"},
		{"b", o("raw.b", 0, 2), 100 * time.Second, Accepted, "10:01:40", "[10:00=2]"},
		{"a", o("raw.a", 1, 1), 30 * time.Second, Late, "10:00:30", "[]"},      // new source, behind the frontier
		{"a", o("raw.a", 1, 2), 150 * time.Second, Accepted, "10:01:40", "[]"}, // raw.b is the slowest
		{"b", o("raw.b", 0, 3), 4 * time.Minute, Accepted, "10:02:30", "[10:01=1]"},
	}
	for i, s := range steps {
		_, a, v := Admit(w, st, s.input, s.o, at(s.t))
		if v != s.want {
			t.Fatalf("step %d: verdict %v, want %v", i, v, s.want)
		}
		if a != nil {
			a.N++
		}
		wm := "-"
		if ms, ok := Watermark(w, st); ok {
			wm = time.UnixMilli(ms).UTC().Format("15:04:05")
		}
		closed, _ := Close(w, st)
		var got []string
		for _, c := range closed {
			got = append(got, fmt.Sprintf("%s=%d", time.UnixMilli(c.Start).UTC().Format("15:04"), c.Agg.N))
		}
		if wm != s.wm || fmt.Sprint(got) != s.closed && !(len(got) == 0 && s.closed == "[]") {
			t.Errorf("step %d: watermark %s closed %v, want %s %s", i, wm, got, s.wm, s.closed)
		}
	}
	if st.Late != 1 || len(st.Open) != 3 {
		t.Errorf("late %d, open %d windows, want 1 and 3", st.Late, len(st.Open))
	}
	// Every source quiet for longer than Idle: the highest time seen (10:04) is the watermark.
	clock.Advance(2 * time.Minute)
	closed, frontier := Close(w, st)
	if len(closed) != 1 || time.UnixMilli(frontier).UTC().Format("15:04") != "10:03" {
		t.Errorf("after idle: closed %d windows up to %v", len(closed), time.UnixMilli(frontier).UTC())
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
		if got := time.UnixMilli(w.Start(c.t)).UTC().Format("15:04:05"); got != c.want {
			t.Errorf("Start(%v) with size %v = %s, want %s", c.t, c.size, got, c.want)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	for _, c := range []Config{{Size: -time.Minute}, {Size: time.Microsecond}, {Grace: -1}, {Idle: -1}} {
		if _, err := New(c); err == nil {
			t.Errorf("New(%+v): want an error", c)
		}
	}
	w, err := New(Config{})
	if err != nil || w.Config().Size != time.Minute || w.Config().Grace != 2*time.Minute {
		t.Errorf("defaults: %+v, %v", w.Config(), err)
	}
}

// TestMaxOpenClosesTheOldest: with a source that never moves, windows pile up to MaxOpen and then
// the oldest close; the slow source's records for them are Late.
func TestMaxOpenClosesTheOldest(t *testing.T) {
	w, err := New(Config{MaxOpen: 3, Clock: NewManualClock(base)})
	if err != nil {
		t.Fatal(err)
	}
	st := &State[agg]{}
	Admit(w, st, "a", o("slow", 0, 1), at(0))
	for i := range 5 {
		Admit(w, st, "a", o("fast", 0, int64(i+1)), at(time.Duration(i+1)*time.Minute))
	}
	closed, frontier := Close(w, st)
	if len(closed) != 3 || len(st.Open) != 3 || time.UnixMilli(frontier).UTC().Format("15:04") != "10:03" {
		t.Errorf("closed %d, open %d, frontier %v", len(closed), len(st.Open), time.UnixMilli(frontier).UTC())
	}
	if _, _, v := Admit(w, st, "a", o("slow", 0, 2), at(2*time.Minute)); v != Late {
		t.Errorf("slow source's record for a closed window: %v", v)
	}
}

// TestRestartForgetsTheWallClock: the stored State holds no wall-clock time, so a restart (the
// State encoded, decoded and handed to a new Windows) encodes the same bytes as before, and a
// source silent since before the restart holds the watermark until it has been silent for Idle
// after it — a crash that lasted longer than Idle does not make it idle at once.
func TestRestartForgetsTheWallClock(t *testing.T) {
	clock := NewManualClock(base)
	cfg := Config{Idle: time.Minute, Clock: clock}
	w, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	st := &State[agg]{Key: "p0"}
	Admit(w, st, "a", o("slow", 0, 1), at(0))
	Admit(w, st, "a", o("fast", 0, 1), at(5*time.Minute))
	before, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	clock.Advance(10 * time.Minute) // the crash
	w2, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	restored := &State[agg]{}
	if err := json.Unmarshal(before, restored); err != nil {
		t.Fatal(err)
	}
	restored.Key = "p0"
	Admit(w2, restored, "a", o("fast", 0, 2), at(6*time.Minute))
	steps := []struct {
		advance time.Duration
		wm      string
	}{
		{0, "10:00"},                // both sources count: the slow one holds the watermark
		{30 * time.Second, "10:00"}, // silent 30 s since the restart
		{31 * time.Second, "10:06"}, // silent 61 s: idle; the fast source alone
		{time.Minute, "10:06"},      // every source quiet: the highest time seen
	}
	for i, s := range steps {
		clock.Advance(s.advance)
		wm, ok := Watermark(w2, restored)
		if got := time.UnixMilli(wm).UTC().Format("15:04"); !ok || got != s.wm {
			t.Errorf("step %d: watermark %s (%v), want %s", i, got, ok, s.wm)
		}
	}
	again, err := json.Marshal(&State[agg]{Key: "p0", Sources: restored.Sources, Open: restored.Open, Fence: restored.Fence})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"sources":{"fast/0":{"i":"a","m":1709287560000},"slow/0":{"i":"a","m":1709287200000}},"closed":0,"open":{"1709287200000":{"N":0},"1709287500000":{"N":0},"1709287560000":{"N":0}},"fence":[{"s":"fast/0","o":2},{"s":"slow/0","o":1}],"late":0}`; string(again) != want {
		t.Errorf("stored state:\n%s\nwant\n%s", again, want)
	}
}
