// Package lake archives the clean topics and the journeys as Parquet files in the data lake, laid
// out Hive-style so DuckDB, Spark and pyarrow read it unchanged:
//
//	<lake>/events/<dataset>/date=YYYY-MM-DD/part-<partition>-<firstOffset>-<lastOffset>.parquet
//
// The date is the UTC date of each row's event time. A file holds rows of one Kafka partition of
// one clean topic; its name carries the offset range of the batch it came from, and those names
// are the writer's only commit: there is no consumer group. On start the writer lists the files,
// takes the highest last offset per partition and consumes from the record after it, so a
// restarted writer never writes a row twice and never skips one. A batch whose rows fall on several
// dates is written as one file per date, all named with the batch's range; a crash between two of
// them leaves the batch incomplete, so on start the writer re-reads the newest batch's range and
// writes exactly the dates that are missing (rows are immutable in Kafka and their date is a
// function of the row, so the repaired files equal the lost ones).
//
// Files appear atomically: rows stream into a hidden temp file (".part-….tmp", which no reader
// globs), which is fsynced, renamed to its final name, and the directory fsynced.
//
// Reading with a plain partition consumer (franz-go's kgo with explicit partition offsets) rather
// than a goka processor is deliberate: goka commits consumer-group offsets on its own schedule, which
// would be a second commit that can disagree with the files; here the files alone decide.
//
// Processors deliver at least once: one restarted after a crash emits again what it had emitted
// since its last commit, with the same origin (the raw record "topic/partition/offset" in the fence
// header, kept in the origin column). For the four gateway datasets, where one raw record becomes
// exactly one clean record, the writer keeps a fence per partition (the highest origin offset seen
// from each raw partition, as package fence does) and drops a record at or below it (Summary's
// Redelivered); each batch's files carry the fence the batch started with (Parquet key-value
// metadata "shopease.fence.start"), so a repair after a crash drops exactly what the lost run
// dropped. Journeys are not fenced (one input record may release several journeys, all with its
// origin): count them once per (origin, order_id) in SQL. The inventory gateway passes records
// with a repeated event_id on purpose (the product table drops them): count distinct event_id.
//
// Types: event times are TIMESTAMP(MICROS, isAdjustedToUTC=true) (DuckDB: TIMESTAMP WITH TIME
// ZONE, pyarrow: timestamp[us, tz=UTC]); money is DECIMAL(18,3) stored as int64 thousandths,
// exactly event.Money. User columns hold pseudonyms only: the clean topics never carry a raw id.
package lake
