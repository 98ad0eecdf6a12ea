package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/redis/go-redis/v9"

	"github.com/shopease/shopease/compaction"
	"github.com/shopease/shopease/event"
	"github.com/shopease/shopease/processors/cluster"
	"github.com/shopease/shopease/processors/outcome"
	"github.com/shopease/shopease/redissink"
	"github.com/shopease/shopease/tables"
)

// fixture is a server over known sources: outcome counts, two table partitions (one recovered,
// one recovering), three minutes written to miniredis by the real Redis sink, a lag measurement
// and a snapshot in progress.
type fixture struct {
	srv    *Server
	http   *httptest.Server
	starts []time.Time
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	counts := &outcome.Counts{}
	observe := func(p string, o outcome.Outcome, n int) {
		for range n {
			counts.Observe(p, o)
		}
	}
	observe("transactions", outcome.Accepted, 90)
	observe("transactions", outcome.Duplicate, 4)
	observe("transactions", outcome.Rejected(event.ReasonBadField), 5)
	observe("transactions", outcome.Rejected(event.ReasonUndecodable), 1)
	observe("activity", outcome.Accepted, 30)
	observe("journeys", "late_activity", 2)

	reg := tables.NewRegistry()
	build := tables.NewBuilder(t.TempDir(), tables.WithRegistry(reg))
	for part, recovered := range []bool{true, false} {
		st, err := build("shopease-sales-table", int32(part))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = st.Close() })
		if err := st.Open(); err != nil {
			t.Fatal(err)
		}
		for i := range 3 + part {
			if err := st.Set("key"+strconv.Itoa(i), []byte("value")); err != nil {
				t.Fatal(err)
			}
			if err := st.SetOffset(int64(i)); err != nil {
				t.Fatal(err)
			}
		}
		if recovered {
			if err := st.MarkRecovered(); err != nil {
				t.Fatal(err)
			}
		}
	}

	mr := miniredis.RunT(t)
	metrics := NewMetrics()
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	t.Cleanup(func() { _ = rdb.Close() })
	rdb.AddHook(metrics.RedisHook())
	sink := redissink.New(rdb)
	base := time.Date(2026, 11, 26, 15, 0, 0, 0, time.UTC)
	f := &fixture{starts: []time.Time{base, base.Add(time.Minute), base.Add(2 * time.Minute)}}
	for i, start := range f.starts {
		for part := range int32(2) {
			n := int64(i+1) * int64(part+1) // partition 0: 1,2,3 users; partition 1: 2,4,6
			sink.SetWindow(start, part, map[string]int64{"active": n, "purchasers": n / 2, "events": 10 * n,
				"events:page_view": 7 * n, "events:add_to_cart": 3 * n})
		}
	}
	// A replayed history's minute, a day older: outside the charts' hour, so never shown.
	sink.SetWindow(base.Add(-24*time.Hour), 0, map[string]int64{"active": 100, "events": 100})
	if err := sink.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	metrics.ObserveSnapshot(compaction.Progress{Table: "shopease-sales-table", Partition: 1, Read: 250, ToRead: 1000})

	srv, err := Listen(Config{Addr: "127.0.0.1:0", Outcomes: counts, Tables: reg, Metrics: metrics,
		Cluster: cluster.Config{Brokers: []string{"127.0.0.1:1"}, DataDir: t.TempDir(), RedisAddr: mr.Addr()}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.close)
	srv.lag.lag = Lag{Groups: map[string]int64{"shopease-transactions": 7, "shopease-journeys": 0}, At: time.Now()}
	f.srv, f.http = srv, httptest.NewServer(srv.Handler())
	t.Cleanup(f.http.Close)
	return f
}

