package event_test

import (
	"errors"
	"strconv"
	"testing"

	"github.com/IBM/sarama"
	"github.com/lovoo/goka"

	"github.com/shopease/shopease/event"
)

// TestControlKeys checks that key i of ControlKeys lands in partition i under the partitioner goka
// emits with (sarama's hash partitioner over goka.DefaultHasher), for the counts used here.
func TestControlKeys(t *testing.T) {
	sp := sarama.NewCustomHashPartitioner(goka.DefaultHasher())("t")
	for _, n := range []int{1, 2, 4, 8, 12, 64} {
		keys := event.ControlKeys(n)
		if len(keys) != n {
			t.Fatalf("%d partitions: %d keys", n, len(keys))
		}
		for want, k := range keys {
			got, err := sp.Partition(&sarama.ProducerMessage{Key: sarama.StringEncoder(k)}, int32(n))
			if err != nil {
				t.Fatal(err)
			}
			if int(got) != want || event.KeyPartition(k, n) != want {
				t.Errorf("%d partitions: key %q goes to %d (KeyPartition %d), want %d", n, k, got, event.KeyPartition(k, n), want)
			}
		}
	}
	if got := event.ControlKeys(4); got[0] != event.ControlKeys(4)[0] {
		t.Errorf("keys differ between calls: %v", got)
	}
	for i := range 1000 {
		k := "user-" + strconv.Itoa(i)
		got, _ := sp.Partition(&sarama.ProducerMessage{Key: sarama.StringEncoder(k)}, 7)
		if event.KeyPartition(k, 7) != int(got) {
			t.Fatalf("KeyPartition(%q, 7) = %d, sarama %d", k, event.KeyPartition(k, 7), got)
		}
	}
}

func TestEndOfInputValue(t *testing.T) {
	b := event.EndOfInput{Partitions: 4}.Encode()
	if string(b) != `{"control":"end-of-input","partitions":4}` {
		t.Errorf("encoded %s", b)
	}
	for _, c := range []struct {
		in   string
		want int
		err  error
	}{
		{`{"control":"end-of-input","partitions":4}`, 4, nil},
		{`{"control":"end-of-input","partitions":0}`, 0, event.ErrControl},
		{`{"control":"other","partitions":4}`, 0, event.ErrControl},
		{`not json`, 0, event.ErrControl},
	} {
		e, err := event.DecodeEndOfInput([]byte(c.in))
		if e.Partitions != c.want || !errors.Is(err, c.err) {
			t.Errorf("%s: %+v, %v; want %d partitions, %v", c.in, e, err, c.want, c.err)
		}
	}
	h := map[string][]byte{event.HeaderControl: []byte(event.ControlEndOfInput)}
	if !event.IsEndOfInput(h) || !event.IsControl(h) {
		t.Error("marker headers not recognised")
	}
	other := goka.Headers{event.HeaderControl: []byte("other")}
	if event.IsEndOfInput(other) || !event.IsControl(other) || event.IsEndOfInput(nil) || event.IsControl(nil) {
		t.Error("IsEndOfInput/IsControl wrong for another control value or no headers")
	}
}
