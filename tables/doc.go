// Package tables stores goka tables in Pebble: it implements goka's storage.Storage on
// github.com/cockroachdb/pebble/v2 and provides the storage.Builder that every ShopEase processor and
// view passes as goka.WithStorageBuilder / goka.WithViewStorageBuilder.
//
// # Layout
//
// NewBuilder opens one Pebble DB per topic-partition at <dir>/<topic>.<partition>, the same naming as
// goka's LevelDB builder, so a data dir reads the same to anyone who knows goka. All DBs of one builder
// share one block cache (WithCacheSize).
//
// Inside a DB, table keys are stored behind a one-byte namespace (keyData) and the local offset under
// a separate namespace (keyMeta). Unlike goka's LevelDB store, which keeps the offset under the user
// key "__offset", no table key can collide with the offset and the offset can never show up in an
// iterator or a Seek.
//
// # Offsets, atomicity and why the order is safe
//
// goka 1.1.x writes a table in two different ways:
//
//   - Recovery and view catch-up (PartitionTable.storeEvent): Update(key, value) — Set or Delete — then
//     SetOffset(offset), synchronously, message by message. Between Open and MarkRecovered this storage
//     appends both to one Pebble batch and commits the batch only right after a SetOffset, so every
//     committed batch ends on a message boundary and carries the offset of exactly the data in it:
//     data and offset are atomic.
//   - Processing (goka's cbContext.setValueForKey): Set(key, value) inside the callback, and
//     SetOffset(changelogOffset) later, from the producer's ack goroutine, once Kafka has stored the
//     changelog record. The offset is not known when the data is written, and the data must be
//     readable by the next callback at once, so the two cannot share a batch. The offset instead
//     rides along in the batch of the next table write (one commit per write instead of two),
//     unless the sync policy wants it written and synced at once; Close writes the last one.
//
// Both orders write an offset only after the data it describes. Pebble's WAL is replayed as a prefix
// after a crash, so whatever survives a crash is a prefix of the writes, and the surviving offset is
// never ahead of the surviving data. It can be behind: then goka re-reads the changelog from
// offset+1 and re-applies records whose data is already there, which is harmless because a
// changelog record is an absolute value (last write wins) — the same argument goka's LevelDB store
// relies on, which keeps the offset in memory during recovery and writes it only every 30 s.
// crash_test.go checks this on a crashable in-memory file system with many random crash points.
//
// # Recovery mode
//
// Between Open and MarkRecovered writes go into large batches committed without fsync; MarkRecovered
// commits the rest together with the offset and syncs once. Reads during recovery (a custom
// goka.WithUpdateCallback that reads, a view queried early) first commit the pending batch, so a
// reader always sees its own writes. Progress (records, rate, ETA) is logged to the *slog.Logger
// given with WithLogger. goka does not tell a storage the partition's high-water mark, so the ETA
// needs WithHighWaterMark, a hook the caller backs with a Kafka client; without it progress is
// logged without ETA. A Registry (WithRegistry) exposes every open partition's size and recovery
// progress to a metrics endpoint.
//
// # Related packages
//
// storagetest is the conformance suite this storage, goka's memory store and goka's LevelDB store
// all pass; inspect reads tables offline (a stopped processor's data dir) and online (goka Views).
package tables
