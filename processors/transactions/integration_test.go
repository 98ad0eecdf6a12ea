package transactions_test

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/lovoo/goka/storage"

	"github.com/shopease/shopease/codecs"
	"github.com/shopease/shopease/event"
	"github.com/shopease/shopease/processors/cluster"
	"github.com/shopease/shopease/processors/fence"
	"github.com/shopease/shopease/processors/outcome"
	"github.com/shopease/shopease/processors/topology"
	"github.com/shopease/shopease/processors/transactions"
	"github.com/shopease/shopease/pseudonym"
	"github.com/shopease/shopease/tables"
	"github.com/shopease/shopease/testenv"
)

// canary is the raw id of canary user i: distinctive enough that finding it in any byte stream
// can only mean a leak.
func canary(i int) string { return fmt.Sprintf("canary-raw-user-%03d", i) }

// knownSet is a raw input with a known fate for every record: valid lines of 100 canary users,
// duplicates of some of them, a different number of rejects per reason (so a swap of two reasons
// shows) and undecodable bytes that contain raw user ids.
type knownSet struct {
	records    []rawRecord
	accepted   int
	duplicates int
	rejected   map[event.Reason]int
	perUser    map[string]int // accepted lines per raw user id
}

func buildKnownSet(t *testing.T) *knownSet {
	t.Helper()
	ks := &knownSet{rejected: map[event.Reason]int{}, perUser: map[string]int{}}
	t0 := time.Date(2024, 3, 1, 9, 0, 0, 0, time.UTC)
	line := func(i int) event.TransactionLine {
		return event.TransactionLine{
			LineID: fmt.Sprintf("o%04d-%d", i/3, i%3+1), OrderID: fmt.Sprintf("o%04d", i/3),
			Type: event.TxTypes[i%3], UserID: canary(i % 100), ProductID: fmt.Sprintf("P%02d", i%17),
			Quantity: int64(i%5 + 1), UnitPrice: event.Money(1000 + 15*i), Currency: "GBP",
			Time: t0.Add(time.Duration(i) * time.Minute), Source: fmt.Sprintf("known.csv:%d", i+2),
		}
	}
	add := func(l event.TransactionLine) rawRecord {
		b, err := codecs.AppendTransactionLine(nil, &l)
		if err != nil {
			t.Fatal(err)
		}
		r := rawRecord{key: l.LineID, value: b}
		ks.records = append(ks.records, r)
		return r
	}
	var valid []rawRecord
	for i := 0; i < 300; i++ {
		l := line(i)
		valid = append(valid, add(l))
		ks.accepted++
		ks.perUser[l.UserID]++
	}
	breakers := []struct {
		reason event.Reason
		n      int
		spoil  func(l *event.TransactionLine)
	}{
		{event.ReasonMissingOrder, 3, func(l *event.TransactionLine) { l.OrderID = "" }},
		{event.ReasonMissingUser, 4, func(l *event.TransactionLine) { l.UserID = "" }},
		{event.ReasonMissingProduct, 5, func(l *event.TransactionLine) { l.ProductID = "" }},
		{event.ReasonBadType, 6, nil}, // written with an unknown type below
		{event.ReasonBadTime, 7, func(l *event.TransactionLine) { l.Time = time.Date(1999, 12, 31, 0, 0, 0, 0, time.UTC) }},
		{event.ReasonBadQuantity, 8, func(l *event.TransactionLine) { l.Quantity = -l.Quantity }},
		{event.ReasonBadPrice, 9, func(l *event.TransactionLine) { l.UnitPrice = 0 }},
	}
	for _, b := range breakers {
		for j := 0; j < b.n; j++ {
			l := line(1000 + 10*j + len(b.reason))
			l.LineID = fmt.Sprintf("bad-%s-%d", b.reason, j)
			if b.spoil != nil {
				b.spoil(&l)
				add(l)
			} else {
				r := add(l)
				r.value = bytes.Replace(r.value, []byte(`"type":"purchase"`), []byte(`"type":"exchange"`), 1)
				r.value = bytes.Replace(r.value, []byte(`"type":"refund"`), []byte(`"type":"exchange"`), 1)
				r.value = bytes.Replace(r.value, []byte(`"type":"return"`), []byte(`"type":"exchange"`), 1)
				ks.records[len(ks.records)-1] = r
			}
			ks.rejected[b.reason]++
		}
	}
	for j := 0; j < 5; j++ {
		ks.records = append(ks.records, rawRecord{
			key:   fmt.Sprintf("csv-%d", j),
			value: []byte(fmt.Sprintf("536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,2010-12-01 08:26:00,2.55,%s,United Kingdom", canary(j))),
		})
		ks.rejected[event.ReasonUndecodable]++
	}
	// Producer retries: every 12th valid record again, after everything else.
	for i := 0; i < len(valid); i += 12 {
		ks.records = append(ks.records, valid[i])
		ks.duplicates++
	}
	return ks
}

