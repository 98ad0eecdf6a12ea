package inspect

import (
	"context"
	"errors"
	"fmt"
	"hash"

	"github.com/lovoo/goka"
)

var (
	// ErrBadQuery is returned by Scan and Count for a Query that sets both Prefix and a range, or a
	// negative Limit.
	ErrBadQuery = errors.New("inspect: bad query")
	// ErrNoTable is returned when a source has no partition of the named table.
	ErrNoTable = errors.New("inspect: no such table")
	// ErrPartitionNotLocal is returned by DirSource.Get when the hasher picks a partition whose DB
	// is not in the data dir (another instance of the processor group owned it).
	ErrPartitionNotLocal = errors.New("inspect: partition not in this data dir")
	// ErrNotPebble is returned when a table partition dir holds no Pebble DB (for example goka's
	// LevelDB format).
	ErrNotPebble = errors.New("inspect: not a pebble table")
)

// Record is one table entry. Value is the stored encoding, owned by the caller.
type Record struct {
	Table     string
	Partition int32 // -1 when the source cannot tell
	Key       string
	Value     []byte
}

// Query selects the keys of a Scan or Count: a Prefix, or a half-open range [Start, End) where an
// empty End means no upper bound; the zero Query selects every key. Limit caps the number of
// records a Scan returns (0: no cap); Count ignores it.
type Query struct {
	Prefix     string
	Start, End string
	Limit      int
}

func (q Query) validate() error {
	if q.Prefix != "" && (q.Start != "" || q.End != "") {
		return fmt.Errorf("%w: prefix %q together with range [%q, %q)", ErrBadQuery, q.Prefix, q.Start, q.End)
	}
	if q.Limit < 0 {
		return fmt.Errorf("%w: limit %d < 0", ErrBadQuery, q.Limit)
	}
	return nil
}

// Source reads tables. Implementations never write to a table.
type Source interface {
	// Get returns the record of key in table; found is false when the key does not exist.
	Get(ctx context.Context, table, key string) (rec Record, found bool, err error)
	// Scan calls fn for the records q selects, in key order, at most q.Limit of them. An error from
	// fn stops the scan and is returned.
	Scan(ctx context.Context, table string, q Query, fn func(Record) error) error
	// Count returns how many keys q selects.
	Count(ctx context.Context, table string, q Query) (int64, error)
	// Close releases what the source opened.
	Close() error
}

// Decode decodes a record's value with the table's codec.
func Decode(c goka.Codec, rec Record) (any, error) {
	v, err := c.Decode(rec.Value)
	if err != nil {
		return nil, fmt.Errorf("inspect: decode %s key %q: %w", rec.Table, rec.Key, err)
	}
	return v, nil
}

// PartitionFor returns the partition a goka producer writes key to among n partitions, given the
// group's hasher (goka.DefaultHasher(), FNV-1a 32, unless the group set goka.WithHasher). goka's
// producer uses sarama's NewCustomHashPartitioner, so this is sarama's arithmetic: the signed
// 32-bit hash modulo n, negated when negative.
func PartitionFor(hasher func() hash.Hash32, key string, n int32) int32 {
	h := hasher()
	_, _ = h.Write([]byte(key)) // hash.Hash never returns an error from Write
	p := int32(h.Sum32()) % n
	if p < 0 {
		p = -p
	}
	return p
}