func (f *fixture) get(t *testing.T, path string) (int, []byte) {
	t.Helper()
	res, err := http.Get(f.http.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, b
}

// value finds the series of family name whose labels are exactly labels.
func value(t *testing.T, fams map[string]*dto.MetricFamily, name string, labels map[string]string) float64 {
	t.Helper()
	fam, ok := fams[name]
	if !ok {
		t.Fatalf("/metrics has no family %s", name)
	}
next:
	for _, m := range fam.Metric {
		if len(m.Label) != len(labels) {
			continue
		}
		for _, l := range m.Label {
			if labels[l.GetName()] != l.GetValue() {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue()
		case m.Gauge != nil:
			return m.Gauge.GetValue()
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount())
		}
	}
	t.Fatalf("/metrics %s has no series %v", name, labels)
	return 0
}

func TestMetricsParseWithExpfmt(t *testing.T) {
	f := newFixture(t)
	code, body := f.get(t, "/metrics")
	if code != http.StatusOK {
		t.Fatalf("/metrics: %d %s", code, body)
	}
	parser := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := parser.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("expfmt cannot parse /metrics: %v", err)
	}
	sales0 := map[string]string{"table": "shopease-sales-table", "partition": "0", "store": "processor"}
	sales1 := map[string]string{"table": "shopease-sales-table", "partition": "1", "store": "processor"}
	snap1 := map[string]string{"table": "shopease-sales-table", "partition": "1"}
	tests := []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{MetricEventsIn, map[string]string{"processor": "transactions"}, 100},
		{MetricEventsOut, map[string]string{"processor": "transactions"}, 90},
		{MetricEventsIn, map[string]string{"processor": "journeys"}, 2},
		{MetricEventsOut, map[string]string{"processor": "journeys"}, 0},
		{MetricOutcomes, map[string]string{"processor": "transactions", "outcome": "duplicate"}, 4},
		{MetricOutcomes, map[string]string{"processor": "transactions", "outcome": "rejected"}, 6},
		{MetricOutcomes, map[string]string{"processor": "journeys", "outcome": "late_activity"}, 2},
		{MetricRejects, map[string]string{"processor": "transactions", "reason": string(event.ReasonBadField)}, 5},
		{MetricRejects, map[string]string{"processor": "transactions", "reason": string(event.ReasonUndecodable)}, 1},
		{MetricConsumerLag, map[string]string{"group": "shopease-transactions"}, 7},
		{MetricConsumerLag, map[string]string{"group": "shopease-journeys"}, 0},
		{MetricRecoveryRecords, sales0, 3},
		{MetricRecoveryRecords, sales1, 4},
		{MetricRecovered, sales0, 1},
		{MetricRecovered, sales1, 0},
		{MetricRecoveryRatio, sales0, 1},
		{MetricRecoveryRatio, sales1, 0}, // high-water mark unknown: no ratio yet
		{MetricSnapshotRead, snap1, 250},
		{MetricSnapshotToRead, snap1, 1000},
		{MetricRealtimeActive, map[string]string{}, 9}, // newest minute: 3 + 6
		{MetricRealtimeMinuteTS, map[string]string{}, float64(f.starts[2].Unix())},
		// The sink's first flush meets NOSCRIPT (the script is not loaded yet), loads it and
		// sends the pipeline again: one failed and one good pipeline.
		{MetricRedisFlush, map[string]string{"result": "ok"}, 1},
		{MetricRedisFlush, map[string]string{"result": "failed"}, 1},
	}
	for _, tt := range tests {
		if got := value(t, fams, tt.name, tt.labels); got != tt.want {
			t.Errorf("%s%v = %v, want %v", tt.name, tt.labels, got, tt.want)
		}
	}
	for _, tp := range []map[string]string{sales0, sales1} {
		if got := value(t, fams, MetricTableDiskBytes, tp); got <= 0 {
			t.Errorf("%s%v = %v, want > 0", MetricTableDiskBytes, tp, got)
		}
	}
}

