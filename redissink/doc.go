// Package redissink writes the real-time metrics to Redis: per-minute windows, each partition's
// share in fields that partition owns, with totals derived in Redis, and spike alerts.
//
// Writes are idempotent: every value written is absolute (never an INCR a retry could double),
// and a partition's field only ever moves up (a window's counts only grow), so writes commute — a
// replayed, retried or rebuilt write can land in any order and the result is the same. Changes are
// collected in memory (the latest value per window and partition) and flushed on a timer as one
// pipeline with one EVALSHA per changed minute: the number of Redis commands depends on the
// minutes that changed, not on the events.
//
// Redis down: flushes fail and are retried with backoff while changes keep merging into the
// pending set; once it holds MaxPending minutes, SetWindow blocks (back-pressure on the
// processor) until Redis answers again. Memory stays bounded and, as values are absolute, Redis
// converges to the exact values on the next successful flush. Redis emptied (restart without
// persistence, FLUSHALL): the sink notices its marker key is gone and calls the Rebuild hook,
// which re-sends every window from the processor's state.
//
// docs/redis.md gives the key schema.
package redissink
