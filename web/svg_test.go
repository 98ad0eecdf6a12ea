package web

import (
	"strings"
	"testing"
	"time"
)

func TestNiceCeil(t *testing.T) {
	tests := []struct{ in, want float64 }{
		{0, 1}, {-3, 1}, {0.3, 0.5}, {1, 1}, {1.2, 2}, {3, 5}, {7, 10}, {10, 10}, {11, 20}, {499, 500}, {501, 1000},
	}
	for _, tt := range tests {
		if got := niceCeil(tt.in); got != tt.want {
			t.Errorf("niceCeil(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestParseMinute(t *testing.T) {
	start := time.Date(2026, 11, 26, 15, 0, 0, 0, time.UTC)
	h := map[string]string{
		"p0:active": "2", "p1:active": "3", "active": "5", "p0:purchasers": "1", "purchasers": "1",
		"events": "40", "events:page_view": "30", "events:search": "10", "p1:events:search": "10",
		"conversion": "0.200000",
	}
	got, ok := parseMinute(start, h)
	want := Minute{Start: start, Active: 5, Purchasers: 1, Conversion: 0.2, Events: 40,
		EventsByType: map[string]int64{"page_view": 30, "search": 10}}
	if !ok || mustJSON(t, got) != mustJSON(t, want) {
		t.Fatalf("parseMinute = %s, %v; want %s", mustJSON(t, got), ok, mustJSON(t, want))
	}
	if _, ok := parseMinute(start, nil); ok {
		t.Fatal("an expired (empty) hash parsed as a minute")
	}
}

func TestChartEscapesText(t *testing.T) {
	c := chart{id: "chart-x", title: `<script>"x"</script>`, kind: barChart, keys: []string{`a"b`}, labels: []string{"<l>"},
		series: []chartSeries{{name: "s&t", values: []float64{2.5}}}, format: formatCount}
	var b strings.Builder
	if err := c.render(&b); err != nil {
		t.Fatal(err)
	}
	svg := b.String()
	for _, bad := range []string{"<script>", `"x"`, "<l>", `a"b`, "s&t"} {
		if strings.Contains(svg, bad) {
			t.Errorf("SVG holds unescaped %q", bad)
		}
	}
	if want := `class="point" data-series="s&amp;t" data-key="a&#34;b" data-value="2.5"`; !strings.Contains(svg, want) {
		t.Errorf("SVG lacks the point %s:\n%s", want, svg)
	}
}
