package web

import (
	"context"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/redis/go-redis/v9"

	"github.com/shopease/shopease/compaction"
	"github.com/shopease/shopease/processors/outcome"
	"github.com/shopease/shopease/tables"
)

// Metric names of /metrics. Counts are read from the sources at scrape time, so two scrapes of an
// idle pipeline give the same numbers and nothing is counted in two places.
const (
	MetricEventsIn         = "shopease_processor_events_in_total"                // {processor}: records read
	MetricEventsOut        = "shopease_processor_events_out_total"               // {processor}: records accepted and passed on
	MetricOutcomes         = "shopease_processor_outcomes_total"                 // {processor,outcome}: every outcome, rejections as "rejected"
	MetricRejects          = "shopease_processor_rejects_total"                  // {processor,reason}
	MetricConsumerLag      = "shopease_consumer_lag_records"                     // {group}: records not yet committed
	MetricLagAge           = "shopease_consumer_lag_age_seconds"                 // time since the lag was last measured
	MetricTableDiskBytes   = "shopease_table_disk_bytes"                         // {table,partition}
	MetricRecoveryRecords  = "shopease_table_recovery_records"                   // {table,partition}: changelog records restored since open
	MetricRecoveryRatio    = "shopease_table_recovery_progress_ratio"            // {table,partition}: 0..1, 1 when recovered
	MetricRecovered        = "shopease_table_recovered"                          // {table,partition}: 1 when recovered
	MetricSnapshotRead     = "shopease_snapshot_records_read"                    // {table,partition}: of the running or last snapshot
	MetricSnapshotToRead   = "shopease_snapshot_records_to_read"                 // {table,partition}
	MetricRedisFlush       = "shopease_redis_sink_flush_duration_seconds"        // histogram {result}
	MetricRealtimeActive   = "shopease_realtime_active_users"                    // newest minute in Redis
	MetricRealtimeMinuteTS = "shopease_realtime_newest_minute_timestamp_seconds" // its start
)

// Metrics holds what hooks report to the server (Redis sink flushes, snapshot progress). Everything
// else is read from the sources when /metrics is scraped.
type Metrics struct {
	redisFlush *prometheus.HistogramVec

	mu    sync.Mutex
	snaps map[tablePartition]compaction.Progress
}

type tablePartition struct {
	table     string
	partition int32
}

// NewMetrics returns empty hook metrics.
func NewMetrics() *Metrics {
	m := &Metrics{
		redisFlush: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    MetricRedisFlush,
			Help:    "Duration of the Redis sink's flushes (one pipeline each), by result.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"result"}),
		snaps: map[tablePartition]compaction.Progress{},
	}
	for _, result := range []string{"ok", "failed"} {
		m.redisFlush.WithLabelValues(result) // both series exist (at 0) before the first flush
	}
	return m
}

// ObserveRedisFlush records one Redis flush (a pipeline) that took d.
func (m *Metrics) ObserveRedisFlush(d time.Duration, err error) {
	result := "ok"
	if err != nil {
		result = "failed"
	}
	m.redisFlush.WithLabelValues(result).Observe(d.Seconds())
}

// ObserveSnapshot is a compaction.Config.Progress hook.
func (m *Metrics) ObserveSnapshot(p compaction.Progress) {
	m.mu.Lock()
	m.snaps[tablePartition{p.Table, p.Partition}] = p
	m.mu.Unlock()
}

// RedisHook returns a go-redis hook that times every pipeline of the client it is added to
// (client.AddHook): the Redis sink writes each flush as one pipeline, so on the sink's client this
// measures the sink's latency without the sink knowing about metrics.
func (m *Metrics) RedisHook() redis.Hook { return pipelineTimer{m} }

type pipelineTimer struct{ m *Metrics }

func (pipelineTimer) DialHook(next redis.DialHook) redis.DialHook          { return next }
func (pipelineTimer) ProcessHook(next redis.ProcessHook) redis.ProcessHook { return next }

func (h pipelineTimer) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		if isConnectionSetup(cmds) {
			return next(ctx, cmds)
		}
		start := time.Now()
		err := next(ctx, cmds)
		h.m.ObserveRedisFlush(time.Since(start), err)
		return err
	}
}

