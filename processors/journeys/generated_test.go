package journeys_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/lovoo/goka"
	"github.com/lovoo/goka/storage"

	"github.com/shopease/shopease/codecs"
	"github.com/shopease/shopease/event"
	"github.com/shopease/shopease/generate"
	"github.com/shopease/shopease/processors/activity"
	"github.com/shopease/shopease/processors/cluster"
	"github.com/shopease/shopease/processors/fence"
	"github.com/shopease/shopease/processors/journeys"
	"github.com/shopease/shopease/processors/outcome"
	"github.com/shopease/shopease/processors/topology"
	"github.com/shopease/shopease/processors/transactions"
	"github.com/shopease/shopease/pseudonym"
	"github.com/shopease/shopease/replay"
	"github.com/shopease/shopease/tables"
	"github.com/shopease/shopease/tables/inspect"
	"github.com/shopease/shopease/testenv"
)

// TestGeneratedJourneys replays a generated history into each Kafka — the transactions first, so
// every purchase arrives before the activity that led to it — runs the two gateways and the
// journeys processor, and compares the journeys topic with a reference computed from the clean
// topics by a plain second implementation of the rules. First the activity is replayed without
// end-of-input markers: one journey per complete order whose user's activity passes the purchase
// + 30 min, the rest pending. Then a replay of the same activity (every file skipped) writes the
// markers: every order has its journey, each exactly once, every field equal, no order pending,
// and the totals equal the generator's ground truth. Redelivery afterwards repeats them exactly.
func TestGeneratedJourneys(t *testing.T) {
	for _, preset := range []struct {
		name string
		cfg  generate.Config
	}{{"tiny", generate.Tiny()}, {"small", generate.Small()}} {
		t.Run(preset.name, func(t *testing.T) { generatedJourneys(t, preset.cfg) })
	}
}

