// Package feedback turns raw reviews into clean, pseudonymous reviews and keeps per-product rating
// aggregates. It runs two processor groups:
//
//   - the gateway (GatewayGroup) reads shopease.feedback (key: review id), rejects what fails a
//     rule, drops re-sent copies of an accepted review, replaces the reviewer's user id with its
//     pseudonym and emits the review to shopease.clean.feedback keyed by product id;
//   - ratings (RatingsGroup) reads shopease.clean.feedback and keeps, per product, the count, the
//     sum and the 1..5 distribution of the ratings; the mean is Sum/Count, computed exactly on read
//     (Rating.Mean), never stored, so it cannot drift from the counts.
//
// # Rules
//
// In the order event/reasons.go lists them for feedback; the first failing rule decides:
// missing_user (empty user_id), missing_product (empty product_id), bad_time (event time outside
// [2000-01-01, 2100-01-01) UTC), bad_rating (rating outside 1..5; an absent rating is 0),
// text_too_long (title above MaxTitleChars or text above MaxTextChars characters, counted as
// Unicode code points, so a review in any script gets the same allowance). Bytes that are not a
// review are undecodable. Rejected records go to the dead-letter topic with original bytes and
// origin.
//
// # Exactly once over at-least-once delivery
//
// Dedupe: the gateway's table (keyed by the record key, the review id) holds the Claim of the first
// accepted record of each id: its offset. A later accepted record of the same id at another offset
// is a duplicate (counted, not emitted, not a dead letter); the same offset again is a redelivery
// after a crash, and the gateway re-emits exactly what it emitted the first time, with the same
// origin stamp (fence.Header). Rejected records claim nothing, so a bad first copy never hides a
// good later one.
//
// Ratings: every clean review carries its origin (raw topic/partition/offset). The rating of a
// product keeps a fence.Vector, in the same table value as the counts, and applies a review only
// when its origin is above the fence, so a re-emitted review counts once.
package feedback
