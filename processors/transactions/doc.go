// Package transactions is the transactions gateway: the processor through which every raw
// purchase, refund and return line enters the pipeline — validated, deduplicated by line id and
// pseudonymized — so that nothing downstream sees a bad line, a line twice, or a raw user id.
//
// Input: shopease.transactions (key: line id), read as bytes. For each record, in this order:
//
//  1. Decode strictly (Decode). Bytes that do not decode → dead letter `undecodable`. An unknown
//     type value is the one exception: it decodes and is judged by the rules (bad_type), because
//     it is a business fault the source can fix, counted by the generator's ground truth as such.
//  2. Validate (Rules, Validate): the first failing rule decides the reason — missing_order,
//     missing_user, missing_product, bad_type, bad_time, bad_quantity, bad_price. A rejected record
//     → shopease.deadletter with its reason, its origin (topic/partition/offset) and its original
//     bytes; it claims nothing.
//  3. Dedupe: the group table maps line id → Claim (the offset of the first accepted record). A
//     later valid record with the same line id and another offset is a duplicate (a producer retry
//     or a file replayed under another name) and emits nothing. The claiming record itself, read
//     again after a crash, is emitted again identically; downstream fences (package fence) drop
//     the copies.
//  4. Pseudonymize the user (HMAC-SHA256 under the configured versioned key; the processor refuses
//     to start without one) and emit the clean line to shopease.clean.transactions keyed by the
//     pseudonym and to shopease.sales keyed by product id, both stamped with the origin.
//
// Every record's fate goes to the configured outcome.Observer as "transactions": accepted,
// duplicate or rejected/<reason>, so accepted + duplicate + rejected = read (a record redelivered
// after a crash is read, and observed, again).
//
// The raw topic and the dead-letter topic are the only places a raw user id appears: dead-letter
// details quote typed values (numbers, times) and never free text.
package transactions
