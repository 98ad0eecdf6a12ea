package web

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"sync"
	"time"

	"github.com/lovoo/goka/storage"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/redis/go-redis/v9"
	"golang.org/x/sync/errgroup"

	"github.com/shopease/shopease/processors/cluster"
	"github.com/shopease/shopease/processors/outcome"
	"github.com/shopease/shopease/tables"
	"github.com/shopease/shopease/tables/inspect"
)

// ErrBadConfig is returned by Config.Validate for a config the server cannot run with.
var ErrBadConfig = errors.New("web: bad config")

// Config is what the server shows and where it listens.
type Config struct {
	// Addr is the listen address; a port of 0 picks a free one (Server.URL tells which). Keep it on
	// loopback unless a proxy in front adds authentication: the API serves table contents.
	Addr string
	// Cluster is the pipeline's cluster config: brokers and namespace for lag, views and reports,
	// RedisAddr and RedisKeyPrefix for the real-time values. The server keeps its own view state
	// under Cluster.DataDir/web.
	Cluster cluster.Config
	// Outcomes are the processors' counts (the Observer of Cluster); nil: none shown.
	Outcomes *outcome.Counts
	// Tables is the registry of the processors' storage builder; nil: no table metrics.
	Tables *tables.Registry
	// Metrics receive the hooks' reports (Redis flushes, snapshots); nil: a new one.
	Metrics *Metrics
	// LakeDir is shown on the dashboard (the Parquet lake of this pipeline), if set.
	LakeDir string
	// LagInterval is how often consumer lag is measured (default 5 s).
	LagInterval time.Duration
	// ReportInterval is how often the report tables are reread (default 10 s).
	ReportInterval time.Duration
	// Minutes is how many minutes the real-time charts show (default 60).
	Minutes int
	Logger  *slog.Logger
}

// Validate checks c and fills in defaults.
func (c *Config) Validate() error {
	if c.Addr == "" {
		return fmt.Errorf("%w: no listen address", ErrBadConfig)
	}
	if err := c.Cluster.Validate(); err != nil {
		return fmt.Errorf("%w: %w", ErrBadConfig, err)
	}
	if c.LagInterval < 0 || c.ReportInterval < 0 || c.Minutes < 0 {
		return fmt.Errorf("%w: negative interval or minutes", ErrBadConfig)
	}
	if c.LagInterval == 0 {
		c.LagInterval = 5 * time.Second
	}
	if c.ReportInterval == 0 {
		c.ReportInterval = 10 * time.Second
	}
	if c.Minutes == 0 {
		c.Minutes = 60
	}
	if c.Metrics == nil {
		c.Metrics = NewMetrics()
	}
	if c.Logger == nil {
		c.Logger = c.Cluster.Logger
	}
	return nil
}

// Server serves the dashboard, the API and the metrics of one pipeline process.
type Server struct {
	cfg      Config
	ln       net.Listener
	metrics  *Metrics
	registry *prometheus.Registry
	lag      lagCache
	reports  reportCache
	realtime realtimeReader
	rdb      *redis.Client

	viewsOnce sync.Once
	views     *inspect.ViewSource
	viewsErr  error
}

// Listen validates cfg and binds its address, so that the caller can print the URL before the
// pipeline starts; Run serves.
func Listen(cfg Config) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("web: listen on %s: %w", cfg.Addr, err)
	}
	s := &Server{cfg: cfg, ln: ln, metrics: cfg.Metrics}
	if cfg.Cluster.RedisAddr != "" {
		prefix := cfg.Cluster.RedisKeyPrefix
		if prefix == "" {
			prefix = "shopease:"
		}
		s.rdb = redis.NewClient(&redis.Options{Addr: cfg.Cluster.RedisAddr})
		s.realtime = realtimeReader{rdb: s.rdb, prefix: prefix}
	}
	s.registry = newRegistry(s)
	return s, nil
}

// URL is the dashboard's address, with the port actually bound.
func (s *Server) URL() string { return "http://" + s.ln.Addr().String() + "/" }

// Run serves until ctx is done, refreshing lag and reports in the background, then shuts the
// server down (waiting up to 5 s for requests in flight) and returns nil.
func (s *Server) Run(ctx context.Context) error {
	defer s.close()
	srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		if err := srv.Serve(s.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("web: serve: %w", err)
		}
		return nil
	})
	g.Go(func() error {
		<-gctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return srv.Shutdown(sctx)
	})
	g.Go(func() error {
		every(gctx, s.cfg.LagInterval, func() { s.lag.refresh(s.cfg.Cluster) })
		return nil
	})
	g.Go(func() error {
		rcfg := s.cfg.Cluster
		rcfg.DataDir = filepath.Join(s.cfg.Cluster.DataDir, "web")
		rcfg.Storage = func(dir string) storage.Builder { return tables.NewBuilder(dir) }
		every(gctx, s.cfg.ReportInterval, func() { s.reports.refresh(gctx, rcfg, 2*time.Minute) })
		return nil
	})
	return g.Wait()
}

// every calls f at once and then every d until ctx is done.
func every(ctx context.Context, d time.Duration, f func()) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		f()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (s *Server) close() {
	if s.views != nil {
		if err := s.views.Close(); err != nil {
			s.cfg.Logger.Warn("web: close table views", "err", err)
		}
	}
	if s.rdb != nil {
		_ = s.rdb.Close()
	}
}

// Handler returns the server's routes (also for tests with httptest).
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.registry, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", s.readyz)
	s.routeAPI(mux)
	s.routePages(mux)
	return mux
}

// Readiness is the answer of /readyz.
type Readiness struct {
	Ready  bool              `json:"ready"`
	Checks map[string]string `json:"checks"` // check → "ok" or why not
}

// readiness: every open table partition has recovered (so lookups are complete), the report
// tables have been read once (so every table topic exists and its view caught up) and the lag has
// been measured (so the brokers answer).
func (s *Server) readiness() Readiness {
	r := Readiness{Ready: true, Checks: map[string]string{}}
	fail := func(check, why string) { r.Ready, r.Checks[check] = false, why }
	if s.cfg.Tables != nil {
		stats := tableStats(s.cfg.Tables)
		waiting := 0
		for _, t := range stats {
			if !t.Recovered {
				waiting++
			}
		}
		switch {
		case len(stats) == 0:
			fail("tables", "no table partition open yet")
		case waiting > 0:
			fail("tables", fmt.Sprintf("%d of %d table partitions recovering", waiting, len(stats)))
		default:
			r.Checks["tables"] = "ok"
		}
	}
	if _, _, err := s.reports.get(); err != nil {
		fail("reports", err.Error())
	} else {
		r.Checks["reports"] = "ok"
	}
	lag := s.lag.get()
	switch {
	case lag.At.IsZero() && lag.Err != "":
		fail("lag", lag.Err)
	case lag.At.IsZero():
		fail("lag", "not measured yet")
	default:
		r.Checks["lag"] = "ok"
	}
	return r
}

func (s *Server) readyz(w http.ResponseWriter, _ *http.Request) {
	r := s.readiness()
	code := http.StatusOK
	if !r.Ready {
		code = http.StatusServiceUnavailable
	}
	writeJSON(w, code, r)
}
