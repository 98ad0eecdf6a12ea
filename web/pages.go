package web

import (
	"context"
	"embed"
	"errors"
	"io/fs"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/shopease/shopease/reports"
)

//go:embed assets
var assets embed.FS

// Chart names under /charts/{name}.svg.
const (
	ChartActive     = "active"     // active users per minute (bars)
	ChartConversion = "conversion" // purchasers / active per minute (line)
	ChartEvents     = "events"     // activity events per minute and type (lines)
	ChartRevenue    = "revenue"    // net revenue per month (bars)
	ChartProcessors = "processors" // records read per processor (bars)
)

func (s *Server) routePages(mux *http.ServeMux) {
	static, err := fs.Sub(assets, "assets")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	files := http.FileServerFS(static)
	mux.Handle("GET /assets/", http.StripPrefix("/assets/", files))
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		http.ServeFileFS(w, r, static, "index.html")
	})
	mux.HandleFunc("GET /charts/{file}", s.chartSVG)
}

func (s *Server) chartSVG(w http.ResponseWriter, r *http.Request) {
	name, ok := strings.CutSuffix(r.PathValue("file"), ".svg")
	if !ok {
		http.NotFound(w, r)
		return
	}
	c, err := s.chart(r.Context(), name)
	switch {
	case errors.Is(err, errUnknownChart):
		writeError(w, http.StatusNotFound, err)
		return
	case err != nil:
		writeError(w, statusOf(err), err)
		return
	}
	w.Header().Set("Content-Type", "image/svg+xml")
	w.Header().Set("Cache-Control", "no-store")
	if err := c.render(w); err != nil {
		s.cfg.Logger.Debug("web: write chart", "chart", name, "err", err)
	}
}

var errUnknownChart = errors.New("unknown chart: want active, conversion, events, revenue or processors")

func (s *Server) chart(ctx context.Context, name string) (chart, error) {
	switch name {
	case ChartActive, ChartConversion, ChartEvents:
		ms, err := s.realtime.minutes(ctx, s.cfg.Minutes)
		if err != nil {
			return chart{}, err
		}
		return minuteChart(name, ms), nil
	case ChartRevenue:
		d, _, err := s.reports.get()
		if err != nil {
			return chart{}, err
		}
		return revenueChart(reports.MonthlyRevenue(d, time.Time{})), nil
	case ChartProcessors:
		return processorChart(processorStats(s.cfg.Outcomes)), nil
	}
	return chart{}, errUnknownChart
}

// minuteChart draws one of the per-minute charts; keys are the minutes' starts (RFC 3339), as
// /api/realtime gives them.
func minuteChart(name string, ms []Minute) chart {
	c := chart{id: "chart-" + name, format: formatCount}
	for _, m := range ms {
		c.keys = append(c.keys, m.Start.Format(time.RFC3339))
		c.labels = append(c.labels, m.Start.Format("15:04"))
	}
	switch name {
	case ChartActive:
		c.title, c.kind = "Active users per minute", barChart
		s := chartSeries{name: "active"}
		for _, m := range ms {
			s.values = append(s.values, float64(m.Active))
		}
		c.series = []chartSeries{s}
	case ChartConversion:
		c.title, c.kind, c.format = "Conversion per minute (purchasers / active users)", lineChart, formatPercent
		s := chartSeries{name: "conversion"}
		for _, m := range ms {
			s.values = append(s.values, m.Conversion)
		}
		c.series = []chartSeries{s}
	default:
		c.title, c.kind = "Activity events per minute, by type", lineChart
		types := map[string]bool{}
		for _, m := range ms {
			for t := range m.EventsByType {
				types[t] = true
			}
		}
		for _, t := range sortedKeys(types) {
			s := chartSeries{name: t}
			for _, m := range ms {
				s.values = append(s.values, float64(m.EventsByType[t]))
			}
			c.series = append(c.series, s)
		}
	}
	return c
}

// revenueChart draws net revenue per month from the monthly revenue report.
func revenueChart(rows []reports.MonthRow) chart {
	c := chart{id: "chart-revenue", title: "Net revenue per month", kind: barChart, format: formatCount}
	s := chartSeries{name: "net"}
	for _, r := range rows {
		c.keys = append(c.keys, r.Month)
		c.labels = append(c.labels, r.Month)
		s.values = append(s.values, r.Net.Float())
	}
	c.series = []chartSeries{s}
	return c
}

// processorChart draws the records each processor read.
func processorChart(ps []ProcessorStats) chart {
	sort.Slice(ps, func(i, j int) bool { return ps[i].Processor < ps[j].Processor })
	c := chart{id: "chart-processors", title: "Records read per processor", kind: barChart, format: formatCount}
	s := chartSeries{name: "in"}
	for _, p := range ps {
		c.keys = append(c.keys, p.Processor)
		c.labels = append(c.labels, p.Processor)
		s.values = append(s.values, float64(p.In))
	}
	c.series = []chartSeries{s}
	return c
}
