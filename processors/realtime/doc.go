// Package realtime is processor 7: per-minute metrics of the clickstream and purchases in event
// time — active users, purchasers, conversion, events per type — and spike alerts, written to
// Redis (package redissink) and to shopease.alerts.
//
// Inputs: shopease.clean.activity and shopease.clean.transactions (purchase lines only), both keyed
// by pseudonymous user and co-partitioned, so every event of a user reaches one partition and the
// per-partition distinct counts add up to the global ones.
//
// Definitions (../shared/DESIGN.md): active users of [t, t+60 s) = distinct users with ≥ 1 activity
// event in it; purchasers = distinct users with ≥ 1 purchase line in it (they need not be active);
// conversion = purchasers / active users; events per type count activity events.
//
// One group table holds five kinds of keys, each written only by its own stage; stages talk over
// goka's loopback topic. Every row is small, and per event only two are touched (the user's and
// its minute's):
//
//	<pseudonym>        user stage: per recent window, the smallest origin of the user's activity
//	                   in it and the events counted in it (User: hashed event id → first origin);
//	                   a fence over origins
//	~w/<N>/<start>     partition N's share of one minute (Minute): events per type, active users,
//	                   the purchasers' set, whether N's watermark has closed it, late events
//	~part/<N>          partition N's raw activity source clocks and closed frontier (windows.Clocks)
//	~m/<start>         one minute over all partitions: which have closed it, their activity (Global)
//	~spikes            the spike detector (SpikeState, SpikeRule)
//
// Flow: an activity event updates its user's row and sends one note to its minute; once per raw
// source and window, the user stage also tells the partition's clocks how far the source has
// come. A purchase line goes straight to its minute's purchasers' set. When every raw activity
// partition has passed a window by the grace, the partition closes it (windows.Close: every
// minute, empty ones too); the minute reports the activity it closed with to the global minute,
// which, once every partition has reported, hands it to the spike detector; minutes are judged
// in order.
//
// Exact under at-least-once delivery and SIGKILL — every decision follows the inputs' content:
//   - distinct users: a user's clickstream is one raw partition's (the raw topic is keyed by
//     user), in order, so the first of the user's events in a window to arrive is its smallest
//     origin, in every run; a redelivered event recognises itself by its origin and sends the
//     same note again, which the minute's fence (package fence) drops when it has it. Purchase
//     lines of one user come from several raw partitions in any order: purchasers are a set of
//     pseudonyms per partition and minute, which no order or repetition changes.
//   - the same history on the raw topic more than once (`replay --force`, a renamed copy, replays
//     that do not share a manifest) puts each event at two or three offsets of its user's raw
//     partition, and the gateway passes every copy on. The user stage remembers, per window
//     within the retention, each counted event's id (8-byte hash) and the origin that first
//     carried it: a later event with that id is a copy — no note to the minute, outcome
//     duplicate; its source's clock still ticks. The first copy to arrive is the smallest
//     origin, in every run. A redelivered record sends its note again only when it is the
//     origin that was counted: a copy's note, past the minute's fence, would be counted.
//     Event ids are forgotten with their window, so a copy more than the retention behind its
//     user's newest event is dropped as such an event is (below).
//   - windows close on event time only: per raw source clocks (no wall clock, no idle rule),
//     the oldest of them less the grace. Signals, closes, reports and completions are sent again
//     after a restart (in-memory bookkeeping starts afresh; the first signal a partition gets in
//     a process closes its last day of windows again); each is idempotent where it lands, and a
//     judged minute sent again re-emits its alerts.
//   - late events: an activity event that reaches its minute after the minute closed is counted
//     (Redis stays exact), sent to shopease.late and left out of the spike decision. With every
//     raw partition in event-time order within the grace (2 min) no event is late; one out of
//     order by more than that is late or not depending on how far the other raw partitions had
//     come (package windows).
//   - retention: activity more than Settings.Retention (7 days) of event time behind its user's
//     newest event is dropped (shopease.late, marked dropped). Purchase lines are always counted.
//
// End of input: windows after the watermark stay open until more input arrives, so the last
// minutes of a replayed history are in Redis (their counts are exact) but not yet judged for
// spikes. Minutes before the latest partition's first closed window are not judged either: not
// every partition closes them.
//
// Outcomes (cluster.Config.Observer, processor "realtime"): each activity event read is accepted,
// a duplicate (a copy, above) or beyond_retention; redeliveries are not counted again.
//
// Redis: every change of a minute's counts goes to the Sink; RunWith wires the Redis sink,
// rebuilds Redis from the table at start (a crash loses unflushed changes from memory, never from
// the table) and whenever Redis loses its data. A write the local table holds but the changelog
// does not (SIGKILL) reaches Redis when its record is redelivered: a minute that finds a note
// applied before sends its counts to the sink again. docs/redis.md has the key schema.
package realtime