func TestRealtimeAPIAndChartsAgree(t *testing.T) {
	f := newFixture(t)
	code, body := f.get(t, "/api/realtime")
	if code != http.StatusOK {
		t.Fatalf("/api/realtime: %d %s", code, body)
	}
	var ms []Minute
	if err := json.Unmarshal(body, &ms); err != nil {
		t.Fatal(err)
	}
	want := []Minute{
		{Start: f.starts[0], Active: 3, Purchasers: 1, Conversion: 0.333333, Events: 30, EventsByType: map[string]int64{"page_view": 21, "add_to_cart": 9}},
		{Start: f.starts[1], Active: 6, Purchasers: 3, Conversion: 0.5, Events: 60, EventsByType: map[string]int64{"page_view": 42, "add_to_cart": 18}},
		{Start: f.starts[2], Active: 9, Purchasers: 4, Conversion: 0.444444, Events: 90, EventsByType: map[string]int64{"page_view": 63, "add_to_cart": 27}},
	}
	if g, w := mustJSON(t, ms), mustJSON(t, want); g != w {
		t.Fatalf("/api/realtime:\n got %s\nwant %s", g, w)
	}
	tests := []struct {
		chart, series string
		value         func(Minute) float64
	}{
		{ChartActive, "active", func(m Minute) float64 { return float64(m.Active) }},
		{ChartConversion, "conversion", func(m Minute) float64 { return m.Conversion }},
		{ChartEvents, "page_view", func(m Minute) float64 { return float64(m.EventsByType["page_view"]) }},
		{ChartEvents, "add_to_cart", func(m Minute) float64 { return float64(m.EventsByType["add_to_cart"]) }},
	}
	for _, tt := range tests {
		code, svg := f.get(t, "/charts/"+tt.chart+".svg")
		if code != http.StatusOK {
			t.Fatalf("%s: %d %s", tt.chart, code, svg)
		}
		got := chartPoints(svg)[tt.series]
		if len(got) != len(ms) {
			t.Fatalf("%s/%s has %d points, want %d", tt.chart, tt.series, len(got), len(ms))
		}
		for _, m := range ms {
			key := m.Start.Format(time.RFC3339)
			if got[key] != tt.value(m) {
				t.Errorf("%s/%s at %s = %v, the API says %v", tt.chart, tt.series, key, got[key], tt.value(m))
			}
		}
	}
}

// pointRE matches a chart's data point (svg.go writes the attributes in this order).
var pointRE = regexp.MustCompile(`class="point" data-series="([^"]*)" data-key="([^"]*)" data-value="([^"]*)"`)

// chartPoints returns series → key → value of an SVG chart.
func chartPoints(svg []byte) map[string]map[string]float64 {
	out := map[string]map[string]float64{}
	for _, m := range pointRE.FindAllSubmatch(svg, -1) {
		v, _ := strconv.ParseFloat(string(m[3]), 64)
		if out[string(m[1])] == nil {
			out[string(m[1])] = map[string]float64{}
		}
		out[string(m[1])][string(m[2])] = v
	}
	return out
}

func TestEndpointsStatus(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		path string
		code int
	}{
		{"/", http.StatusOK},
		{"/assets/app.js", http.StatusOK},
		{"/healthz", http.StatusOK},
		{"/readyz", http.StatusServiceUnavailable}, // sales partition 1 is still recovering
		{"/api/metrics", http.StatusOK},
		{"/api/alerts", http.StatusOK},
		{"/api/dashboard", http.StatusOK},
		{"/api/tables", http.StatusOK},
		{"/api/reports/top-products", http.StatusServiceUnavailable}, // not loaded: Run never ran
		{"/api/reports/nope", http.StatusServiceUnavailable},
		{"/api/realtime?minutes=0", http.StatusBadRequest},
		{"/api/tables/nope/key", http.StatusNotFound},
		{"/charts/nope.svg", http.StatusNotFound},
		{"/nope", http.StatusNotFound},
	}
	for _, tt := range tests {
		if code, body := f.get(t, tt.path); code != tt.code {
			t.Errorf("GET %s = %d, want %d (%s)", tt.path, code, tt.code, body)
		}
	}
	_, body := f.get(t, "/readyz")
	var r Readiness
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"tables": "1 of 2 table partitions recovering", "reports": ErrNoReports.Error(), "lag": "ok"}
	if mustJSON(t, r.Checks) != mustJSON(t, want) || r.Ready {
		t.Errorf("/readyz = %+v, want not ready with checks %v", r, want)
	}
}

func TestNoRedis(t *testing.T) {
	srv, err := Listen(Config{Addr: "127.0.0.1:0", Cluster: cluster.Config{Brokers: []string{"127.0.0.1:1"}, DataDir: t.TempDir()}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.close)
	if _, err := srv.realtime.minutes(context.Background(), 5); !errors.Is(err, ErrNoRedis) {
		t.Fatalf("minutes without Redis: err = %v, want ErrNoRedis", err)
	}
	rec := httptest.NewRecorder()
	srv.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/charts/active.svg", nil))
	if rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("/charts/active.svg without Redis = %d, want 503", rec.Code)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
