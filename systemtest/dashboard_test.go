package systemtest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/shopease/shopease/testenv"
	"github.com/shopease/shopease/web"
)

// demoReadyWithin is the promise of `make run`: the dashboard answers ready this long after start.
const demoReadyWithin = 90 * time.Second

// TestDashboardInBrowser runs `shopease demo` (embedded broker and Redis, replayed history, live
// traffic), opens its dashboard in headless Chromium, waits for live data, checks that the charts
// the browser shows hold non-zero values equal to the JSON API's, parses /metrics with expfmt,
// and saves a screenshot to artifacts/dashboard.png.
func TestDashboardInBrowser(t *testing.T) {
	chromium := findChromium(t)
	demo := startDemo(t)
	if err := demo.waitReady(demoReadyWithin); err != nil {
		t.Fatalf("demo not ready within %s of its start: %v\n%s", demoReadyWithin, err, demo.output())
	}
	t.Logf("demo ready after %s at %s (lake %s)", demo.readyAfter.Round(100*time.Millisecond), demo.url, demo.lake)

	ctx, cancel := chromedp.NewExecAllocator(context.Background(), append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.WindowSize(1400, 1800))...)
	defer cancel()
	ctx, cancel = chromedp.NewContext(ctx)
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, 4*time.Minute)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Navigate(demo.url)); err != nil {
		t.Fatalf("open %s in %s: %v", demo.url, chromium, err)
	}

	checked := compareChartsWithAPI(ctx, t, demo)
	t.Logf("charts equal the API: %s", checked)

	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // quality 100: PNG
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	shot := filepath.Join("..", "artifacts", "dashboard.png")
	if err := os.MkdirAll(filepath.Dir(shot), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(shot, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s (%d bytes)", shot, len(png))

	checkMetrics(t, demo)
	checkTableLookup(t, demo)
	demo.stop(t)
}

// checkTableLookup reads the top product of the history's first complete month (2024-02, which the
// live traffic never touches) from the report API, then its sales table value by key through
// /api/tables (a goka view): the units must be equal. The report's tables are reloaded every 10 s,
// so a load from before the replay was fully processed is waited out.
func checkTableLookup(t *testing.T, demo *demoProc) {
	t.Helper()
	var last string
	for try := 0; try < 30; try++ {
		if try > 0 {
			time.Sleep(2 * time.Second)
		}
		var top struct {
			Month    string `json:"month"`
			Products []struct {
				ProductID string `json:"product_id"`
				Units     int64  `json:"units"`
			} `json:"products"`
		}
		if err := demo.getJSON("/api/reports/top-products?as_of=2024-03-01", &top); err != nil {
			last = err.Error()
			continue
		}
		if top.Month != "2024-02" || len(top.Products) == 0 {
			last = fmt.Sprintf("top products of %q: %d rows", top.Month, len(top.Products))
			continue
		}
		var rec struct {
			Key   string `json:"key"`
			Value struct {
				Months []struct {
					Month     string `json:"month"`
					UnitsSold int64  `json:"units_sold"`
				} `json:"months"`
			} `json:"value"`
		}
		p := top.Products[0]
		if err := demo.getJSON("/api/tables/shopease-sales-table/"+url.PathEscape(p.ProductID), &rec); err != nil {
			last = err.Error()
			continue
		}
		var units int64
		for _, m := range rec.Value.Months {
			if m.Month == top.Month {
				units = m.UnitsSold
			}
		}
		if rec.Key == p.ProductID && units == p.Units && units > 0 {
			t.Logf("table lookup: %s sold %d units in %s, as the top products report says", p.ProductID, units, top.Month)
			return
		}
		last = fmt.Sprintf("%s in %s: report %d units, table (key %q) %d", p.ProductID, top.Month, p.Units, rec.Key, units)
	}
	t.Fatalf("table lookup never equalled the report: %s", last)
}

// findChromium returns the browser's path. Under `make test` (SHOPEASE_REQUIRE_REAL=1) a missing
// browser fails the test: testenv/real.sh installs the Debian package.
func findChromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	msg := "no headless browser: install Debian's chromium (`apt-get install -y chromium`; `bash testenv/real.sh start` does)"
	if testenv.RequireReal() {
		t.Fatalf("%s [%s=1 forbids skipping]", msg, testenv.EnvRequireReal)
	}
	t.Skip(msg)
	return ""
}

// demoProc is a running `shopease demo`.
type demoProc struct {
	proc
	exited     chan struct{} // closed when the process has exited; waitErr is then set
	waitErr    error
	start      time.Time
	url, lake  string
	readyAfter time.Duration
	lines      chan string
}

var (
	dashboardLine = regexp.MustCompile(`^dashboard: (http://\S+)`)
	lakeLine      = regexp.MustCompile(`^lake: (\S+)`)
)

