// Package activity is the activity gateway: it reads the raw clickstream (shopease.activity, keyed
// by raw user id), rejects what fails a rule, replaces the user id with its pseudonym and emits the
// clean event to shopease.clean.activity keyed by that pseudonym.
//
// The rules, in the order event/reasons.go lists them for activity (the first failing rule
// decides the reason): missing_user (empty user_id), missing_product (product_view, add_to_cart
// or remove_from_cart without product_id), bad_type (a type value outside event.ActivityTypes),
// bad_time (event time outside [2000-01-01, 2100-01-01) UTC). Bytes that are not an activity record
// at all are rejected as undecodable. Rejected records go to the dead-letter topic with their
// original bytes and origin (topic/partition/offset).
//
// Unknown types: the strict codec refuses an unknown type value, so replay rejects such a row
// itself, with this same reason bad_type (docs/formats.md). A producer other than replay may still
// put one on the raw topic; the gateway then re-reads the record with the type value set aside,
// applies the rules in order (so an unknown type with an empty user is missing_user, as rule
// order says) and rejects it as bad_type, not undecodable: the record is well formed, only its
// type is unknown. Any other decode failure is undecodable.
//
// The gateway is stateless (no group table): the clean record depends only on the raw record, so a
// redelivery after a crash re-emits identical bytes with the same origin stamp (fence.Header), and
// downstream fences drop the copy.
package activity
