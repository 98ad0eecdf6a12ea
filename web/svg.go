package web

import (
	"fmt"
	"html"
	"io"
	"math"
	"strconv"
	"strings"
)

// Charts are drawn on the server as SVG: no JavaScript library to vendor and keep, and the
// numbers in the picture come from the same code path as the JSON API. Every data point is an
// element of class "point" carrying data-series, data-key and data-value (the exact value,
// strconv 'f' -1), so a browser test can compare the drawing with the API.

const (
	chartW, chartH                     = 640, 220
	padLeft, padRight, padTop, padBott = 56, 12, 28, 36
)

// chartKind is how a chart draws its series.
type chartKind int

const (
	barChart  chartKind = iota // one series as bars
	lineChart                  // any number of series as lines with point markers
)

type chartSeries struct {
	name   string
	color  string
	values []float64 // one per key
}

type chart struct {
	id     string
	title  string
	kind   chartKind
	keys   []string // x positions: data-key of the points
	labels []string // x axis labels, one per key (drawn sparsely)
	series []chartSeries
	format func(float64) string // y axis and tooltip numbers
}

// palette of the series, colour-blind safe (Okabe–Ito).
var palette = []string{"#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"}

func (c chart) max() float64 {
	m := 0.0
	for _, s := range c.series {
		for _, v := range s.values {
			m = max(m, v)
		}
	}
	return niceCeil(m)
}

// niceCeil rounds m up to 1, 2 or 5 times a power of ten (0 stays 1 so an empty chart has an axis).
func niceCeil(m float64) float64 {
	if m <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(m)))
	for _, f := range []float64{1, 2, 5, 10} {
		if f*p >= m {
			return f * p
		}
	}
	return 10 * p
}

func (c chart) render(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" id="%s" class="chart" viewBox="0 0 %d %d" role="img" aria-label="%s">`,
		attr(c.id), chartW, chartH, attr(c.title))
	fmt.Fprintf(&b, `<text class="title" x="%d" y="18">%s</text>`, padLeft, html.EscapeString(c.title))
	top, plotW, plotH := c.max(), float64(chartW-padLeft-padRight), float64(chartH-padTop-padBott)
	y := func(v float64) float64 { return padTop + plotH - v/top*plotH }
	for i := 0; i <= 4; i++ {
		v := top * float64(i) / 4
		fmt.Fprintf(&b, `<line class="grid" x1="%d" x2="%d" y1="%.1f" y2="%.1f"/>`, padLeft, chartW-padRight, y(v), y(v))
		fmt.Fprintf(&b, `<text class="axis" x="%d" y="%.1f" text-anchor="end">%s</text>`, padLeft-6, y(v)+4, html.EscapeString(c.format(v)))
	}
	n := len(c.keys)
	if n == 0 {
		fmt.Fprintf(&b, `<text class="empty" x="%d" y="%d" text-anchor="middle">no data yet</text></svg>`, chartW/2, chartH/2)
		_, err := io.WriteString(w, b.String())
		return err
	}
	step := plotW / float64(n)
	x := func(i int) float64 { return padLeft + step*(float64(i)+0.5) }
	labelEvery := max(1, n/6)
	for i, l := range c.labels {
		if i%labelEvery == 0 || i == n-1 {
			fmt.Fprintf(&b, `<text class="axis" x="%.1f" y="%d" text-anchor="middle">%s</text>`, x(i), chartH-padBott+16, html.EscapeString(l))
		}
	}
	for si, s := range c.series {
		color := s.color
		if color == "" {
			color = palette[si%len(palette)]
		}
		if c.kind == lineChart {
			var pts []string
			for i, v := range s.values {
				pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(i), y(v)))
			}
			fmt.Fprintf(&b, `<polyline class="line" fill="none" stroke="%s" stroke-width="2" points="%s"/>`, color, strings.Join(pts, " "))
		}
		for i, v := range s.values {
			tip := fmt.Sprintf("%s %s: %s", s.name, c.labels[i], c.format(v))
			data := fmt.Sprintf(`class="point" data-series="%s" data-key="%s" data-value="%s"`, attr(s.name), attr(c.keys[i]), formatExact(v))
			if c.kind == barChart {
				bw := max(1, step*0.8)
				fmt.Fprintf(&b, `<rect %s x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s</title></rect>`,
					data, x(i)-bw/2, y(v), bw, padTop+plotH-y(v), color, html.EscapeString(tip))
			} else {
				fmt.Fprintf(&b, `<circle %s cx="%.1f" cy="%.1f" r="2.5" fill="%s"><title>%s</title></circle>`,
					data, x(i), y(v), color, html.EscapeString(tip))
			}
		}
	}
	if len(c.series) > 1 {
		for si, s := range c.series {
			color := s.color
			if color == "" {
				color = palette[si%len(palette)]
			}
			lx := padLeft + 8 + si*(chartW-padLeft)/len(c.series)
			fmt.Fprintf(&b, `<rect x="%d" y="%d" width="10" height="10" fill="%s"/><text class="legend" x="%d" y="%d">%s</text>`,
				lx, chartH-14, color, lx+14, chartH-5, html.EscapeString(s.name))
		}
	}
	b.WriteString(`</svg>`)
	_, err := io.WriteString(w, b.String())
	return err
}

func attr(s string) string { return html.EscapeString(s) }

// formatExact writes v so that parsing it gives v back.
func formatExact(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

func formatCount(v float64) string {
	switch {
	case v >= 1e6:
		return strconv.FormatFloat(v/1e6, 'f', -1, 64) + "M"
	case v >= 1e4:
		return strconv.FormatFloat(v/1e3, 'f', -1, 64) + "k"
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

func formatPercent(v float64) string { return strconv.FormatFloat(v*100, 'f', 1, 64) + "%" }
