// Package updatecount is the processor that proves the stack end to end: it counts the records of
// shopease.inventory per key (the SKU as received) in a goka group table, fenced by input offset so
// that at-least-once redelivery never counts a record twice. It has an emitter-driven test path and
// a view for lookups, and runs unchanged on the embedded broker and on real Kafka.
package updatecount
