package realtime

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"time"
)

// The spike detector's row (~spikes) is read and written once per complete minute, and it holds
// the minutes completed ahead of the judged frontier (readyMinutes): minutes complete out of order
// when the loop topic's partitions progress at different speeds, so while a history is replayed
// thousands can wait for one late minute (2,300 at 100k events). As JSON that row was half the
// CPU of the whole processor group (BenchmarkStream's profile: decoding and encoding it per
// minute). Its binary form keeps the waiting minutes encoded: decoding the row splits them
// without building their counts, encoding copies them back, and only the minute judged is
// decoded.

// binSpikes marks the spike detector's row.
const binSpikes = 'S'

// readyMinutes are complete minutes waiting for an earlier one, sorted by start, each with its
// activity per type encoded against types (append-only while any minute waits, so an encoded
// minute stays valid).
type readyMinutes struct {
	types []string
	list  []readyMinute
}

type readyMinute struct {
	start  int64
	counts []byte // uvarint n, then n × (uvarint index into types, varint count), by index
}

// Len is the number of waiting minutes.
func (r *readyMinutes) Len() int { return len(r.list) }

// IsZero reports whether no minute waits (JSON omits the field then).
func (r readyMinutes) IsZero() bool { return len(r.list) == 0 }

func (r *readyMinutes) find(start int64) (int, bool) {
	return slices.BinarySearchFunc(r.list, start, func(m readyMinute, s int64) int {
		switch {
		case m.start < s:
			return -1
		case m.start > s:
			return 1
		}
		return 0
	})
}

// put holds a complete minute's activity (replacing what a repeat held).
func (r *readyMinutes) put(start int64, events map[string]int64) {
	idx := make([]int, 0, len(events))
	for _, t := range slices.Sorted(maps.Keys(events)) {
		i := slices.Index(r.types, t)
		if i < 0 {
			i = len(r.types)
			r.types = append(r.types, t)
		}
		idx = append(idx, i)
	}
	slices.Sort(idx)
	b := binary.AppendUvarint(make([]byte, 0, 1+4*len(idx)), uint64(len(idx)))
	for _, i := range idx {
		b = binary.AppendUvarint(b, uint64(i))
		b = binary.AppendVarint(b, events[r.types[i]])
	}
	m := readyMinute{start: start, counts: b}
	if i, found := r.find(start); found {
		r.list[i] = m
	} else {
		r.list = slices.Insert(r.list, i, m)
	}
}

// take removes the minute starting at start and returns its activity.
func (r *readyMinutes) take(start int64) (Counts, bool) {
	i, found := r.find(start)
	if !found {
		return Counts{}, false
	}
	m := r.list[i]
	r.list = slices.Delete(r.list, i, i+1)
	events, err := r.events(m.counts)
	r.forgetTypes()
	if err != nil {
		// Only a corrupt row gets here (decode checked every minute); count it as empty rather
		// than stop the detector.
		return Counts{}, true
	}
	return Counts{Events: events}, true
}

func (r *readyMinutes) events(b []byte) (map[string]int64, error) {
	var out map[string]int64
	ok := walkCounts(b, len(r.types), func(i int, c int64) {
		if out == nil {
			out = map[string]int64{}
		}
		out[r.types[i]] = c
	})
	if !ok {
		return nil, ErrBinary
	}
	return out, nil
}

// validCounts reports whether b is a minute's encoded counts over ntypes types, without
// building them.
func validCounts(b []byte, ntypes int) bool { return walkCounts(b, ntypes, nil) }

// walkCounts reads a minute's encoded counts over ntypes types, calling each (when not nil) with
// every type index and count; it reports whether b is well formed.
func walkCounts(b []byte, ntypes int, each func(i int, c int64)) bool {
	rd := &binReader{b: b}
	n := rd.uint()
	for range n {
		i, c := rd.uint(), rd.int()
		if rd.err != nil || i >= ntypes {
			return false
		}
		if each != nil {
			each(i, c)
		}
	}
	return rd.err == nil && len(rd.b) == 0
}

// dropBefore forgets the minutes before start.
func (r *readyMinutes) dropBefore(start int64) {
	i, _ := r.find(start)
	r.list = slices.Delete(r.list, 0, i)
	r.forgetTypes()
}

// forgetTypes empties the types once no minute waits, so that the row's bytes do not depend on
// the order in which types first waited (a replay after a crash compares equal).
func (r *readyMinutes) forgetTypes() {
	if len(r.list) == 0 {
		r.types = nil
	}
}

// MarshalJSON writes the minutes as an object of start (Unix ms) → counts, as the row's JSON form
// always had them (shopease inspect shows it).
func (r readyMinutes) MarshalJSON() ([]byte, error) {
	m := make(map[string]Counts, len(r.list))
	for _, rm := range r.list {
		events, err := r.events(rm.counts)
		if err != nil {
			return nil, err
		}
		m[strconv.FormatInt(rm.start, 10)] = Counts{Events: events}
	}
	return json.Marshal(m)
}

// UnmarshalJSON reads the JSON form (rows written before the binary one).
func (r *readyMinutes) UnmarshalJSON(b []byte) error {
	var m map[int64]Counts
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	*r = readyMinutes{}
	for _, start := range slices.Sorted(maps.Keys(m)) {
		r.put(start, m[start].Events)
	}
	return nil
}

