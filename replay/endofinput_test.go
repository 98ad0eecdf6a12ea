package replay

import (
	"reflect"
	"strconv"
	"testing"

	"github.com/lovoo/goka"

	"github.com/shopease/shopease/event"
	"github.com/shopease/shopease/processors/topology"
	"github.com/shopease/shopease/testenv"
)

// splitMarkers separates end-of-input markers from data records.
func splitMarkers(recs []topicRecord) (data, markers []topicRecord) {
	for _, r := range recs {
		if r.marker {
			markers = append(markers, r)
		} else {
			data = append(data, r)
		}
	}
	return data, markers
}

// checkMarkers asserts that every partition of ns's raw topic holds runs end-of-input markers,
// that the newest is the partition's last record, keyed to reach it, and that it announces the
// offsets of the newest markers of every partition.
func checkMarkers(t *testing.T, brokers []string, ns topology.Namespace, raw goka.Stream, runs int) {
	t.Helper()
	topic := string(ns.Stream(raw))
	recs := readTopic(t, brokers, topic)
	_, markers := splitMarkers(recs)
	ends, last := map[int32]int64{}, map[int32]topicRecord{}
	count := map[int32]int{}
	for _, r := range recs {
		ends[r.partition] = max(ends[r.partition], r.offset+1)
	}
	for _, m := range markers {
		count[m.partition]++
		if m.offset > last[m.partition].offset || count[m.partition] == 1 {
			last[m.partition] = m
		}
	}
	want := map[string]int64{}
	for p := range int32(testPartitions) {
		want[topic+"/"+strconv.Itoa(int(p))] = ends[p] - 1
	}
	for p := range int32(testPartitions) {
		m := last[p]
		if count[p] != runs || m.offset != ends[p]-1 || m.key != event.ControlKeys(testPartitions)[p] {
			t.Errorf("%s/%d: %d markers, the newest at %d with key %q; want %d, the last record (%d), key %q",
				topic, p, count[p], m.offset, m.key, runs, ends[p]-1, event.ControlKeys(testPartitions)[p])
			continue
		}
		v, err := event.DecodeEndOfInput(m.value)
		if err != nil {
			t.Fatalf("%s/%d: marker value: %v", topic, p, err)
		}
		if v.Partitions != testPartitions || !reflect.DeepEqual(v.Markers, want) {
			t.Errorf("%s/%d: marker %+v, want %d partitions and markers %v", topic, p, v, testPartitions, want)
		}
	}
}

// TestEndOfInputMarkers: a run with EndOfInput ends with one marker on every partition of each
// raw topic of activity or transactions it wrote, after all its records, and none elsewhere; a
// run that finds every file replayed writes them again, announcing its own; without EndOfInput,
// none.
func TestEndOfInputMarkers(t *testing.T) {
	testenv.ForEachKafka(t, func(t *testing.T, k testenv.Kafka) {
		ns := testenv.Namespace(t)
		createTopics(t, k.Brokers(), ns)
		cfg := testConfig(t, k.Brokers(), ns, subsetDir(t))
		cfg.EndOfInput = true
		s := run(t, cfg)
		if s.Total.Sent != subsetTotal || s.Total.Lost != 0 {
			t.Errorf("total %+v, want %d sent: markers are not rows", s.Total, subsetTotal)
		}
		checkExact(t, k.Brokers(), ns)
		checkMarkers(t, k.Brokers(), ns, topology.Transactions, 1)
		for _, other := range []goka.Stream{topology.Activity, topology.Inventory, topology.Feedback} {
			if n := len(readTopic(t, k.Brokers(), string(ns.Stream(other)))); n != 0 {
				t.Errorf("%s: %d records from a transactions-only run", ns.Stream(other), n)
			}
		}
		again := run(t, cfg)
		if again.Total.Read != 0 || again.Total.Skipped != subsetTotal {
			t.Errorf("second run %+v, want every row skipped", again.Total)
		}
		checkMarkers(t, k.Brokers(), ns, topology.Transactions, 2)

		ns2 := ns + "off."
		createTopics(t, k.Brokers(), ns2)
		off := testConfig(t, k.Brokers(), ns2, subsetDir(t))
		run(t, off)
		if _, m := splitMarkers(readTopic(t, k.Brokers(), string(ns2.Stream(topology.Transactions)))); len(m) != 0 {
			t.Errorf("%d markers without EndOfInput", len(m))
		}
	})
}
