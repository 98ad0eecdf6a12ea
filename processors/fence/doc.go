// Package fence makes a chain of at-least-once goka processors produce exact results.
//
// goka delivers at least once: after a crash a processor re-reads its input from the last committed
// offset and emits again what it had already emitted. Two rules turn that into exactly-once results:
//
//  1. Provenance. The first processor that reads a raw record stamps everything it emits for that
//     record with the record's origin — raw topic, partition and offset — in the Header header. A
//     re-emission after a crash carries the same stamp as the original.
//  2. Per-key fences. A downstream processor keeps, inside each key's table value, a Vector: for
//     every origin (raw topic and partition) the highest offset it has applied to that key. Records
//     of one origin reach a key in origin-offset order (one producer per processor partition with
//     ordered, idempotent delivery: see cluster.Config.Sarama), so a record whose origin offset is
//     not above the fence was applied before and is skipped.
//
// The fence lives in the same table value as the state it protects, so both are written in one
// changelog record: there is no moment at which one is stored without the other.
package fence