// TestKnownInputOnBothKafkas runs the gateway on the embedded broker and on real Kafka over a known
// input and checks exact counts per topic and per reason, that every clean line is keyed by its
// user's pseudonym, and that none of the 100 raw canary ids appears in a clean topic, the table's
// changelog, the Pebble files or the log output.
func TestKnownInputOnBothKafkas(t *testing.T) {
	testenv.ForEachKafka(t, func(t *testing.T, k testenv.Kafka) {
		ks := buildKnownSet(t)
		counts := &outcome.Counts{}
		logs := &syncBuffer{}
		cfg := cluster.Config{
			Brokers:    k.Brokers(),
			Namespace:  testenv.Namespace(t),
			DataDir:    t.TempDir(),
			Storage:    func(dir string) storage.Builder { return tables.NewBuilder(dir) },
			Pseudonyms: pseudonym.Demo(),
			Observer:   counts,
			Logger:     debugLogger(logs),
		}
		if _, err := cfg.EnsureTopics(4); err != nil {
			t.Fatal(err)
		}
		stop := startGateway(t, cfg)
		emitRaw(t, cfg, ks.records)

		got := waitObserved(t, counts, int64(len(ks.records)))
		want := map[outcome.Outcome]int64{outcome.Accepted: int64(ks.accepted), outcome.Duplicate: int64(ks.duplicates)}
		for r, n := range ks.rejected {
			want[outcome.Rejected(r)] = int64(n)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("observed %v, want %v", got, want)
		}

		clean := readTopic(t, cfg, string(cfg.Namespace.Stream(topology.CleanTransactions)), ks.accepted)
		sales := readTopic(t, cfg, string(cfg.Namespace.Stream(topology.Sales)), ks.accepted)
		dead := readTopic(t, cfg, string(cfg.Namespace.Stream(topology.DeadLetter)), len(ks.records)-ks.accepted-ks.duplicates)
		if len(clean) != ks.accepted || len(sales) != ks.accepted {
			t.Errorf("%d clean and %d sales records, want %d each", len(clean), len(sales), ks.accepted)
		}
		checkCleanKeys(t, clean, sales, ks)

		deadByReason := map[event.Reason]int{}
		var originals []byte
		for _, m := range dead {
			dl, err := codecs.DecodeDeadLetter(m.Value)
			if err != nil {
				t.Fatal(err)
			}
			if dl.Processor != transactions.Processor || dl.Source != string(m.Key) || len(dl.Original) == 0 {
				t.Errorf("dead letter %s: processor %q source %q original %d bytes", m.Key, dl.Processor, dl.Source, len(dl.Original))
			}
			deadByReason[event.Reason(dl.Reason)]++
			originals = append(originals, dl.Original...)
		}
		if !reflect.DeepEqual(deadByReason, ks.rejected) {
			t.Errorf("dead letters per reason %v, want %v", deadByReason, ks.rejected)
		}

		table := readTopic(t, cfg, string(cfg.Namespace.Table(transactions.Group)), ks.accepted)
		if len(table) != ks.accepted {
			t.Errorf("%d claims in the changelog, want %d", len(table), ks.accepted)
		}
		stop()
		for name, msgs := range map[string][]*sarama.ConsumerMessage{"clean": clean, "sales": sales, "table": table} {
			for _, m := range msgs {
				blob := [][]byte{m.Key, m.Value}
				for _, h := range m.Headers {
					blob = append(blob, h.Key, h.Value)
				}
				assertNoCanary(t, name+" topic", bytes.Join(blob, []byte{0}))
			}
		}
		// Positive control: the dead-letter topic keeps original bytes, raw ids included, so the
		// detector must find them there.
		if !bytes.Contains(originals, []byte(canary(0))) {
			t.Error("positive control: no raw canary id in the dead letters' original bytes")
		}
		assertNoCanary(t, "log output", logs.Bytes())
		if len(logs.Bytes()) == 0 {
			t.Error("no log output captured: the log canary would be vacuous")
		}
		assertNoCanaryInFiles(t, cfg.DataDir)
	})
}

