package inspect_test

import (
	"fmt"
	"testing"

	"github.com/IBM/sarama"
	"github.com/lovoo/goka"

	"github.com/shopease/shopease/tables/inspect"
)

// TestPartitionForMatchesGokasProducer checks PartitionFor against the partitioner goka's producer
// really uses: sarama.NewCustomHashPartitioner with goka.DefaultHasher.
func TestPartitionForMatchesGokasProducer(t *testing.T) {
	ctor := sarama.NewCustomHashPartitioner(goka.DefaultHasher())
	for _, n := range []int32{1, 3, 8, 10, 64} {
		p := ctor("topic")
		spread := map[int32]int{}
		for i := range 5000 {
			key := fmt.Sprintf("user-%d", i)
			want, err := p.Partition(&sarama.ProducerMessage{Key: sarama.StringEncoder(key)}, n)
			if err != nil {
				t.Fatal(err)
			}
			if got := inspect.PartitionFor(goka.DefaultHasher(), key, n); got != want {
				t.Fatalf("n=%d key %q: PartitionFor = %d, sarama = %d", n, key, got, want)
			}
			spread[want]++
		}
		if len(spread) != int(n) {
			t.Fatalf("n=%d: keys reached %d partitions", n, len(spread))
		}
	}
}
