// Package inspect reads goka tables without changing them: the library behind `shopease inspect`.
//
// A Source answers Get, Scan and Count for a table. DirSource reads a stopped processor's data dir
// offline (Pebble DBs opened read-only, one per topic-partition, as package tables lays them out)
// and also lists the tables it finds with their partitions, on-disk sizes, stored offsets and key
// counts. ViewSource reads the same tables online through goka Views against the cluster. A later
// source (Parquet table snapshots) fits behind the same interface.
//
// Values come back as the stored bytes; the caller decodes them with the table's codec (Decode).
// Scans follow goka's semantics on every source: keys in byte order merged across partitions (goka's
// storage.NewMultiIterator), a prefix query is goka's IteratorWithRange(prefix, nil).
package inspect
