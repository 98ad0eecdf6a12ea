// Package windows assigns events to event-time tumbling windows and decides, from per-source
// clocks and a grace period, when a window is complete — the windowing goka lacks
// (lovoo/goka#99). Every decision follows event time only: no wall clock, no idle rule, so a run
// killed and restarted decides what an undisturbed run does.
//
// Sources. Records reach a processor partition from several origin sources (raw topic
// partitions, read by the gateways at their own pace), each in event-time order. A partition's
// Clocks hold, per source, the start of the latest window the source has reached (and of the
// first one), told by the processor in batched signals: one per source per window, not per
// record. Clocks only move forward, so a signal delivered twice, or again after a restart,
// changes nothing.
//
// Watermark and close. Once every expected source has reported, the watermark is the oldest of
// the source clocks; a window [s, s+Size) closes once watermark ≥ s + Size + Grace. The first
// window a partition can close (Clocks.Start) is the oldest source's first window, less the
// grace, so that a record out of order within the grace still finds an open window. Windows
// close in start order, every one of them — empty ones included — so that downstream stages see
// a gap-free sequence. Windows after the watermark stay open until more input arrives.
//
// What may still be late: a record whose own source had already passed its window by more than
// Grace (out of order in its raw partition beyond the grace) arrives late or not depending on
// how far the other sources have come; with every raw partition in event-time order within the
// grace, no record is late and lateness depends on content alone.
package windows
