package web

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/lovoo/goka"

	"github.com/shopease/shopease/processors"
	"github.com/shopease/shopease/reports"
	"github.com/shopease/shopease/tables/inspect"
)

// Names of the reports under /api/reports/{name}, as `shopease report` names them.
const (
	ReportTopProducts       = "top-products"
	ReportMonthlyRevenue    = "monthly-revenue"
	ReportInventoryTurnover = "inventory-turnover"
)

func (s *Server) routeAPI(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/dashboard", s.apiDashboard)
	mux.HandleFunc("GET /api/realtime", s.apiRealtime)
	mux.HandleFunc("GET /api/alerts", s.apiAlerts)
	mux.HandleFunc("GET /api/metrics", s.apiMetrics)
	mux.HandleFunc("GET /api/reports/{name}", s.apiReport)
	mux.HandleFunc("GET /api/tables", s.apiTables)
	mux.HandleFunc("GET /api/tables/{table}/{key}", s.apiTableGet)
}

// apiError is the body of every error answer.
type apiError struct {
	Error string `json:"error"`
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v) // the client went away: nothing to tell it
}

func writeError(w http.ResponseWriter, code int, err error) {
	writeJSON(w, code, apiError{Error: err.Error()})
}

// statusOf maps the sources' errors to HTTP codes: missing configuration or data not loaded yet is
// 503 (try later / elsewhere), anything else 502 (a backend failed).
func statusOf(err error) int {
	switch {
	case errors.Is(err, ErrNoRedis), errors.Is(err, ErrNoReports):
		return http.StatusServiceUnavailable
	default:
		return http.StatusBadGateway
	}
}

// MetricsDoc is the answer of /api/metrics: the same numbers as /metrics, as JSON.
type MetricsDoc struct {
	Processors []ProcessorStats `json:"processors"`
	Lag        Lag              `json:"lag"`
	Tables     []TableStats     `json:"tables"`
}

func (s *Server) metricsDoc() MetricsDoc {
	return MetricsDoc{Processors: processorStats(s.cfg.Outcomes), Lag: s.lag.get(), Tables: tableStats(s.cfg.Tables)}
}

func (s *Server) apiMetrics(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, s.metricsDoc())
}

func (s *Server) minutesParam(r *http.Request) (int, error) {
	q := r.URL.Query().Get("minutes")
	if q == "" {
		return s.cfg.Minutes, nil
	}
	n, err := strconv.Atoi(q)
	if err != nil || n <= 0 || n > 24*60 {
		return 0, errors.New("minutes: want 1..1440")
	}
	return n, nil
}

func (s *Server) apiRealtime(w http.ResponseWriter, r *http.Request) {
	n, err := s.minutesParam(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	ms, err := s.realtime.minutes(r.Context(), n)
	if err != nil {
		writeError(w, statusOf(err), err)
		return
	}
	writeJSON(w, http.StatusOK, ms)
}

func (s *Server) apiAlerts(w http.ResponseWriter, r *http.Request) {
	as, err := s.realtime.alerts(r.Context(), 50)
	if err != nil {
		writeError(w, statusOf(err), err)
		return
	}
	writeJSON(w, http.StatusOK, as)
}

// report computes report name from the cached tables as of asOf (zero: the newest event time).
func (s *Server) report(name string, asOf time.Time) (any, error) {
	d, _, err := s.reports.get()
	if err != nil {
		return nil, err
	}
	switch name {
	case ReportTopProducts:
		return reports.TopProducts(d, asOf), nil
	case ReportMonthlyRevenue:
		return reports.MonthlyRevenue(d, asOf), nil
	case ReportInventoryTurnover:
		return reports.InventoryTurnover(d, asOf), nil
	}
	return nil, errUnknownReport
}

var errUnknownReport = errors.New("unknown report: want top-products, monthly-revenue or inventory-turnover")

func (s *Server) apiReport(w http.ResponseWriter, r *http.Request) {
	var asOf time.Time
	if q := r.URL.Query().Get("as_of"); q != "" {
		t, err := time.Parse("2006-01-02", q)
		if err != nil {
			writeError(w, http.StatusBadRequest, errors.New("as_of: want YYYY-MM-DD"))
			return
		}
		asOf = t
	}
	v, err := s.report(r.PathValue("name"), asOf)
	switch {
	case errors.Is(err, errUnknownReport):
		writeError(w, http.StatusNotFound, err)
	case err != nil:
		writeError(w, statusOf(err), err)
	default:
		writeJSON(w, http.StatusOK, v)
	}
}

// TableDoc describes one group table in /api/tables.
type TableDoc struct {
	Group     string `json:"group"`
	Topic     string `json:"topic"`
	Doc       string `json:"doc"`
	DiskBytes uint64 `json:"disk_bytes"` // local partitions of this process
}

func (s *Server) apiTables(w http.ResponseWriter, _ *http.Request) {
	disk := map[string]uint64{}
	for _, t := range tableStats(s.cfg.Tables) {
		disk[t.Table] += t.DiskBytes
	}
	ns := s.cfg.Cluster.Namespace
	var out []TableDoc
	for _, t := range processors.Tables {
		topic := string(ns.Table(t.Group))
		out = append(out, TableDoc{Group: string(ns.Group(t.Group)), Topic: topic, Doc: t.Doc, DiskBytes: disk[topic]})
	}
	writeJSON(w, http.StatusOK, out)
}

// apiTableGet reads one key through a goka view (started on first use and kept running, so later
// lookups are served from its local copy) and answers `shopease inspect get`'s JSON.
func (s *Server) apiTableGet(w http.ResponseWriter, r *http.Request) {
	t, ok := processors.FindTable(s.cfg.Cluster.Namespace, r.PathValue("table"))
	if !ok {
		writeError(w, http.StatusNotFound, errors.New("no such table: see /api/tables"))
		return
	}
	src, err := s.viewSource()
	if err != nil {
		writeError(w, http.StatusInternalServerError, err)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), time.Minute)
	defer cancel()
	rec, found, err := src.Get(ctx, string(s.cfg.Cluster.Namespace.Table(t.Group)), r.PathValue("key"))
	if err != nil {
		writeError(w, http.StatusBadGateway, err)
		return
	}
	if !found {
		writeError(w, http.StatusNotFound, errors.New("no such key"))
		return
	}
	b, err := inspect.JSON(t.Codec, rec)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(append(b, '\n'))
}

