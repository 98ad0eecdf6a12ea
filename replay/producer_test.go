package replay

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/lovoo/goka"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/shopease/shopease/codecs"
	"github.com/shopease/shopease/event"
	"github.com/shopease/shopease/processors/topology"
	"github.com/shopease/shopease/testenv"
)

func TestSendEvent(t *testing.T) {
	testenv.ForEachKafka(t, func(t *testing.T, k testenv.Kafka) {
		ns := testenv.Namespace(t)
		createTopics(t, k.Brokers(), ns)
		p, err := NewProducer(k.Brokers(), WithClientID("simulate-test"))
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		at := time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)
		now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
		events := []any{
			event.Activity{EventID: "a1", UserID: "u1", Type: event.PageView, Time: at},
			&event.Activity{EventID: "a2", UserID: "u2", Type: event.AddToCart, ProductID: "P1", Time: at},
			&event.TransactionLine{LineID: "o1-1", OrderID: "o1", Type: event.Purchase, UserID: "u1", ProductID: "P1", Quantity: 1, UnitPrice: event.MustMoney("2.50"), Time: at},
			event.Review{ReviewID: "r1", UserID: "u1", ProductID: "P1", Rating: 4, Time: at},
		}
		for _, ev := range events {
			if err := p.SendEvent(ctx, ns, ev, time.Time{}); err != nil {
				t.Fatal(err)
			}
		}
		inv := &event.InventoryUpdate{EventID: "i1", Type: event.Restock, SKU: "P1", Quantity: "5", Time: at}
		if err := p.SendEvent(ctx, ns, inv, now); err != nil {
			t.Fatal(err)
		}
		if err := p.SendEvent(ctx, ns, "not an event", now); !errors.Is(err, ErrEventType) {
			t.Errorf("string: err %v, want ErrEventType", err)
		}
		if err := p.Close(); err != nil {
			t.Fatal(err)
		}
		if st := p.Stats(); st.Sent != 5 || st.Acked != 5 || st.Failed != 0 {
			t.Errorf("stats %+v, want 5 sent and acknowledged", st)
		}
		want := map[string][]string{ // topic → keys
			string(ns.Stream(topology.Activity)):     {"u1", "u2"},
			string(ns.Stream(topology.Transactions)): {"o1-1"},
			string(ns.Stream(topology.Feedback)):     {"r1"},
			string(ns.Stream(topology.Inventory)):    {"P1"},
		}
		for topic, keys := range want {
			recs := readTopic(t, k.Brokers(), topic)
			if len(recs) != len(keys) {
				t.Fatalf("%s: %d records, want %d", topic, len(recs), len(keys))
			}
			got := map[string]bool{}
			for _, r := range recs {
				got[r.key] = true
				wantTime := at
				if topic == string(ns.Stream(topology.Inventory)) {
					wantTime = now
				}
				if !r.time.Equal(wantTime) {
					t.Errorf("%s key %s: timestamp %v, want %v", topic, r.key, r.time, wantTime)
				}
			}
			for _, k := range keys {
				if !got[k] {
					t.Errorf("%s: no record with key %q", topic, k)
				}
			}
		}
		tx := readTopic(t, k.Brokers(), string(ns.Stream(topology.Transactions)))
		l, err := codecs.DecodeTransactionLine(tx[0].value)
		if err != nil || l.UnitPrice != event.MustMoney("2.50") {
			t.Errorf("transaction %+v, %v", l, err)
		}
	})
}

// TestGokaPartition checks that replay puts every key in the partition goka expects it in:
// sarama's hash partitioner over goka.DefaultHasher, which goka's emitters, processors and views
// use. 10,000 keys of the shapes replay sends (line ids, user ids, SKUs, empty, arbitrary bytes)
// for several partition counts, through the franz-go partitioner the producer is configured with.
func TestGokaPartition(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 2))
	keys := [][]byte{nil, {}, []byte("17850"), []byte("536365-1"), []byte("C536379-12")}
	for len(keys) < 10_000 {
		switch len(keys) % 3 {
		case 0:
			keys = append(keys, []byte(fmt.Sprintf("%d-%d", 536365+rng.IntN(50_000), 1+rng.IntN(40))))
		case 1:
			keys = append(keys, []byte(fmt.Sprintf("u%08x", rng.Uint32())))
		default:
			k := make([]byte, rng.IntN(40))
			for i := range k {
				k[i] = byte(rng.Uint32())
			}
			keys = append(keys, k)
		}
	}
	kp := gokaPartitioner().ForTopic("t")
	for _, n := range []int32{1, 2, 3, 4, 7, 8, 10, 12, 16, 24, 32, 64, 100} {
		sp := sarama.NewCustomHashPartitioner(goka.DefaultHasher())("t")
		counts := make([]int, n)
		for _, k := range keys {
			want, err := sp.Partition(&sarama.ProducerMessage{Topic: "t", Key: sarama.ByteEncoder(k)}, n)
			if err != nil {
				t.Fatal(err)
			}
			if got := kp.Partition(&kgo.Record{Topic: "t", Key: k}, int(n)); got != int(want) {
				t.Fatalf("%d partitions, key %q: partition %d, goka's %d", n, k, got, want)
			}
			counts[want]++
		}
		// Every partition gets keys: a partitioner stuck on a few partitions would also agree
		// with itself.
		for p, c := range counts {
			if c == 0 {
				t.Errorf("%d partitions: no key in partition %d", n, p)
			}
		}
	}
}

