// Package compaction snapshots goka group tables to Parquet in the lake and restores them, so a
// processor that lost its local state replays only the changelog written since the newest snapshot
// instead of the whole changelog.
//
// Layout, one directory per snapshot, visible only when complete (written as a hidden temp dir,
// fsynced, renamed):
//
//	<lake>/tables/<table topic>/snapshot=<YYYYMMDDTHHMMSS.mmmZ>/part-<partition>.parquet
//	<lake>/tables/<table topic>/snapshot=<…>/_part-<partition>.sst
//	<lake>/tables/<table topic>/snapshot=<…>/_manifest.json
//
// A part file holds one partition's keys and values (columns key STRING, value BINARY: the table
// codec's bytes, unchanged; value_json STRING: the value decoded by the table's codec as JSON, for
// SQL, NULL when the run was given no codec), sorted by key. The manifest records per partition the changelog offset
// the part is consistent with: the part equals the changelog's records [0, offset] applied in order
// (a nil value deletes its key, as goka's DefaultUpdate does). The offset has goka's meaning of a
// stored table offset: the last record applied, so goka's recovery resumes at offset+1.
//
// A snapshot is built from the previous snapshot plus the changelog records after its offsets, up
// to the high-water marks read when the run starts; it never touches a running processor.
//
// _part-<partition>.sst holds the same rows as a Pebble sstable in package tables' key encoding
// (the leading "_" hides it from Spark and pyarrow, which take a snapshot dir for a Parquet
// dataset). Restore ingests it into a new Pebble store together with the manifest's offset, in one
// atomic step, by hard link: no row is decoded. Parquet is the portable copy: a snapshot without an
// sstable, or with one of another tables.SSTFormat, or one Pebble refuses, is restored from its
// part file instead (docs/decisions.md, "Snapshots keep Pebble sstables beside the Parquet files").
//
// RestoringBuilder restores automatically when a processor or view opens a table partition whose
// store is empty, and with WithTail also replays the changelog tail after the snapshot, so that
// goka finds the partition recovered; otherwise goka's recovery replays the tail.
package compaction
