// Package replay loads history files (CSV, JSON arrays, NDJSON, optionally gzipped) into the raw
// ShopEase topics, streaming them row by row, so that a year of history and the live stream reach
// the processors through the same topics with the same event times.
//
// A file is read through a profile: a column mapping from the source's fields to the event model
// (built in: "shopease" for the generator's files and "online-retail" for the UCI Online Retail
// data; any other source through a JSON mapping file, see LoadMapping and docs/replay.md). Every
// record carries its event time as the Kafka record timestamp and the key that docs/formats.md
// names. Rows that cannot become a record (malformed, bad_encoding, bad_field, bad_type, too_large)
// go to the dead-letter topic and to a local rejects file with file:line; they never stop the replay.
//
// A manifest makes replay idempotent per file content: a file whose content (SHA-256) was
// replayed with the same mapping and dataset to the same cluster and namespace is skipped under
// any name unless forced, and an interrupted replay resumes without duplicates or gaps. Every
// record carries two headers, shopease-src (the file's identity) and shopease-row (its row
// number); on resume the target partitions are read from the offsets recorded when the
// interrupted replay started, and exactly the rows already there are skipped. docs/replay.md
// explains the design.
//
// Run is the job (Config, Validate, Summary); Producer is the keyed, timestamped, batching sender
// it uses, exported for the live simulator.
package replay