func (s *Server) viewSource() (*inspect.ViewSource, error) {
	s.viewsOnce.Do(func() {
		cfg := s.cfg.Cluster
		dir := filepath.Join(cfg.DataDir, "web", "lookups")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			s.viewsErr = err
			return
		}
		s.views, s.viewsErr = inspect.NewViewSource(cfg.Brokers, inspect.WithViewStorageDir(dir),
			inspect.WithGokaViewOptionsFunc(func(table string) []goka.ViewOption { return cfg.ViewOptions(goka.Table(table)) }))
	})
	return s.views, s.viewsErr
}

// Dashboard is the answer of /api/dashboard: everything the page shows in one document, so one
// poll updates the whole page consistently.
type Dashboard struct {
	Now         time.Time    `json:"now"`
	LakeDir     string       `json:"lake_dir,omitempty"`
	Ready       Readiness    `json:"ready"`
	Metrics     MetricsDoc   `json:"metrics"`
	Minutes     []Minute     `json:"minutes"`
	Alerts      []Alert      `json:"alerts"`
	Realtime    string       `json:"realtime_error,omitempty"`
	ReportsAt   time.Time    `json:"reports_loaded_at"`
	ReportsErr  string       `json:"reports_error,omitempty"`
	TopProducts *reports.Top `json:"top_products,omitempty"`
	// TopProductsNote is "month to date" when the last complete month had no sales.
	TopProductsNote string                `json:"top_products_note,omitempty"`
	Revenue         []reports.MonthRow    `json:"monthly_revenue,omitempty"`
	Turnover        []reports.TurnoverRow `json:"inventory_turnover,omitempty"` // the newest month's, most units first, at most 10
}

func (s *Server) dashboard(ctx context.Context) Dashboard {
	d := Dashboard{Now: time.Now().UTC(), LakeDir: s.cfg.LakeDir, Ready: s.readiness(), Metrics: s.metricsDoc()}
	var err error
	if d.Minutes, err = s.realtime.minutes(ctx, s.cfg.Minutes); err == nil {
		d.Alerts, err = s.realtime.alerts(ctx, 20)
	}
	if err != nil {
		d.Realtime = err.Error()
	}
	data, at, err := s.reports.get()
	if err != nil {
		d.ReportsErr = err.Error()
		return d
	}
	top := reports.TopProducts(data, time.Time{})
	if latest := data.Latest(); len(top.Rows) == 0 && !latest.IsZero() {
		// The demo's live traffic starts a month with no complete month before it (the replayed
		// history is older): show the month so far rather than an empty table.
		top, d.TopProductsNote = reports.TopProductsOf(data, latest.Format("2006-01")), "month to date"
	}
	d.ReportsAt, d.TopProducts = at, &top
	d.Revenue = reports.MonthlyRevenue(data, time.Time{})
	d.Turnover = newestTurnover(reports.InventoryTurnover(data, time.Time{}), 10)
	return d
}

// newestTurnover keeps the rows of the newest month, most units sold first, at most n.
func newestTurnover(rows []reports.TurnoverRow, n int) []reports.TurnoverRow {
	if len(rows) == 0 {
		return nil
	}
	month := rows[len(rows)-1].Month // ordered by month then product
	var out []reports.TurnoverRow
	for _, r := range rows {
		if r.Month == month {
			out = append(out, r)
		}
	}
	slices.SortStableFunc(out, func(a, b reports.TurnoverRow) int { return cmp.Compare(b.UnitsSold, a.UnitsSold) })
	return out[:min(n, len(out))]
}

func (s *Server) apiDashboard(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.dashboard(r.Context()))
}