// TestSendPartitions sends 400 keyed records and reads them back: each is in the partition of
// its key by goka's hasher, in the order sent within its partition, with its headers.
func TestSendPartitions(t *testing.T) {
	testenv.ForEachKafka(t, func(t *testing.T, k testenv.Kafka) {
		ns := testenv.Namespace(t)
		createTopics(t, k.Brokers(), ns)
		topic := string(ns.Stream(topology.Activity))
		var acked []*Record
		p, err := NewProducer(k.Brokers(), WithCallbacks(func(r *Record) { acked = append(acked, r) }, nil))
		if err != nil {
			t.Fatal(err)
		}
		const n = 400
		at := time.Date(2011, 1, 4, 10, 0, 0, 0, time.UTC)
		for i := range n {
			r := &Record{Topic: topic, Key: fmt.Appendf(nil, "user-%d", i%37), Value: fmt.Appendf(nil, "%d", i),
				Time: at.Add(time.Duration(i) * time.Second), Meta: i,
				Headers: []sarama.RecordHeader{{Key: []byte(HeaderSource), Value: []byte("src")}, {Key: []byte(HeaderRow), Value: fmt.Appendf(nil, "%d", i+1)}}}
			if err := p.Send(context.Background(), r); err != nil {
				t.Fatal(err)
			}
		}
		if err := p.Close(); err != nil {
			t.Fatal(err)
		}
		if st := p.Stats(); st.Sent != n || st.Acked != n || st.Failed != 0 || len(acked) != n {
			t.Fatalf("stats %+v, %d callbacks, want %d sent and acknowledged", st, len(acked), n)
		}
		recs := readTopic(t, k.Brokers(), topic)
		if len(recs) != n {
			t.Fatalf("%d records on %s, want %d", len(recs), topic, n)
		}
		last := map[int32]int{}
		for _, r := range recs {
			i, _ := strconv.Atoi(string(r.value))
			if want := gokaPartition([]byte(r.key), testPartitions); r.partition != want {
				t.Errorf("key %s in partition %d, goka's is %d", r.key, r.partition, want)
			}
			if prev, ok := last[r.partition]; ok && i < prev {
				t.Errorf("partition %d: record %d after %d", r.partition, i, prev)
			}
			last[r.partition] = i
			if r.src != "src" || r.row != int64(i+1) || !r.time.Equal(at.Add(time.Duration(i)*time.Second)) {
				t.Errorf("record %d: src %q row %d time %v", i, r.src, r.row, r.time)
			}
		}
	})
}

// TestRecordLimit replays rows whose records come close to the batch size: with 16 KiB batches,
// a record of 15,000 bytes is sent (it fits in a batch with its headers and framing) and one of
// more than 15,360 (16 KiB less 1 KiB) is rejected as too_large, with its line, and not lost.
func TestRecordLimit(t *testing.T) {
	testenv.ForEachKafka(t, func(t *testing.T, k testenv.Kafka) {
		ns := testenv.Namespace(t)
		createTopics(t, k.Brokers(), ns)
		tx := filepath.Join(t.TempDir(), "transactions", "2024-03-01.csv")
		row := func(id, desc string) string {
			return id + ",o1,purchase,u1,P1," + desc + ",2,4.95,GBP,UK,2024-03-01T10:15:00Z\n"
		}
		writeFile(t, tx, "line_id,order_id,type,user_id,product_id,description,quantity,unit_price,currency,country,time\n"+
			row("o1-1", strings.Repeat("a", 15_000-300))+row("o1-2", strings.Repeat("b", 15_360))+row("o1-3", "Mug"))
		cfg := testConfig(t, k.Brokers(), ns, tx)
		cfg.BatchBytes = 16 << 10
		s := run(t, cfg)
		if s.Total.Read != 3 || s.Total.Sent != 2 || s.Total.Lost != 0 || s.Total.Rejected[event.ReasonTooLarge] != 1 {
			t.Fatalf("total %+v, want 3 read, 2 sent, 1 too_large", s.Total)
		}
		recs := readTopic(t, k.Brokers(), string(ns.Stream(topology.Transactions)))
		sizes := map[string]int{}
		for _, r := range recs {
			sizes[r.key] = len(r.key) + len(r.value)
		}
		if len(sizes) != 2 || sizes["o1-1"] < 14_900 || sizes["o1-1"] > 15_360 || sizes["o1-3"] == 0 {
			t.Errorf("record sizes by key %v, want o1-1 of about 15,000 bytes and o1-3", sizes)
		}
		checkRejects(t, cfg.RejectsPath, []rejectLine{{File: tx, Line: 3, Row: 2, Dataset: "transactions", Reason: event.ReasonTooLarge}})
		// The dead letter carries the row's first (15,360 - 2,048) / 4 * 3 bytes: base64 makes
		// them 4/3 as long, and the rest of the dead letter must fit too.
		dl := readTopic(t, k.Brokers(), string(ns.Stream(topology.DeadLetter)))
		if len(dl) != 1 {
			t.Fatalf("%d dead letters, want 1", len(dl))
		}
		d, err := codecs.DecodeDeadLetter(dl[0].value)
		if err != nil {
			t.Fatal(err)
		}
		line := strings.TrimSuffix(row("o1-2", strings.Repeat("b", 15_360)), "\n")
		cut := fmt.Sprintf("(original cut to its first 9984 of %d bytes)", len(line))
		if string(d.Original) != line[:9984] || d.Reason != "too_large" || !strings.HasSuffix(d.Detail, cut) {
			t.Errorf("dead letter: reason %s, detail %q, original of %d bytes", d.Reason, d.Detail, len(d.Original))
		}
	})
}
