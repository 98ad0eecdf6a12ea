// Package compaction snapshots goka group tables to Parquet in the lake and restores them, so a
// processor that lost its local state replays only the changelog written since the newest snapshot
// instead of the whole changelog.
//
// Layout, one directory per snapshot, visible only when complete (written as a hidden temp dir,
// fsynced, renamed):
//
//	<lake>/tables/<table topic>/snapshot=<YYYYMMDDTHHMMSS.mmmZ>/part-<partition>.parquet
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
// Restore loads a partition's part file into a new Pebble store (package tables), sets its stored
// offset to the manifest's, and leaves the rest to goka's normal recovery. RestoringBuilder does this
// automatically when a processor or view opens a table partition that has no local state.
package compaction