func startDemo(t *testing.T) *demoProc {
	t.Helper()
	d := &demoProc{lines: make(chan string, 1024), exited: make(chan struct{})}
	d.cmd = exec.Command(binary, "demo", "--http", "127.0.0.1:0", "--data-dir", t.TempDir(), "--interval", "5s", "--rate", "50")
	pr, pw := io.Pipe()
	d.cmd.Stdout, d.cmd.Stderr = io.MultiWriter(&d.proc, pw), &d.proc
	d.start = time.Now()
	if err := d.cmd.Start(); err != nil {
		t.Fatalf("start demo: %v", err)
	}
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			select {
			case d.lines <- sc.Text():
			default:
			}
		}
	}()
	go func() {
		d.waitErr = d.cmd.Wait()
		_ = pw.Close()
		close(d.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-d.exited:
		default:
			_ = d.cmd.Process.Kill()
			<-d.exited
		}
		if t.Failed() {
			t.Logf("demo output:\n%s", d.output())
		}
	})
	return d
}

// waitReady reads the dashboard URL and the lake path from the demo's output, then polls /readyz.
func (d *demoProc) waitReady(within time.Duration) error {
	deadline := time.After(within - time.Since(d.start))
	for d.url == "" || d.lake == "" {
		select {
		case l := <-d.lines:
			if m := dashboardLine.FindStringSubmatch(l); m != nil {
				d.url = m[1]
			}
			if m := lakeLine.FindStringSubmatch(l); m != nil {
				d.lake = m[1]
			}
		case <-d.exited:
			return fmt.Errorf("demo exited: %v", d.waitErr)
		case <-deadline:
			return fmt.Errorf("no 'dashboard:' and 'lake:' lines printed (url %q, lake %q)", d.url, d.lake)
		}
	}
	for {
		res, err := http.Get(d.url + "readyz")
		if err == nil {
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				d.readyAfter = time.Since(d.start)
				return nil
			}
			err = fmt.Errorf("/readyz %d: %s", res.StatusCode, bytes.TrimSpace(body))
		}
		select {
		case <-deadline:
			return err
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// stop sends SIGINT and expects a clean exit (code 0, "stopped cleanly").
func (d *demoProc) stop(t *testing.T) {
	t.Helper()
	if err := d.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case <-d.exited:
		if d.waitErr != nil {
			t.Fatalf("demo after Ctrl-C: %v", d.waitErr)
		}
	case <-time.After(time.Minute):
		t.Fatal("demo did not stop within a minute of SIGINT")
	}
	if !strings.Contains(d.output(), "stopped cleanly") {
		t.Fatal("demo did not say 'stopped cleanly'")
	}
}

// getJSON decodes the answer of GET path into v; an answer other than 200 is an error.
func (d *demoProc) getJSON(path string, v any) error {
	res, err := http.Get(d.url + strings.TrimPrefix(path, "/"))
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(res.Body)
		return fmt.Errorf("GET %s: %d %s", path, res.StatusCode, bytes.TrimSpace(b))
	}
	if err := json.NewDecoder(res.Body).Decode(v); err != nil {
		return fmt.Errorf("GET %s: %w", path, err)
	}
	return nil
}

// domPoint is a chart data point as the browser has it.
type domPoint struct {
	Chart  string `json:"chart"`
	Series string `json:"series"`
	Key    string `json:"key"`
	Value  string `json:"value"`
}

const readPoints = `[...document.querySelectorAll("figure svg.chart .point")].map(e => ({
  chart: e.closest("svg").id, series: e.dataset.series, key: e.dataset.key, value: e.dataset.value}))`

// compareChartsWithAPI waits for the page to show live data (active users > 0), then compares the
// points of the per-minute charts and the revenue chart with /api/realtime and
// /api/reports/monthly-revenue read right after a page update. Live minutes change every second,
// so a comparison that straddles a change is retried (30 tries).
func compareChartsWithAPI(ctx context.Context, t *testing.T, demo *demoProc) string {
	t.Helper()
	var last string
	for try := 0; try < 30; try++ {
		if err := waitForUpdate(ctx); err != nil {
			t.Fatalf("page does not update: %v (last mismatch: %s)", err, last)
		}
		points, err := chromedp.Run(ctx, chromedp.Evaluate[[]domPoint](readPoints))
		if err != nil {
			t.Fatalf("read chart points: %v", err)
		}
		var minutes []web.Minute
		var revenue []struct {
			Month string `json:"month"`
			Net   string `json:"net"`
		}
		if err := demo.getJSON("/api/realtime", &minutes); err != nil {
			last = err.Error()
			continue
		}
		if err := demo.getJSON("/api/reports/monthly-revenue", &revenue); err != nil {
			last = err.Error()
			continue
		}

		want := map[string]map[string]float64{"chart-active": {}, "chart-conversion": {}, "chart-events": {}, "chart-revenue": {}}
		types := map[string]bool{}
		for _, m := range minutes {
			for typ := range m.EventsByType {
				types[typ] = true
			}
		}
		for _, m := range minutes {
			k := m.Start.Format(time.RFC3339)
			want["chart-active"]["active|"+k] = float64(m.Active)
			want["chart-conversion"]["conversion|"+k] = m.Conversion
			for typ := range types { // a type missing from a minute had no events in it
				want["chart-events"][typ+"|"+k] = float64(m.EventsByType[typ])
			}
		}
		for _, r := range revenue {
			net, err := strconv.ParseFloat(r.Net, 64)
			if err != nil {
				t.Fatalf("monthly revenue net %q: %v", r.Net, err)
			}
			want["chart-revenue"]["net|"+r.Month] = net
		}
		got := map[string]map[string]float64{}
		for _, p := range points {
			v, err := strconv.ParseFloat(p.Value, 64)
			if err != nil {
				t.Fatalf("chart %s point %s/%s value %q: %v", p.Chart, p.Series, p.Key, p.Value, err)
			}
			if got[p.Chart] == nil {
				got[p.Chart] = map[string]float64{}
			}
			got[p.Chart][p.Series+"|"+p.Key] = v
		}
		if last = diffCharts(want, got); last != "" {
			continue
		}
		if sum(got["chart-active"]) == 0 || sum(got["chart-events"]) == 0 || sum(got["chart-revenue"]) == 0 || sum(got["chart-processors"]) == 0 {
			last = fmt.Sprintf("no live data yet: Σ active %v, Σ events %v, Σ revenue %v, Σ records read %v",
				sum(got["chart-active"]), sum(got["chart-events"]), sum(got["chart-revenue"]), sum(got["chart-processors"]))
			continue
		}
		return fmt.Sprintf("%d minutes (Σ active users %v, Σ events %v), %d months (Σ net %v) after %d tries",
			len(minutes), sum(got["chart-active"]), sum(got["chart-events"]), len(revenue), sum(got["chart-revenue"]), try+1)
	}
	t.Fatalf("charts never equalled the API in 30 page updates; last difference: %s", last)
	return ""
}