func (w *binWriter) float(f float64) {
	w.b = binary.LittleEndian.AppendUint64(w.b, math.Float64bits(f))
}

func (r *binReader) float() float64 {
	if r.err != nil || len(r.b) < 8 {
		r.err = ErrBinary
		return 0
	}
	f := math.Float64frombits(binary.LittleEndian.Uint64(r.b))
	r.b = r.b[8:]
	return f
}

func (w *binWriter) bool(v bool) {
	if v {
		w.b = append(w.b, 1)
	} else {
		w.b = append(w.b, 0)
	}
}

func (r *binReader) bool() bool {
	if r.err != nil || len(r.b) < 1 || r.b[0] > 1 {
		r.err = ErrBinary
		return false
	}
	v := r.b[0] == 1
	r.b = r.b[1:]
	return v
}

// encodeSpikes writes the detector's row: its frontier and partition starts, the rule, the
// baselines (by name), the recent alerts, the types of the waiting minutes and the minutes
// themselves (start as a delta from the previous one, then their encoded counts).
func encodeSpikes(s *SpikeState) []byte {
	size := 128 + 64*len(s.Alerts) + 48*len(s.Detector.Baselines) + 16*len(s.Starts)
	for _, m := range s.Ready.list {
		size += 12 + len(m.counts)
	}
	w := &binWriter{b: make([]byte, 0, size)}
	w.b = append(w.b, binSpikes)
	w.uint(s.Parts)
	w.bool(s.Started)
	w.int(s.Done)
	w.uint(len(s.Starts))
	for _, p := range slices.Sorted(maps.Keys(s.Starts)) {
		w.int(int64(p))
		w.int(s.Starts[p])
	}
	rule := s.Detector.Rule
	w.float(rule.Alpha)
	w.float(rule.K)
	w.float(rule.M)
	w.int(rule.Floor)
	w.int(int64(rule.WarmUp))
	w.uint(len(s.Detector.Baselines))
	for _, name := range slices.Sorted(maps.Keys(s.Detector.Baselines)) {
		b := s.Detector.Baselines[name]
		w.str(name)
		w.int(int64(b.N))
		w.float(b.Mean)
		w.float(b.Var)
	}
	w.uint(len(s.Alerts))
	for _, a := range s.Alerts {
		w.int(a.Window.UnixMilli())
		w.str(a.Metric)
		w.int(a.Observed)
		w.float(a.Expected)
		w.float(a.Score)
	}
	w.strs(s.Ready.types)
	w.uint(len(s.Ready.list))
	prev := int64(0)
	for _, m := range s.Ready.list {
		w.int(m.start - prev)
		prev = m.start
		w.uint(len(m.counts))
		w.b = append(w.b, m.counts...)
	}
	return w.b
}

func decodeSpikes(b []byte) (*SpikeState, error) {
	r := &binReader{b: b[1:]}
	s := &SpikeState{Parts: r.uint(), Started: r.bool(), Done: r.int()}
	if n := r.uint(); n > 0 && r.err == nil {
		s.Starts = make(map[int32]int64, min(n, len(r.b)))
		for range n {
			p := r.int()
			s.Starts[int32(p)] = r.int()
			if r.err != nil {
				break
			}
		}
	}
	s.Detector.Rule = SpikeRule{Alpha: r.float(), K: r.float(), M: r.float(), Floor: r.int(), WarmUp: int(r.int())}
	if n := r.uint(); n > 0 && r.err == nil {
		s.Detector.Baselines = make(map[string]*Baseline, min(n, len(r.b)))
		for range n {
			name := r.str()
			s.Detector.Baselines[name] = &Baseline{N: int(r.int()), Mean: r.float(), Var: r.float()}
			if r.err != nil {
				break
			}
		}
	}
	if n := r.uint(); n > 0 && r.err == nil {
		s.Alerts = make([]Alert, 0, min(n, len(r.b)))
		for range n {
			a := Alert{Window: time.UnixMilli(r.int()).UTC(), Metric: r.str(), Observed: r.int(), Expected: r.float(), Score: r.float()}
			if r.err != nil {
				break
			}
			s.Alerts = append(s.Alerts, a)
		}
	}
	s.Ready.types = r.strs()
	n := r.uint()
	if r.err == nil && n > 0 {
		// One copy of the minutes' bytes: the list refers into it, never into b.
		rest := append([]byte(nil), r.b...)
		r.b = rest
		s.Ready.list = make([]readyMinute, 0, min(n, len(rest)))
		prev := int64(0)
		for range n {
			start := prev + r.int()
			l := r.uint()
			if r.err != nil || l > len(r.b) {
				r.err = ErrBinary
				break
			}
			m := readyMinute{start: start, counts: r.b[:l:l]}
			if !validCounts(m.counts, len(s.Ready.types)) {
				r.err = ErrBinary
				break
			}
			if len(s.Ready.list) > 0 && start <= prev {
				r.err = ErrBinary
				break
			}
			s.Ready.list = append(s.Ready.list, m)
			r.b, prev = r.b[l:], start
		}
	}
	if r.err != nil || len(r.b) != 0 {
		return nil, fmt.Errorf("realtime: decode spike detector: %w", ErrBinary)
	}
	return s, nil
}