// isConnectionSetup tells go-redis's own pipeline on a new connection (CLIENT SETINFO, HELLO,
// AUTH, SELECT) from the sink's: it is not a flush, and miniredis even rejects it.
func isConnectionSetup(cmds []redis.Cmder) bool {
	for _, c := range cmds {
		switch c.Name() {
		case "client", "hello", "auth", "select":
		default:
			return false
		}
	}
	return len(cmds) > 0
}

func (m *Metrics) snapshots() map[tablePartition]compaction.Progress {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make(map[tablePartition]compaction.Progress, len(m.snaps))
	for k, v := range m.snaps {
		out[k] = v
	}
	return out
}

// collector turns the server's sources into Prometheus series at scrape time.
type collector struct{ s *Server }

var (
	descEventsIn                            = prometheus.NewDesc(MetricEventsIn, "Records a processor read (accepted + duplicate + rejected + late).", []string{"processor"}, nil)
	descEventsOut                           = prometheus.NewDesc(MetricEventsOut, "Records a processor accepted and passed on.", []string{"processor"}, nil)
	descOutcomes                            = prometheus.NewDesc(MetricOutcomes, "Records a processor read, by outcome (accepted, duplicate, rejected, late_*).", []string{"processor", "outcome"}, nil)
	descRejects                             = prometheus.NewDesc(MetricRejects, "Records a processor rejected, by reason (event/reasons.go).", []string{"processor", "reason"}, nil)
	descLag                                 = prometheus.NewDesc(MetricConsumerLag, "Records of a consumer group's inputs not committed yet.", []string{"group"}, nil)
	descLagAge                              = prometheus.NewDesc(MetricLagAge, "Seconds since the consumer lag was last measured.", nil, nil)
	tableLabels                             = []string{"table", "partition", "store"}
	descDisk                                = prometheus.NewDesc(MetricTableDiskBytes, "Disk space of a local table partition (Pebble's estimate); store: processor or view.", tableLabels, nil)
	descRecRecords                          = prometheus.NewDesc(MetricRecoveryRecords, "Changelog records a table partition restored since it was opened.", tableLabels, nil)
	descRecRatio                            = prometheus.NewDesc(MetricRecoveryRatio, "Share of a table partition's changelog recovered (1 when recovered, 0 while unknown).", tableLabels, nil)
	descRecovered                           = prometheus.NewDesc(MetricRecovered, "1 when a table partition has recovered and serves.", tableLabels, nil)
	descSnapRead                            = prometheus.NewDesc(MetricSnapshotRead, "Changelog records read by the running or last snapshot of a table partition.", []string{"table", "partition"}, nil)
	descSnapToRead                          = prometheus.NewDesc(MetricSnapshotToRead, "Changelog records the snapshot of a table partition reads (an upper bound).", []string{"table", "partition"}, nil)
	descRealtimeActive                      = prometheus.NewDesc(MetricRealtimeActive, "Active users in the newest minute Redis holds.", nil, nil)
	descRealtimeMinute                      = prometheus.NewDesc(MetricRealtimeMinuteTS, "Start of the newest minute Redis holds (Unix seconds).", nil, nil)
	collectorDescs                          = []*prometheus.Desc{descEventsIn, descEventsOut, descOutcomes, descRejects, descLag, descLagAge, descDisk, descRecRecords, descRecRatio, descRecovered, descSnapRead, descSnapToRead, descRealtimeActive, descRealtimeMinute}
	_                  prometheus.Collector = collector{}
)

func (c collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range collectorDescs {
		ch <- d
	}
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, labels...)
	}
	for _, p := range processorStats(c.s.cfg.Outcomes) {
		counter(descEventsIn, float64(p.In), p.Processor)
		counter(descEventsOut, float64(p.Out), p.Processor)
		for _, o := range sortedKeys(p.Outcomes) {
			counter(descOutcomes, float64(p.Outcomes[o]), p.Processor, o)
		}
		for _, r := range sortedKeys(p.Rejected) {
			counter(descRejects, float64(p.Rejected[r]), p.Processor, r)
		}
	}
	lag := c.s.lag.get()
	for _, g := range sortedKeys(lag.Groups) {
		gauge(descLag, float64(lag.Groups[g]), g)
	}
	if !lag.At.IsZero() {
		gauge(descLagAge, time.Since(lag.At).Seconds())
	}
	for _, t := range tableStats(c.s.cfg.Tables) {
		part := strconv.Itoa(int(t.Partition))
		gauge(descDisk, float64(t.DiskBytes), t.Table, part, t.Store)
		gauge(descRecRecords, float64(t.RecoveryRecords), t.Table, part, t.Store)
		gauge(descRecRatio, t.RecoveryRatio, t.Table, part, t.Store)
		gauge(descRecovered, boolFloat(t.Recovered), t.Table, part, t.Store)
	}
	for tp, p := range c.s.metrics.snapshots() {
		part := strconv.Itoa(int(tp.partition))
		gauge(descSnapRead, float64(p.Read), tp.table, part)
		gauge(descSnapToRead, float64(p.ToRead), tp.table, part)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if ms, err := c.s.realtime.minutes(ctx, 1); err == nil && len(ms) > 0 {
		newest := ms[len(ms)-1]
		gauge(descRealtimeActive, float64(newest.Active))
		gauge(descRealtimeMinute, float64(newest.Start.Unix()))
	}
}

