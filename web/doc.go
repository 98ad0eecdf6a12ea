// Package web is the HTTP face of a running ShopEase pipeline (`shopease run` and `shopease
// demo`): a live dashboard page, a JSON API, Prometheus metrics and health probes.
//
// Endpoints (see Server.Handler):
//
//	GET /                            the dashboard (HTML + JS embedded in the binary; no CDN)
//	GET /charts/{name}.svg           charts drawn on the server as SVG: active, conversion, events
//	GET /api/dashboard               everything the page shows, as one JSON document
//	GET /api/realtime?minutes=N      per-minute real-time values from Redis (docs/redis.md)
//	GET /api/alerts                  recent spike alerts
//	GET /api/metrics                 processor outcomes, consumer lag, tables, Redis sink
//	GET /api/reports/{name}?as_of=D  top-products, monthly-revenue, inventory-turnover (live)
//	GET /api/tables                  the group tables; /api/tables/{table}/{key}: one value via a view
//	GET /metrics                     Prometheus text format
//	GET /healthz, /readyz            liveness; readiness (tables recovered, lag known)
//
// Every number is read at request time from the pipeline's own sources, never counted twice:
// outcome.Counts (the processors' Observer), tables.Registry (table sizes and recovery progress),
// cluster.Config.Lag (consumer lag, refreshed in the background), Redis (the realtime processor's
// per-minute values) and goka views (reports and key lookups). The Redis sink and the snapshotter
// report through hooks (Metrics.ObserveRedisFlush, Metrics.ObserveSnapshot), so those packages
// never import a metrics backend.
package web
