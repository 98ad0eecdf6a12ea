package cli

import (
	"flag"

	"github.com/shopease/shopease/compaction"
	"github.com/shopease/shopease/processors/cluster"
	"github.com/shopease/shopease/processors/outcome"
	"github.com/shopease/shopease/tables"
	"github.com/shopease/shopease/web"
)

// Default --http addresses. The demo serves its dashboard by default; `run` serves only when
// asked, because several instances on one machine (scaling out, the fault tests) would fight
// over one default port.
const (
	demoHTTPAddr = "127.0.0.1:8080"
	runHTTPAddr  = "" // e.g. 127.0.0.1:9090
)

// httpFlags is the --http flag of `run` and `demo`: the dashboard, JSON API and /metrics.
type httpFlags struct {
	addr string
}

func (h *httpFlags) register(fs *flag.FlagSet, def string) {
	fs.StringVar(&h.addr, "http", def, "serve the dashboard, JSON API, /metrics, /healthz and /readyz on this address (host:port; port 0 picks one; empty: no server)")
}

// pipelineWeb is the server of a pipeline process and the sources it reads; a zero value (no
// --http) serves nothing and adds no per-record cost (no Observer).
type pipelineWeb struct {
	srv     *web.Server
	counts  *outcome.Counts
	tables  *tables.Registry
	metrics *web.Metrics
}

// observe makes cfg report to the server's sources; call it before the storage and the server
// are built from cfg.
func (h *httpFlags) observe(cfg *cluster.Config) pipelineWeb {
	if h.addr == "" {
		return pipelineWeb{}
	}
	pw := pipelineWeb{counts: &outcome.Counts{}, tables: tables.NewRegistry(), metrics: web.NewMetrics()}
	cfg.Observer = pw.counts
	cfg.RedisHooks = append(cfg.RedisHooks, pw.metrics.RedisHook()) // the realtime sink's pipelines
	return pw
}

// listen binds the server, so that its URL can be printed before the pipeline starts.
func (pw *pipelineWeb) listen(addr string, cfg cluster.Config, lakeDir string) error {
	if pw.counts == nil {
		return nil
	}
	srv, err := web.Listen(web.Config{Addr: addr, Cluster: cfg, Outcomes: pw.counts, Tables: pw.tables,
		Metrics: pw.metrics, LakeDir: lakeDir, Logger: cfg.Logger})
	if err != nil {
		return err
	}
	pw.srv = srv
	return nil
}

// observeSnapshot is the snapshots' progress hook (nil without a server).
func (pw pipelineWeb) observeSnapshot(p compaction.Progress) {
	if pw.metrics != nil {
		pw.metrics.ObserveSnapshot(p)
	}
}
