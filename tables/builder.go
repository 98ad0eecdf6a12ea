package tables

import (
	"fmt"
	"path/filepath"
	"sync"

	"github.com/cockroachdb/pebble/v2"
	"github.com/lovoo/goka/storage"
)

// PartitionDir is the directory of one table partition under a data dir: <dir>/<topic>.<partition>,
// as goka's LevelDB builder names it.
func PartitionDir(dir, topic string, partition int32) string {
	return filepath.Join(dir, fmt.Sprintf("%s.%d", topic, partition))
}

// NewBuilder returns the goka storage.Builder that opens one Pebble DB per topic-partition under dir.
// Pass it as goka.WithStorageBuilder (processors) and goka.WithViewStorageBuilder (views). Invalid
// options make every build fail with ErrBadOption; use NewBuilderE to see the error up front.
func NewBuilder(dir string, opts ...Option) storage.Builder {
	b, err := NewBuilderE(dir, opts...)
	if err != nil {
		return func(string, int32) (storage.Storage, error) { return nil, err }
	}
	return b
}

// NewBuilderE is NewBuilder that reports invalid options at once.
func NewBuilderE(dir string, opts ...Option) (storage.Builder, error) {
	o := defaultOptions()
	for _, opt := range opts {
		opt(&o)
	}
	if err := o.validate(); err != nil {
		return nil, err
	}
	if dir == "" {
		return nil, fmt.Errorf("%w: empty data dir", ErrBadOption)
	}
	// One cache for every partition of every table this builder opens, so the total is bounded by
	// one number. The builder keeps its reference for the life of the process: goka never says
	// when a builder is done, and each DB holds its own reference while open.
	var (
		once  sync.Once
		cache *pebble.Cache
	)
	return func(topic string, partition int32) (storage.Storage, error) {
		once.Do(func() {
			if o.cacheSize > 0 {
				cache = pebble.NewCache(o.cacheSize)
			}
		})
		return openDB(PartitionDir(dir, topic, partition), topic, partition, cache, o)
	}, nil
}
