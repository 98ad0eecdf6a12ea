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
// The rule: a journey depends only on the inputs' content, never on the order in which the two
// inputs (and the loop) interleave, nor on redelivery. A purchase is held in the user's value
// (User.Pending) until both of these hold, whatever arrives in between:
//
//  1. the order is complete: every raw transactions partition has delivered to the user's
//     partition a purchase line of a greater order id (the partition's order mark). An order's
//     lines are spread over raw partitions (keyed by line id), but each raw partition delivers
//     orders in order-id order (files replay in order, an order's lines are consecutive rows);
//  2. no activity at or before the purchase can still come: the user's own activity has passed
//     the purchase time + Bound (= SessionGap, 30 min; a user's activity arrives in event-time
//     order, one raw partition), or the partition's activity watermark — the oldest of its raw
//     activity partitions' clocks, each rounded down to ClockStep — has passed it + Bound + Slack.
//
// Each partition's schedule (a table key, ScheduleKey) learns through the processor's loop topic
// (Signal) the sources' clocks and order ids, each user's pending orders (due) and when their own
// activity passed them (passed); when an order is ready it removes the order's timer and flushes
// the user with it, once. Only that flush releases the journey, and the journey is stamped with
// the smallest raw origin of the order's lines (Purchase.Origin), so it is the same record in
// every run. Activity is kept for Retain (a year) behind the user's newest event and for Keep
// (7 days) before each pending purchase, and a journey sees the Keep before its purchase only:
// cuts that depend on nothing else (a history replay sends the activity first, and the loop may
// lag it by days before a flush comes).
//
// End of input (end.go): a finite input would leave the last order of each partition pending
// until a greater order id arrives from every source, and purchases within Bound + Slack of the
// end of the activity seen so far. `shopease replay` ends a run with an end-of-input marker on
// every raw partition it wrote, which the gateways forward to every clean partition after the
// records before it. Once every source of both inputs has delivered a marker after its last
// record, and as new as any marker announced for it, the partition is at the end of its input:
// nothing a pending order needs can still come, and every pending order is released — the same
// journeys whatever the arrival order, because they follow from the records before the markers.
// A record after a marker (a later replay) resumes the rules above until its own markers.
//
// Outside the bounds (activity later than Bound after a released purchase, a line of a released
// order) a record changes no journey and is counted in the metrics LateActivity and LateLine, not
// in the table: whether it came before or after the release depends on arrival.
//
// The user value is read and written on every record of its user and holds up to Keep of their
// activity, so UserCodec stores it in a compact binary form (binary.go: events as differences from
// the previous one, about 12 bytes each instead of ~150 as JSON); values written as JSON before
// still decode, and `shopease inspect` prints the decoded value as JSON.
//
// Exactness (package fence): the user value carries a fence of raw origins; a record already
// applied changes nothing, but repeats its loop signals (the crash may have lost them). Loop
// signals need no fence: a timer is kept once per order, marks only move forward, and a flush
// releases only what is still pending — delivered again, it emits the journeys of the orders it
// lists again, identical, because goka writes the table and the output independently (a user
// remembers at least its DoneMin newest releases for that, however far its activity ran ahead).
// Likewise a schedule signal delivered again finds its timers fired, their flushes possibly
// lost: a fired timer stays until its user confirms the release, and a signal that changes
// nothing sends the flushes of the fired timers it concerns again (fired.go). A journey's
// identity is (user, order), so consumers keep one of equal copies.
package journeys