// newRegistry returns the registry /metrics serves: the pipeline's series, the hook metrics and the
// Go runtime's.
func newRegistry(s *Server) *prometheus.Registry {
	r := prometheus.NewRegistry()
	r.MustRegister(collector{s}, s.metrics.redisFlush, collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return r
}

// ProcessorStats are one processor's outcome counts.
type ProcessorStats struct {
	Processor string           `json:"processor"`
	In        int64            `json:"in"`
	Out       int64            `json:"out"`
	Outcomes  map[string]int64 `json:"outcomes"`           // accepted, duplicate, rejected, late_*
	Rejected  map[string]int64 `json:"rejected,omitempty"` // by reason
}

func processorStats(c *outcome.Counts) []ProcessorStats {
	if c == nil {
		return nil
	}
	var out []ProcessorStats
	for _, p := range c.Processors() {
		st := ProcessorStats{Processor: p, Outcomes: map[string]int64{}, Rejected: map[string]int64{}}
		for o, n := range c.Of(p) {
			st.In += n
			name := string(o)
			if reason, ok := strings.CutPrefix(name, "rejected/"); ok {
				st.Rejected[reason] += n
				name = "rejected"
			}
			if o == outcome.Accepted {
				st.Out += n
			}
			st.Outcomes[name] += n
		}
		out = append(out, st)
	}
	return out
}

// TableStats are one open table partition's size and recovery.
type TableStats struct {
	// Store is "processor" (the group's own table) or "view" (a goka view's copy, e.g. the
	// realtime processor's view of its own table for rebuilding Redis).
	Store           string  `json:"store"`
	Table           string  `json:"table"`
	Partition       int32   `json:"partition"`
	DiskBytes       uint64  `json:"disk_bytes"`
	RecoveryRecords int64   `json:"recovery_records"`
	RecoveryRatio   float64 `json:"recovery_ratio"`
	Recovered       bool    `json:"recovered"`
}

func tableStats(r *tables.Registry) []TableStats {
	if r == nil {
		return nil
	}
	var out []TableStats
	seen := map[[3]string]bool{}
	for _, p := range r.Stats() {
		store := storeOf(p.Path)
		id := [3]string{p.Topic, strconv.Itoa(int(p.Partition)), store}
		if seen[id] {
			continue // a second view of the same partition: one series per labels
		}
		seen[id] = true
		out = append(out, TableStats{Table: p.Topic, Partition: p.Partition, Store: store, DiskBytes: p.DiskBytes,
			RecoveryRecords: p.Recovery.Records, RecoveryRatio: recoveryRatio(p), Recovered: p.Started && p.Recovery.Done})
	}
	return out
}

// storeOf tells a view's storage from a processor's by cluster.Config's layout: views live under
// <data-dir>/view/, processors under <data-dir>/processor/.
func storeOf(path string) string {
	if strings.Contains(filepath.ToSlash(path), "/view/") {
		return "view"
	}
	return "processor"
}

// recoveryRatio is the share of the changelog covered: offsets, not records, because a compacted
// changelog has gaps. 0 while the high-water mark is unknown.
func recoveryRatio(p tables.PartitionStats) float64 {
	r := p.Recovery
	switch {
	case !p.Started:
		return 0
	case r.Done:
		return 1
	case r.HighWaterMark <= 0 || r.LastOffset < 0:
		return 0
	}
	return min(1, float64(r.LastOffset+1)/float64(r.HighWaterMark))
}

func boolFloat(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
