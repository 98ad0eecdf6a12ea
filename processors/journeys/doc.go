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
// held in the user's value (User.Pending) until the user's activity watermark — the newest
// activity event time seen — passes the purchase time + Bound (= SessionGap): at that point the
// session holding the purchase is closed, and activity of the user arrives in event-time order
// per user (one raw partition, files replayed in time order), so nothing that preceded it is
// missing. Activity later than that is counted in User.LateActivity and does not change an
// emitted journey; lines of an emitted order are counted in User.LateLines. A purchase whose user
// never shows later activity stays pending (visible in the table) — a journey is emitted only
// once its session is known to be over.
//
// Exactness (package fence): the user value carries a fence of raw origins; a record already
// applied changes nothing. Because goka writes the table and the output independently, the
// journeys a record released are remembered with its origin (User.Done, for DoneKept of event
// time) and emitted again when that record is delivered again; a journey's identity is (user,
// order), so consumers keep one of equal copies.
package journeys
