package tables

import (
	"cmp"
	"slices"
	"sync"
)

// Registry keeps track of the storages a builder has open, so that a metrics endpoint can report
// table sizes and recovery progress without the tables package knowing the metrics backend. Pass
// one to NewBuilder with WithRegistry.
type Registry struct {
	mu   sync.Mutex
	open map[*Storage]struct{}
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{open: map[*Storage]struct{}{}} }

// PartitionStats is what a Registry reports for one open table partition.
type PartitionStats struct {
	Topic     string
	Partition int32
	Path      string
	DiskBytes uint64           // Pebble's estimate of the DB's size on disk
	Recovery  RecoveryProgress // zero with Started false when goka never opened the storage
	Started   bool
}

// WithRegistry registers every storage the builder opens in r until it is closed.
func WithRegistry(r *Registry) Option { return func(o *options) { o.registry = r } }

func (r *Registry) add(s *Storage) {
	if r == nil {
		return
	}
	r.mu.Lock()
	r.open[s] = struct{}{}
	r.mu.Unlock()
}

func (r *Registry) remove(s *Storage) {
	if r == nil {
		return
	}
	r.mu.Lock()
	delete(r.open, s)
	r.mu.Unlock()
}

// Stats returns the open partitions sorted by topic and partition.
func (r *Registry) Stats() []PartitionStats {
	// Held throughout: Close unregisters before it closes the DB, so no DB closes under us.
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]PartitionStats, 0, len(r.open))
	for s := range r.open {
		p, started := s.Progress()
		out = append(out, PartitionStats{
			Topic: s.topic, Partition: s.partition, Path: s.path,
			DiskBytes: s.db.Metrics().DiskSpaceUsage(), Recovery: p, Started: started,
		})
	}
	slices.SortFunc(out, func(a, b PartitionStats) int {
		return cmp.Or(cmp.Compare(a.Topic, b.Topic), cmp.Compare(a.Partition, b.Partition))
	})
	return out
}
