package realtime_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"path/filepath"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/lovoo/goka"
	"github.com/lovoo/goka/storage"
	"github.com/redis/go-redis/v9"

	"github.com/shopease/shopease/codecs"
	"github.com/shopease/shopease/event"
	"github.com/shopease/shopease/generate"
	"github.com/shopease/shopease/processors/activity"
	"github.com/shopease/shopease/processors/cluster"
	"github.com/shopease/shopease/processors/fence"
	"github.com/shopease/shopease/processors/realtime"
	"github.com/shopease/shopease/processors/topology"
	"github.com/shopease/shopease/processors/transactions"
	"github.com/shopease/shopease/pseudonym"
	"github.com/shopease/shopease/redissink"
	"github.com/shopease/shopease/replay"
	"github.com/shopease/shopease/tables"
	"github.com/shopease/shopease/testenv"
)

// TestGeneratedHistoryInRedis replays a Tiny generated history (clickstream, then transactions)
// into each Kafka, runs the two gateways and the realtime processor writing to each Redis, and
// compares Redis with the generator's truth: every minute's active users, purchasers, events and
// events per type, no other minute, and alerts on "events" at exactly the injected spikes before
// the detector's frontier — which must be where the clean activity says the last windows stay
// open (expectedFrontier: the input ends, so they wait for more).
func TestGeneratedHistoryInRedis(t *testing.T) {
	dir := t.TempDir()
	gcfg := generate.Tiny()
	gcfg.Dir = dir
	truth, err := generate.Run(context.Background(), gcfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	testenv.ForEachKafka(t, func(t *testing.T, k testenv.Kafka) {
		testenv.ForEachRedis(t, func(t *testing.T, r testenv.Redis) {
			rdb := redis.NewClient(&redis.Options{Addr: r.Addr()})
			defer rdb.Close()
			sinkRdb := redis.NewClient(&redis.Options{Addr: r.Addr()})
			defer sinkRdb.Close()
			cc := &testenv.CommandCounter{}
			sinkRdb.AddHook(cc)
			prefix := testenv.KeyPrefix(t, r)
			cfg := pipelineConfig(t, k, prefix)
			if _, err := cfg.EnsureTopics(4); err != nil {
				t.Fatal(err)
			}
			replayHistory(t, cfg, dir)
			stop := startPipeline(t, cfg, realtime.RunSettings{Redis: sinkRdb,
				RedisOptions: []redissink.Option{redissink.WithFlushInterval(100 * time.Millisecond)}})
			defer stop()
			waitForTruth(t, cfg, rdb, prefix, truth, 3*time.Minute)
			// A replayed history touches every minute of three days within seconds: this is the
			// worst case (about one command per minute written), not the steady state
			// (redissink.TestCommandsPerEvent).
			events := truth.Datasets[generate.DatasetActivity].Accepted + truth.Datasets[generate.DatasetTransactions].AcceptedByType["purchase"]
			t.Logf("sink: %d Redis commands for %d events, %d minutes", cc.N(), events, len(truth.Minutes))
		})
	})
}

// TestRestartKeepsWindows stops the pipeline after the clickstream and starts it again on the same
// state dir (a new process: nothing in memory survives) before the transactions: open windows,
// watermarks, user windows and fences come back from the table, and Redis still equals the truth.
func TestRestartKeepsWindows(t *testing.T) {
	dir := t.TempDir()
	gcfg := generate.Tiny()
	gcfg.Dir = dir
	truth, err := generate.Run(context.Background(), gcfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	k, r := testenv.EmbeddedKafka(t), testenv.EmbeddedRedis(t)
	rdb := redis.NewClient(&redis.Options{Addr: r.Addr()})
	defer rdb.Close()
	prefix := testenv.KeyPrefix(t, r)
	cfg := pipelineConfig(t, k, prefix)
	if _, err := cfg.EnsureTopics(4); err != nil {
		t.Fatal(err)
	}
	rs := realtime.RunSettings{Redis: rdb, RedisOptions: []redissink.Option{redissink.WithFlushInterval(100 * time.Millisecond)}}
	stop := startPipeline(t, cfg, rs)
	replayDataset(t, cfg, dir, generate.DatasetActivity)
	time.Sleep(3 * time.Second)
	stop()
	stop = startPipeline(t, cfg, rs)
	defer stop()
	replayDataset(t, cfg, dir, generate.DatasetTransactions)
	waitForTruth(t, cfg, rdb, prefix, truth, 2*time.Minute)
}

func pipelineConfig(t *testing.T, k testenv.Kafka, prefix string) cluster.Config {
	return cluster.Config{
		Brokers: k.Brokers(), Namespace: testenv.Namespace(t), DataDir: t.TempDir(),
		Pseudonyms: pseudonym.Demo(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Storage:        func(dir string) storage.Builder { return tables.NewBuilder(dir) },
		RedisKeyPrefix: prefix,
	}
}

// replayHistory replays the clickstream, then the transactions, of a generated history.
func replayHistory(t *testing.T, cfg cluster.Config, dir string) {
	t.Helper()
	replayDataset(t, cfg, dir, generate.DatasetActivity)
	replayDataset(t, cfg, dir, generate.DatasetTransactions)
}

// replayDataset replays one dataset of a generated history.
func replayDataset(t *testing.T, cfg cluster.Config, dir, ds string) {
	t.Helper()
	rc := replay.DefaultConfig()
	rc.Paths, rc.Brokers, rc.Namespace = []string{filepath.Join(dir, ds)}, cfg.Brokers, cfg.Namespace
	rc.Dataset = ds
	rc.ManifestPath, rc.RejectsPath = filepath.Join(t.TempDir(), "manifest.json"), ""
	if _, err := replay.Run(context.Background(), rc, nil); err != nil {
		t.Fatalf("replay %s: %v", ds, err)
	}
}

// startPipeline runs the activity and transactions gateways and the realtime processor; the
// returned function stops them and reports their errors.
func startPipeline(t *testing.T, cfg cluster.Config, rs realtime.RunSettings) func() {
	t.Helper()
	// Every processor creates the clean topics it reads or writes; created here first, they do
	// not race (the losing creator fails, and only `shopease run` restarts it).
	if _, err := realtime.EnsureOutputs(cfg); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errs := make(chan error, 3)
	go func() { errs <- activity.Run(ctx, cfg) }()
	go func() { errs <- transactions.Run(ctx, cfg) }()
	go func() { errs <- realtime.RunWith(ctx, cfg, rs) }()
	return func() {
		cancel()
		for range 3 {
			if err := <-errs; err != nil && !errors.Is(err, context.Canceled) {
				t.Errorf("pipeline: %v", err)
			}
		}
	}
}

// minuteView is what Redis holds of one minute, in the truth's terms.
type minuteView struct {
	Active, Purchasers, Events int64
	ByType                     map[string]int64
}

func fromTruth(m generate.MinuteTruth) minuteView {
	return minuteView{Active: m.ActiveUsers, Purchasers: m.Purchasers, Events: m.Events, ByType: m.ByType}
}

// readRedis reads every indexed minute's totals and the alert minutes of metric "events".
func readRedis(ctx context.Context, rdb *redis.Client, prefix string) (map[int64]minuteView, []string, error) {
	idx, err := rdb.ZRange(ctx, prefix+"minutes", 0, -1).Result()
	if err != nil {
		return nil, nil, err
	}
	out := map[int64]minuteView{}
	for _, m := range idx {
		sec, _ := strconv.ParseInt(m, 10, 64)
		h, err := rdb.HGetAll(ctx, prefix+"minute:"+m).Result()
		if err != nil {
			return nil, nil, err
		}
		v := minuteView{ByType: map[string]int64{}}
		for f, s := range h {
			n, _ := strconv.ParseInt(s, 10, 64)
			switch {
			case f == "active":
				v.Active = n
			case f == "purchasers":
				v.Purchasers = n
			case f == "events":
				v.Events = n
			case len(f) > 7 && f[:7] == "events:" && n > 0:
				v.ByType[f[7:]] = n
			}
		}
		out[sec] = v
	}
	raw, err := rdb.ZRange(ctx, prefix+"alerts", 0, -1).Result()
	if err != nil {
		return nil, nil, err
	}
	var spikes []string
	for _, s := range raw {
		var a realtime.Alert
		if err := json.Unmarshal([]byte(s), &a); err != nil {
			return nil, nil, err
		}
		if a.Metric == "events" {
			spikes = append(spikes, a.Window.UTC().Format(time.RFC3339))
		}
	}
	sort.Strings(spikes)
	return out, spikes, nil
}

// diffMinutes lists the minutes where Redis differs from the truth.
func diffMinutes(got map[int64]minuteView, truth *generate.Truth) []string {
	var diffs []string
	seen := map[int64]bool{}
	for _, m := range truth.Minutes {
		sec := m.Minute.Unix()
		seen[sec] = true
		if g, w := fmt.Sprint(got[sec]), fmt.Sprint(fromTruth(m)); g != w {
			diffs = append(diffs, fmt.Sprintf("%s: redis %s, truth %s", m.Minute.UTC().Format(time.RFC3339), g, w))
		}
	}
	for sec := range got {
		if !seen[sec] {
			diffs = append(diffs, fmt.Sprintf("%s: in redis %v, not in the truth", time.Unix(sec, 0).UTC().Format(time.RFC3339), got[sec]))
		}
	}
	sort.Strings(diffs)
	return diffs
}

// diffSpikes compares the alerted minutes with the truth's spikes before frontier (later
// minutes are not judged yet).
func diffSpikes(spikes []string, truth *generate.Truth, frontier time.Time) []string {
	var want []string
	for _, s := range truth.Spikes {
		if s.Minute.Before(frontier) {
			want = append(want, s.Minute.UTC().Format(time.RFC3339))
		}
	}
	if fmt.Sprint(spikes) != fmt.Sprint(want) {
		return []string{fmt.Sprintf("spike alerts %v, truth before %s %v", spikes, frontier.Format(time.RFC3339), want)}
	}
	return nil
}

// expectedFrontier is where the spike detector must stand once everything is processed,
// computed from the clean activity topic alone: per partition and raw source the window of the
// latest event; a partition closes the windows ending a grace before its oldest source's; the
// detector judges up to the least advanced partition. Windows after it wait for more input.
func expectedFrontier(t *testing.T, cfg cluster.Config) time.Time {
	t.Helper()
	const minute = int64(time.Minute / time.Millisecond)
	grace := int64(2 * time.Minute / time.Millisecond)
	latest := map[int32]map[string]int64{} // partition → raw source → latest window start
	for _, r := range testenv.ReadTopic(t, cfg.Brokers, string(cfg.Namespace.Stream(topology.CleanActivity))) {
		headers := map[string][]byte{}
		for _, h := range r.Headers {
			headers[h.Key] = h.Value
		}
		if event.IsControl(headers) {
			continue // an end-of-input marker: no event
		}
		a, err := codecs.DecodeActivity(r.Value)
		if err != nil {
			t.Fatalf("clean activity record: %v", err)
		}
		var src string
		for _, h := range r.Headers {
			if h.Key == fence.Header {
				o, err := fence.ParseOrigin(string(h.Value))
				if err != nil {
					t.Fatal(err)
				}
				src = o.Topic + "/" + strconv.Itoa(int(o.Partition))
			}
		}
		if latest[r.Partition] == nil {
			latest[r.Partition] = map[string]int64{}
		}
		ms := a.Time.UnixMilli()
		latest[r.Partition][src] = max(latest[r.Partition][src], ms-ms%minute)
	}
	frontier := int64(math.MaxInt64)
	for p, srcs := range latest {
		if len(srcs) != 4 {
			t.Fatalf("partition %d has %d raw sources, want 4: its windows never close", p, len(srcs))
		}
		oldest := int64(math.MaxInt64)
		for _, w := range srcs {
			oldest = min(oldest, w)
		}
		wm := oldest - grace - minute
		frontier = min(frontier, wm-wm%minute+minute)
	}
	return time.UnixMilli(frontier).UTC()
}

// detectorFrontier reads where the spike detector stands from the processor's table (through a
// view with its own state dir: the processor's sink has a view of its own).
func detectorFrontier(t *testing.T, cfg cluster.Config) (time.Time, error) {
	cfg.DataDir = t.TempDir()
	tbl := cfg.Namespace.Table(realtime.Group)
	v, err := goka.NewView(cfg.Brokers, tbl, realtime.ValueCodec{}, cfg.ViewOptions(tbl)...)
	if err != nil {
		return time.Time{}, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- v.Run(ctx) }()
	defer func() { cancel(); <-done }()
	select {
	case <-v.WaitRunning():
	case <-ctx.Done():
		return time.Time{}, ctx.Err()
	}
	val, err := v.Get(realtime.SpikesKey)
	if err != nil {
		return time.Time{}, err
	}
	s, _ := val.(*realtime.Value)
	if s == nil || s.Spikes == nil || !s.Spikes.Started {
		return time.Time{}, errors.New("no spike detector state")
	}
	return time.UnixMilli(s.Spikes.Done).UTC(), nil
}

// waitForTruth polls Redis until it equals the truth and the detector stands at the expected
// frontier, failing with the differences at timeout.
func waitForTruth(t *testing.T, cfg cluster.Config, rdb *redis.Client, prefix string, truth *generate.Truth, timeout time.Duration) {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(timeout)
	start := time.Now()
	var frontier time.Time
	for {
		got, spikes, err := readRedis(ctx, rdb, prefix)
		diffs := diffMinutes(got, truth)
		if err == nil && len(diffs) == 0 && frontier.IsZero() {
			// Every minute equals the truth: every event is in, and the clean topic is complete.
			frontier = expectedFrontier(t, cfg)
		}
		if frontier.IsZero() {
			diffs = append(diffs, "spikes not compared yet")
		} else {
			diffs = append(diffs, diffSpikes(spikes, truth, frontier)...)
			if done, derr := detectorFrontier(t, cfg); derr != nil || !done.Equal(frontier) {
				diffs = append(diffs, fmt.Sprintf("spike detector at %v (%v), expected %v", done, derr, frontier))
			}
		}
		if err == nil && len(diffs) == 0 {
			t.Logf("Redis equals the truth after %v: %d minutes, %d spikes judged (up to %s; %d minutes after it wait for more input)",
				time.Since(start).Round(time.Millisecond), len(truth.Minutes), len(spikes), frontier.Format(time.RFC3339),
				int(truth.End.Sub(frontier)/time.Minute))
			return
		}
		if time.Now().After(deadline) {
			if len(diffs) > 6 {
				diffs = append(diffs[:5], fmt.Sprintf("... %d differences in all", len(diffs)))
			}
			t.Fatalf("Redis differs from the truth after %v (err %v):\n%s", timeout, err, joinLines(diffs))
		}
		time.Sleep(500 * time.Millisecond)
	}
}
func joinLines(s []string) string {
	out := ""
	for _, l := range s {
		out += l + "\n"
	}
	return out
}
