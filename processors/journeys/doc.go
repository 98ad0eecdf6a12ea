// Package journeys joins each pseudonymous user's clickstream with their purchases and emits one
// journey per purchase: the session that led to it and what the user did in it.
//
// Input: shopease.clean.activity and shopease.clean.transactions, both keyed by the pseudonym and
// co-partitioned (EnsureOutputs checks the partition counts), so partition i of each meets in one
// processor partition and a user's state is one table value (User). Output: shopease.journeys
// (key: pseudonym; value: Journey, one per order of purchase lines).
//
// Sessions: the events carry the source's session id when it has one, and then the session is
// the events with the id of the last event before the purchase; otherwise a session ends after
// SessionGap (30 min) of inactivity. A purchase with no event within SessionGap before it has an
// empty session.
//
// Out-of-order arrival, the documented bound: the purchase lines of a user may arrive before the
// activity that preceded them (replay sends datasets one after another). A purchase is therefore
// held in the user's value (User.Pending) and released by whichever comes first:
//
//  1. the user's own activity passes the purchase time + Bound (= SessionGap, 30 min): the
//     session holding the purchase is over, and a user's activity arrives in event-time order
//     (one raw partition, files replayed in time order), so nothing that preceded it is missing;
//  2. the activity watermark of the user's partition passes the purchase time + Bound + Slack
//     (5 min) — for a user with no later activity. A clean partition interleaves every raw
//     activity partition at its own pace, so the watermark is the oldest of their clocks, and
//     exists only once all of them have reported. Each partition's schedule (a table key,
//     ScheduleKey) learns those clocks and the due purchases through the processor's loop topic
//     (Signal) and sends a flush to each user whose purchase is due.
//
// Activity older than an emitted journey's purchase is counted in User.LateActivity and changes
// nothing; lines of an emitted order are counted in User.LateLines. Purchases within Bound + Slack
// of the end of the activity seen so far stay pending (visible in the table) until it moves on.
//
// Exactness (package fence): the user value carries a fence of raw origins; a record already
// applied changes nothing. Because goka writes the table and the output independently, the
// journeys a record released are remembered with its origin (User.Done, for DoneKept of event
// time) and emitted again when that record is delivered again; a flush does the same by its loop
// position. Loop signals need no fence: adding a timer, moving a clock forward and releasing what
// is due are idempotent. A journey's identity is (user, order), so consumers keep one of equal
// copies.
package journeys
