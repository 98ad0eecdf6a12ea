// Package windows assigns events to event-time tumbling windows and decides, from per-partition
// watermarks and a grace period, when a window is complete — the windowing goka lacks
// (lovoo/goka#99).
//
// A State belongs to one processor partition and is stored as a goka table value, so a restart
// resumes with the same open windows, watermark and fences. Each record is admitted once
// (fence.Vector over its origin: a redelivery is a Duplicate), assigned the window that contains
// its event time, and judged Late when that window has already closed.
//
// Watermark. Records reach a partition from several origin sources (raw topic partitions, read by
// the gateways at their own pace), each roughly in event-time order. The watermark is the minimum
// over the sources of the highest event time each has delivered, so a fast source cannot close a
// window a slow one still feeds. A source that has been silent for Config.Idle (wall clock, from
// the injectable Clock, kept in memory and started afresh with the process, never stored: a
// restarted run stores what an undisturbed one does) stops holding the watermark back; each input must have been heard from by as
// many sources as Config.Expect says (or the partition must be older than Idle) before the
// watermark exists at all, so a source the upstream processor has not reached yet cannot be
// overtaken.
//
// Close. A window [s, s+Size) closes once watermark − Grace ≥ s+Size. Windows close in start
// order; Close returns them with their aggregates and forgets them.
package windows