func generatedJourneys(t *testing.T, gcfg generate.Config) {
	dir := t.TempDir()
	gcfg.Dir = dir
	truth, err := generate.Run(context.Background(), gcfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	acts, txs := truth.Datasets[generate.DatasetActivity].Accepted, truth.Datasets[generate.DatasetTransactions].Accepted
	testenv.ForEachKafka(t, func(t *testing.T, k testenv.Kafka) {
		obs := &outcome.Counts{}
		logger := slog.New(slog.NewTextHandler(io.Discard, nil))
		cfg := cluster.Config{
			Brokers: k.Brokers(), Namespace: testenv.Namespace(t), DataDir: t.TempDir(),
			Pseudonyms: pseudonym.Demo(), Observer: obs, Logger: logger,
			Storage: func(dir string) storage.Builder { return tables.NewBuilder(dir) },
		}
		if _, err := cfg.EnsureTopics(rawPartitions); err != nil {
			t.Fatal(err)
		}
		manifest := filepath.Join(t.TempDir(), "manifest.json")
		replayDataset(t, cfg, dir, generate.DatasetTransactions, manifest, true)
		ctx, cancel := context.WithCancel(context.Background())
		errs := make(chan error, 3)
		for _, run := range []func(context.Context, cluster.Config, ...goka.ProcessorOption) error{
			transactions.Run, activity.Run, journeys.Run,
		} {
			go func() { errs <- run(ctx, cfg) }()
		}
		stopped := false
		stop := func() {
			if stopped {
				return
			}
			stopped = true
			cancel()
			for range 3 {
				if err := <-errs; err != nil && !errors.Is(err, context.Canceled) {
					t.Errorf("processor: %v", err)
				}
			}
		}
		defer stop()
		waitAccepted(t, obs, txs)
		if n := len(readTopic(t, cfg, cfg.Namespace.Stream(topology.Journeys), 0)); n != 0 {
			t.Fatalf("%d journeys before any activity", n)
		}
		// Without activity markers the transactions' markers change nothing: the usual rules.
		replayDataset(t, cfg, dir, generate.DatasetActivity, manifest, false)
		waitAccepted(t, obs, txs+acts)
		before := compareJourneys(t, cfg, reference(t, cfg, int(acts), int(txs), false), 0)

		replayDataset(t, cfg, dir, generate.DatasetActivity, manifest, true)
		want := reference(t, cfg, int(acts), int(txs), true)
		got := compareJourneys(t, cfg, want, len(before))
		checkTruth(t, truth, got)
		var withSession, viewedBought int64
		for _, j := range got {
			if !j.SessionStart.IsZero() {
				withSession++
			}
			viewedBought += j.ViewedThenBought
		}
		t.Logf("end of input: %d journeys exact (%d with a session, %d viewed-then-bought products; %d before the markers) from %d activity events and %d lines",
			len(got), withSession, viewedBought, len(before), acts, txs)

		stop()
		retained := checkNonePending(t, cfg)
		checkRedelivery(t, cfg, got, acts+txs, retained)
	})
}

// compareJourneys waits for the journeys topic to hold len(want) journeys beyond the skip already
// checked and requires them to be exactly want, each once; it returns them.
func compareJourneys(t *testing.T, cfg cluster.Config, want map[string]journeys.Journey, skip int) map[string]journeys.Journey {
	t.Helper()
	got := map[string]journeys.Journey{}
	msgs := readTopic(t, cfg, cfg.Namespace.Stream(topology.Journeys), len(want))
	for deadline := time.Now().Add(time.Minute); len(msgs) < len(want) && time.Now().Before(deadline); time.Sleep(time.Second) {
		msgs = readTopic(t, cfg, cfg.Namespace.Stream(topology.Journeys), len(want))
	}
	for _, m := range msgs {
		v, err := journeys.JourneyCodec{}.Decode(m.Value)
		if err != nil {
			t.Fatal(err)
		}
		j := *v.(*journeys.Journey)
		id := j.UserID + "|" + j.OrderID
		if _, dup := got[id]; dup {
			t.Errorf("journey %s emitted twice", id)
		}
		if string(m.Key) != j.UserID {
			t.Errorf("journey %s keyed %q", id, m.Key)
		}
		got[id] = j
	}
	if len(want) < 20 {
		t.Fatalf("only %d journeys expected; the history is too thin to test", len(want))
	}
	diffs := 0
	for id, w := range want {
		if g, ok := got[id]; (!ok || !reflect.DeepEqual(g, w)) && diffs < 10 {
			diffs++
			t.Errorf("%s:\n got %+v\nwant %+v", id, g, w)
		}
	}
	if len(got) != len(want) {
		t.Fatalf("%d journeys, reference %d", len(got), len(want))
	}
	return got
}

// checkTruth compares the journeys' totals with the generator's ground truth, which knows nothing
// of the pipeline: one journey per order (of one user), with every accepted purchase line, unit
// and amount.
func checkTruth(t *testing.T, truth *generate.Truth, got map[string]journeys.Journey) {
	t.Helper()
	var want, have struct {
		orders, lines, units int64
		amount               event.Money
	}
	for _, m := range truth.Months {
		want.orders += m.Orders
		want.lines += m.PurchaseLines
		want.units += m.PurchaseUnits
		want.amount += m.Gross
	}
	for _, j := range got {
		have.orders++
		have.lines += j.Lines
		have.units += j.Units
		have.amount += j.Amount
	}
	if have != want {
		t.Errorf("journeys total %+v, ground truth %+v", have, want)
	}
}

// checkNonePending reads the stopped processor's table (its local Pebble state) and requires that
// no user has a pending order and no schedule a timer. It returns the released orders the users
// still remember (user|order; DoneKept), whose journeys a redelivered flush emits again.
func checkNonePending(t *testing.T, cfg cluster.Config) map[string]bool {
	t.Helper()
	ns := cfg.Namespace
	src, err := inspect.OpenDir(filepath.Join(cfg.DataDir, "processor", string(ns.Group(journeys.Group))))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var users, pending, timers int
	retained := map[string]bool{}
	err = src.Scan(context.Background(), string(ns.Table(journeys.Group)), inspect.Query{}, func(r inspect.Record) error {
		v, err := journeys.UserCodec{}.Decode(r.Value)
		if err != nil {
			return err
		}
		u := v.(*journeys.User)
		users++
		pending += len(u.Pending)
		timers += len(u.Timers)
		for _, d := range u.Done {
			retained[d.Journey.UserID+"|"+d.Journey.OrderID] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if users == 0 || pending != 0 || timers != 0 {
		t.Errorf("table of %d keys: %d orders pending, %d timers; want none", users, pending, timers)
	}
	return retained
}

// checkRedelivery resets the journeys group's committed offsets (inputs and loop) to 0 under its
// kept table, as if it had crashed before committing anything: every record is fenced, each
// journey its user still remembers (retained: a released order is kept DoneKept, 7 days, behind
// the user's newest activity, and generate.Small spans 14) goes out again byte for byte (from the
// flush that released it), and nothing else changes.
func checkRedelivery(t *testing.T, cfg cluster.Config, first map[string]journeys.Journey, records int64, retained map[string]bool) {
	t.Helper()
	ns := cfg.Namespace
	group := ns.Group(journeys.Group)
	before := readTopic(t, cfg, ns.Stream(topology.Journeys), len(first))
	for _, topic := range []goka.Stream{ns.Stream(topology.CleanActivity), ns.Stream(topology.CleanTransactions), goka.Stream(string(group) + "-loop")} {
		resetOffsets(t, cfg, group, topic)
	}
	obs := &outcome.Counts{}
	cfg.Observer = obs
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- journeys.Run(ctx, cfg) }()
	defer func() {
		cancel()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("journeys: %v", err)
		}
	}()
	for deadline := time.Now().Add(2 * time.Minute); ; {
		got := obs.Of(journeys.Processor)
		if got[outcome.Duplicate] == records && len(got) == 1 {
			break
		}
		if len(got) > 1 || time.Now().After(deadline) {
			t.Fatalf("redelivered outcomes %v, want %d duplicates", got, records)
		}
		time.Sleep(100 * time.Millisecond)
	}
	firstBytes := map[string]string{} // key|value → user|order
	for _, m := range before {
		v, err := journeys.JourneyCodec{}.Decode(m.Value)
		if err != nil {
			t.Fatal(err)
		}
		j := v.(*journeys.Journey)
		firstBytes[string(m.Key)+"|"+string(m.Value)] = j.UserID + "|" + j.OrderID
	}
	// The repeats that flushes make come after the inputs are read again: wait for them (the
	// loop of generate.Small's replay holds some 100k signals).
	var copies map[string]int
	for deadline := time.Now().Add(5 * time.Minute); ; {
		copies = map[string]int{}
		for _, m := range readTopic(t, cfg, ns.Stream(topology.Journeys), 2*len(first)) {
			k := string(m.Key) + "|" + string(m.Value)
			if _, ok := firstBytes[k]; !ok {
				t.Fatalf("a journey after redelivery differs from every first one: %s", m.Value)
			}
			copies[k]++
		}
		repeated := 0
		for k, n := range copies {
			if n >= 2 && retained[firstBytes[k]] {
				repeated++
			}
		}
		if repeated == len(retained) || time.Now().After(deadline) {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	// Every retained journey goes out again (a flush replayed from the loop may repeat one more
	// than once: it cannot tell a replay from a first delivery), and nothing else does.
	for k, n := range copies {
		if n < 2 && retained[firstBytes[k]] {
			t.Errorf("journey emitted %d times in all, want the original and at least one repeat: %.80s", n, k)
		}
	}
	if len(retained) < len(first)/2 {
		t.Errorf("only %d of %d journeys retained: the redelivery checks too few", len(retained), len(first))
	}
	t.Logf("redelivery: %d of %d journeys retained (DoneKept) and emitted again, identical", len(retained), len(first))
	if len(copies) != len(first) {
		t.Errorf("%d distinct journeys after redelivery, want %d", len(copies), len(first))
	}
}

// resetOffsets commits offset 0 for every partition of topic in the (stopped) group.
func resetOffsets(t *testing.T, cfg cluster.Config, group goka.Group, topic goka.Stream) {
	t.Helper()
	client, err := sarama.NewClient(cfg.Brokers, cfg.Sarama())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	om, err := sarama.NewOffsetManagerFromClient(string(group), client)
	if err != nil {
		t.Fatal(err)
	}
	parts, err := client.Partitions(string(topic))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range parts {
		pom, err := om.ManagePartition(string(topic), p)
		if err != nil {
			t.Fatal(err)
		}
		pom.ResetOffset(0, "")
		if err := pom.Close(); err != nil {
			t.Fatal(err)
		}
	}
	om.Commit()
	if err := om.Close(); err != nil {
		t.Fatal(err)
	}
}

// rawPartitions is the partition count of the raw topics in this test.
const rawPartitions = 4

// replayDataset replays one dataset of dir, ending with end-of-input markers when end is set.
func replayDataset(t *testing.T, cfg cluster.Config, dir, ds, manifest string, end bool) {
	t.Helper()
	rc := replay.DefaultConfig()
	rc.Paths, rc.Brokers, rc.Namespace = []string{filepath.Join(dir, ds)}, cfg.Brokers, cfg.Namespace
	rc.Dataset, rc.EndOfInput = ds, end
	rc.ManifestPath, rc.RejectsPath = manifest, ""
	if _, err := replay.Run(context.Background(), rc, cfg.Logger); err != nil {
		t.Fatalf("replay %s: %v", ds, err)
	}
}

// waitAccepted waits until the journeys processor has applied n records.
func waitAccepted(t *testing.T, obs *outcome.Counts, n int64) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		got := obs.Of(journeys.Processor)
		if got[outcome.Accepted] == n && len(got) == 1 {
			return
		}
		if got[outcome.Accepted] > n || len(got) > 1 || time.Now().After(deadline) {
			t.Fatalf("journeys outcomes %v, want %d accepted", got, n)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// originSource is the raw topic and partition of a clean record's origin header.
func originSource(t *testing.T, m *sarama.ConsumerMessage) string {
	t.Helper()
	for _, h := range m.Headers {
		if string(h.Key) == fence.Header {
			o, err := fence.ParseOrigin(string(h.Value))
			if err != nil {
				t.Fatal(err)
			}
			return o.Topic + "/" + strconv.Itoa(int(o.Partition))
		}
	}
	t.Fatalf("clean record %s/%d/%d without an origin", m.Topic, m.Partition, m.Offset)
	return ""
}

// reference reads the clean topics (their end-of-input markers aside) and computes the journeys by
// the rules, plainly: per user all activity in time order; at the end of input (atEnd) a journey
// for every order of purchase lines; otherwise, per order (time = its earliest line) a journey iff
// some activity of the user is later than time + 30 min, or the activity clock of the user's
// partition (as the processor reports it: each source's newest event time rounded down to a
// multiple of ClockStep) is later than time + 30 min + Slack; the session is the events at or before
// the purchase (and within Keep of it) that share the last such event's session id (or, without
// one, the run back from it with gaps ≤ 30 min), provided that event is within 30 min of the
// purchase. Only complete
// orders have journeys: every raw transactions partition has delivered to the order's partition
// a purchase of a greater order id.
func reference(t *testing.T, cfg cluster.Config, acts, txs int, atEnd bool) map[string]journeys.Journey {
	t.Helper()
	events := map[string][]*event.Activity{}
	msgs := readTopic(t, cfg, cfg.Namespace.Stream(topology.CleanActivity), acts)
	sort.Slice(msgs, func(i, j int) bool { return msgs[i].Offset < msgs[j].Offset })
	type source struct {
		partition int32
		origin    string
	}
	reported := map[source]time.Time{}
	for _, m := range msgs {
		if isMarker(m) {
			continue
		}
		a, err := codecs.DecodeActivity(m.Value)
		if err != nil {
			t.Fatal(err)
		}
		events[a.UserID] = append(events[a.UserID], a)
		k := source{m.Partition, originSource(t, m)}
		if step := a.Time.UTC().Truncate(journeys.ClockStep); step.After(reported[k]) {
			reported[k] = step
		}
	}
	// A partition's watermark: the oldest clock of its sources, once all rawPartitions reported.
	clocks := map[int32]time.Time{}
	seen := map[int32]int{}
	for k, at := range reported {
		seen[k.partition]++
		if c, ok := clocks[k.partition]; !ok || at.Before(c) {
			clocks[k.partition] = at
		}
	}
	for p, n := range seen {
		if n < rawPartitions {
			delete(clocks, p)
		}
	}
	type order struct {
		partition int32
		user, id  string
		at        time.Time
		products  []string
		lines     int64
		units     int64
		amount    event.Money
	}
	orders := map[string]*order{}
	// A partition's order mark: the smallest of the greatest purchase order ids its transaction
	// sources delivered, once all rawPartitions delivered one.
	greatest := map[source]string{}
	for _, m := range readTopic(t, cfg, cfg.Namespace.Stream(topology.CleanTransactions), txs) {
		if isMarker(m) {
			continue
		}
		l, err := codecs.DecodeTransactionLine(m.Value)
		if err != nil {
			t.Fatal(err)
		}
		if l.Type != event.Purchase {
			continue
		}
		k := source{m.Partition, originSource(t, m)}
		greatest[k] = max(greatest[k], l.OrderID)
		id := l.UserID + "|" + l.OrderID
		o := orders[id]
		if o == nil {
			o = &order{partition: m.Partition, user: l.UserID, id: l.OrderID, at: l.Time}
			orders[id] = o
		}
		if l.Time.Before(o.at) {
			o.at = l.Time
		}
		if !slices.Contains(o.products, l.ProductID) {
			o.products = append(o.products, l.ProductID)
		}
		amount, _ := l.Amount()
		o.lines, o.units, o.amount = o.lines+1, o.units+l.Quantity, o.amount+amount
	}
	marks := map[int32]string{}
	delivered := map[int32]int{}
	for k, id := range greatest {
		delivered[k.partition]++
		if m, ok := marks[k.partition]; !ok || id < m {
			marks[k.partition] = id
		}
	}
	for p, n := range delivered {
		if n < rawPartitions {
			delete(marks, p)
		}
	}
	for _, es := range events {
		sort.Slice(es, func(i, j int) bool {
			if !es[i].Time.Equal(es[j].Time) {
				return es[i].Time.Before(es[j].Time)
			}
			return es[i].EventID < es[j].EventID
		})
	}
	gap := 30 * time.Minute
	out := map[string]journeys.Journey{}
	var waiting, incomplete int
	defer func() {
		t.Logf("reference: %d of %d orders have journeys; %d wait for activity, %d for a greater order id", len(out), len(orders), waiting, incomplete)
	}()
	for k, o := range orders {
		es := events[o.user]
		own := len(es) > 0 && es[len(es)-1].Time.After(o.at.Add(gap))
		if !atEnd && !own && !clocks[o.partition].After(o.at.Add(gap+journeys.Slack)) {
			waiting++
			continue
		}
		if !atEnd && marks[o.partition] <= o.id {
			incomplete++ // a line of it could still come
			continue
		}
		slices.Sort(o.products)
		j := journeys.Journey{UserID: o.user, OrderID: o.id, PurchaseTime: o.at.UTC(), Bought: o.products,
			Lines: o.lines, Units: o.units, Amount: o.amount}
		var before []*event.Activity
		for _, e := range es {
			if !e.Time.After(o.at) && !e.Time.Before(o.at.Add(-journeys.Keep)) {
				before = append(before, e)
			}
		}
		if n := len(before); n > 0 && o.at.Sub(before[n-1].Time) <= gap {
			var session []*event.Activity
			if sid := before[n-1].SessionID; sid != "" {
				j.SessionID = sid
				for _, e := range before {
					if e.SessionID == sid {
						session = append(session, e)
					}
				}
			} else {
				i := n - 1
				for i > 0 && before[i].Time.Sub(before[i-1].Time) <= gap {
					i--
				}
				session = before[i:]
			}
			j.SessionStart = session[0].Time.UTC()
			j.SessionSeconds = int64(o.at.Sub(j.SessionStart) / time.Second)
			j.EntryReferrer = session[0].Referrer
			viewed := map[string]bool{}
			for _, e := range session {
				j.Events++
				switch e.Type {
				case event.PageView:
					j.PageViews++
				case event.ProductView:
					j.ProductViews++
					if j.SecondsToPurchase == nil {
						s := int64(o.at.Sub(e.Time) / time.Second)
						j.SecondsToPurchase = &s
					}
					if e.ProductID != "" {
						viewed[e.ProductID] = true
					}
				case event.AddToCart:
					j.CartAdds++
				}
			}
			for p := range viewed {
				j.Viewed = append(j.Viewed, p)
				if slices.Contains(o.products, p) {
					j.ViewedThenBought++
				}
			}
			slices.Sort(j.Viewed)
		}
		out[k] = j
	}
	return out
}

// isMarker reports whether m is an end-of-input marker a gateway forwarded.
func isMarker(m *sarama.ConsumerMessage) bool {
	for _, h := range m.Headers {
		if string(h.Key) == event.HeaderControl {
			return true
		}
	}
	return false
}

// readTopic reads every record of topic, waiting until it holds at least want.
func readTopic(t *testing.T, cfg cluster.Config, topic goka.Stream, want int) []*sarama.ConsumerMessage {
	t.Helper()
	name := string(topic)
	client, err := sarama.NewClient(cfg.Brokers, cfg.Sarama())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	var hwms map[int32]int64
	for deadline := time.Now().Add(60 * time.Second); ; {
		if err := client.RefreshMetadata(name); err != nil {
			t.Fatalf("metadata of %s: %v", name, err)
		}
		ids, err := client.Partitions(name)
		if err != nil {
			t.Fatalf("partitions of %s: %v", name, err)
		}
		hwms = map[int32]int64{}
		total := 0
		for _, id := range ids {
			off, err := client.GetOffset(name, id, sarama.OffsetNewest)
			if err != nil {
				t.Fatalf("offset of %s/%d: %v", name, id, err)
			}
			hwms[id] = off
			total += int(off)
		}
		if total >= want || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	c, err := sarama.NewConsumerFromClient(client)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var out []*sarama.ConsumerMessage
	for id, hwm := range hwms {
		if hwm == 0 {
			continue
		}
		pc, err := c.ConsumePartition(name, id, sarama.OffsetOldest)
		if err != nil {
			t.Fatalf("consume %s/%d: %v", name, id, err)
		}
		for {
			var m *sarama.ConsumerMessage
			select {
			case m = <-pc.Messages():
			case <-time.After(20 * time.Second):
				t.Fatalf("%s/%d: nothing more after %d of %d records", name, id, len(out), hwm)
			}
			out = append(out, m)
			if m.Offset >= hwm-1 {
				break
			}
		}
		_ = pc.Close()
	}
	return out
}
