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
// One group table holds four kinds of keys, each written only by its own stage; stages talk over
// goka's loopback topic:
//
//	<pseudonym>      user stage: the user's recent windows, with the origin of the event that first
//	                 made the user active (and a purchaser) in each, and a fence over origins
//	~part/<N>        partition stage: partition N's open windows (package windows: watermark over
//	                 origin sources, grace, closed frontier, fence)
//	~minute/<start>  a closed window: each partition's counts at close plus late events on top
//	~spikes          the spike detector over all partitions (SpikeRule)
//
// Exactly once under at-least-once delivery: each event carries its raw origin (package fence).
// The user stage admits an origin once per user; a redelivered event sends the same note again —
// "is this the event that made the user count?" is answered by comparing origins, which gives the
// same answer on every delivery — and the partition stage's fence drops the copy. Closed windows
// and late events are fenced the same way, and the spike detector only moves each partition's
// frontier forward. Each closed window is reported to the detector by itself, with the
// window's end as the frontier, so the loop records do not depend on how far the watermark jumped.
//
// Late events: an event whose window has closed in its partition goes to shopease.late and is
// still added to the closed window (so Redis stays exact), but spike decisions are final once
// made. Events older than Settings.Retention behind their user's latest event of the same input
// are dropped (also to shopease.late, marked dropped). A partition keeps at most a day of windows
// open (windows.Config.MaxOpen): when an upstream partition lags further, the oldest windows
// close early and its events for them arrive late.
//
// Spikes: see SpikeRule. A minute is judged once every partition has closed it; a partition with
// no events at all holds the detector back (its watermark does not exist).
//
// Redis: every change of a window's per-partition counts goes to the Sink; RunWith wires the
// Redis sink, rebuilds Redis from the table at start (a crash loses unflushed changes from memory,
// never from the table) and whenever Redis loses its data.
package realtime