// waitForUpdate waits until the page has finished its next poll (app.js counts them in
// body[data-updates]).
func waitForUpdate(ctx context.Context) error {
	updates := chromedp.Evaluate[string](`document.body.dataset.updates`)
	before, err := chromedp.Run(ctx, updates)
	if err != nil {
		return err
	}
	for {
		now, err := chromedp.Run(ctx, updates)
		if err != nil {
			return err
		}
		if now != before {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func diffCharts(want, got map[string]map[string]float64) string {
	for chart, w := range want {
		g := got[chart]
		if len(g) != len(w) {
			return fmt.Sprintf("%s: %d points in the browser, %d in the API", chart, len(g), len(w))
		}
		for k, v := range w {
			if gv, ok := g[k]; !ok || gv != v {
				return fmt.Sprintf("%s %s: browser %v (present %v), API %v", chart, k, gv, ok, v)
			}
		}
	}
	return ""
}

func sum(m map[string]float64) float64 {
	s := 0.0
	for _, v := range m {
		s += v
	}
	return s
}

// checkMetrics parses /metrics with expfmt and finds the series the issue names.
func checkMetrics(t *testing.T, demo *demoProc) {
	t.Helper()
	res, err := http.Get(demo.url + "metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	parser := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := parser.TextToMetricFamilies(res.Body)
	if err != nil {
		t.Fatalf("expfmt cannot parse /metrics: %v", err)
	}
	tests := []struct {
		family string
		labels map[string]string
		min    float64 // the series' value (a histogram's count) must be at least this
	}{
		{web.MetricEventsIn, map[string]string{"processor": "activity"}, 1},
		{web.MetricEventsOut, map[string]string{"processor": "activity"}, 1},
		{web.MetricEventsIn, map[string]string{"processor": "transactions"}, 1},
		{web.MetricEventsOut, map[string]string{"processor": "transactions"}, 1},
		{web.MetricRejects, map[string]string{"processor": "transactions"}, 1}, // the generated history has dirt
		{web.MetricConsumerLag, map[string]string{"group": "shopease-activity"}, 0},
		{web.MetricTableDiskBytes, map[string]string{"table": "shopease-sales-table"}, 1},
		{web.MetricRecoveryRatio, map[string]string{"table": "shopease-sales-table"}, 1}, // recovered
		// The realtime processor's Redis client carries Metrics.RedisHook (cluster.Config.RedisHooks):
		// its sink has flushed by the time the realtime gauge is set.
		{web.MetricRedisFlush, map[string]string{"result": "ok"}, 1},
		{web.MetricRealtimeActive, nil, 1},
	}
	for _, tt := range tests {
		v, ok := findSeries(fams[tt.family], tt.labels)
		if !ok {
			t.Errorf("/metrics: no %s series with labels %v", tt.family, tt.labels)
			continue
		}
		if v < tt.min {
			t.Errorf("/metrics: %s%v = %v, want ≥ %v", tt.family, tt.labels, v, tt.min)
		}
	}
}

// findSeries returns the value of the first series of fam whose labels include labels (a
// histogram's sample count).
func findSeries(fam *dto.MetricFamily, labels map[string]string) (float64, bool) {
	if fam == nil {
		return 0, false
	}
next:
	for _, m := range fam.Metric {
		have := map[string]string{}
		for _, l := range m.Label {
			have[l.GetName()] = l.GetValue()
		}
		for k, v := range labels {
			if have[k] != v {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue(), true
		case m.Gauge != nil:
			return m.Gauge.GetValue(), true
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount()), true
		}
	}
	return 0, false
}