// checkCleanKeys checks that clean lines are keyed by their user's pseudonym, sales lines by their
// product id, both carry distinct origins, and each user has exactly its accepted lines.
func checkCleanKeys(t *testing.T, clean, sales []*sarama.ConsumerMessage, ks *knownSet) {
	t.Helper()
	demo := pseudonym.Demo()
	wantPerPseudonym := map[string]int{}
	for raw, n := range ks.perUser {
		wantPerPseudonym[demo.Of(raw)] = n
	}
	perPseudonym := map[string]int{}
	origins := map[string]bool{}
	for _, m := range clean {
		l, err := codecs.DecodeTransactionLine(m.Value)
		if err != nil {
			t.Fatal(err)
		}
		if string(m.Key) != l.UserID {
			t.Errorf("clean line %s keyed %q, user %q", l.LineID, m.Key, l.UserID)
		}
		perPseudonym[l.UserID]++
		origins[origin(t, m)] = true
	}
	if !reflect.DeepEqual(perPseudonym, wantPerPseudonym) {
		t.Errorf("clean lines per pseudonym differ from accepted lines per raw user (%d vs %d users)", len(perPseudonym), len(wantPerPseudonym))
	}
	if len(origins) != len(clean) {
		t.Errorf("%d distinct origins on %d clean lines", len(origins), len(clean))
	}
	for _, m := range sales {
		l, err := codecs.DecodeTransactionLine(m.Value)
		if err != nil {
			t.Fatal(err)
		}
		if string(m.Key) != l.ProductID || !demo.Is(l.UserID) {
			t.Errorf("sales line %s keyed %q (product %q), user %q", l.LineID, m.Key, l.ProductID, l.UserID)
		}
		if !origins[origin(t, m)] {
			t.Errorf("sales line %s has an origin no clean line has", l.LineID)
		}
	}
}

func origin(t *testing.T, m *sarama.ConsumerMessage) string {
	t.Helper()
	for _, h := range m.Headers {
		if string(h.Key) == fence.Header {
			if _, err := fence.ParseOrigin(string(h.Value)); err != nil {
				t.Fatal(err)
			}
			return string(h.Value)
		}
	}
	t.Fatalf("record at %s/%d/%d has no origin header", m.Topic, m.Partition, m.Offset)
	return ""
}

func assertNoCanary(t *testing.T, where string, b []byte) {
	t.Helper()
	if !bytes.Contains(b, []byte("canary-raw-user-")) {
		return
	}
	for i := 0; i < 100; i++ {
		if bytes.Contains(b, []byte(canary(i))) {
			t.Errorf("raw user id %s found in %s", canary(i), where)
			return
		}
	}
	t.Errorf("a raw canary id prefix found in %s", where)
}

// assertNoCanaryInFiles reads every file under dir (the gateway's Pebble store).
func assertNoCanaryInFiles(t *testing.T, dir string) {
	t.Helper()
	files := 0
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		files++
		assertNoCanary(t, strings.TrimPrefix(path, dir), b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files == 0 {
		t.Errorf("no table files under %s: the storage canary would be vacuous", dir)
	}
}
