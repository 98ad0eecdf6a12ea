package compaction

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	"github.com/lovoo/goka/storage"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/shopease/shopease/tables"
)

// ErrStateExists is returned by Restore when the partition already has local state (a restore
// would throw it away; remove the directory first if that is what you want).
var ErrStateExists = errors.New("compaction: local state exists")

// RestoreResult says what Restore did for one partition.
type RestoreResult struct {
	Partition int32
	Rows      int64
	Offset    int64 // the stored offset set; goka resumes at Offset+1
	Skipped   bool  // local state existed, or the snapshot's partition was empty
}

// Restore loads the snapshot of table into dataDir (package tables' layout, one Pebble DB per
// partition), for the given partitions (all of the manifest's when none are given). A partition
// that already has local state is skipped (Skipped, not an error). Each partition is written into a
// temp dir that is renamed into place only after its data and offset are synced, so a crash
// leaves either no state (goka recovers from the changelog) or a complete one.
func Restore(s Snapshot, dataDir string, logger *slog.Logger, partitions ...int32) ([]RestoreResult, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if len(partitions) == 0 {
		for _, pm := range s.Manifest.Partitions {
			partitions = append(partitions, pm.Partition)
		}
	}
	// Partitions are independent stores: load them in parallel, one per CPU.
	out := make([]RestoreResult, len(partitions))
	errs := make([]error, len(partitions))
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for i, p := range partitions {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			out[i], errs[i] = restorePartition(s, dataDir, p, logger)
			if errs[i] != nil {
				errs[i] = fmt.Errorf("compaction: restore %s partition %d: %w", s.Manifest.Table, p, errs[i])
			}
		}()
	}
	wg.Wait()
	return out, errors.Join(errs...)
}

func restorePartition(s Snapshot, dataDir string, p int32, logger *slog.Logger) (RestoreResult, error) {
	res := RestoreResult{Partition: p, Offset: -1}
	pm, ok := s.Manifest.Partition(p)
	if !ok || pm.Offset < 0 {
		res.Skipped = true
		return res, nil
	}
	final := tables.PartitionDir(dataDir, s.Manifest.Table, p)
	if _, err := os.Stat(final); err == nil {
		res.Skipped = true
		return res, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return res, fmt.Errorf("stat %s: %w", final, err)
	}
	tmp := final + ".restore"
	if err := os.RemoveAll(tmp); err != nil { // an interrupted restore's leftovers
		return res, fmt.Errorf("remove %s: %w", tmp, err)
	}
	n, err := ingest(s, pm, tmp, logger)
	if err != nil {
		os.RemoveAll(tmp)
		return res, err
	}
	if err := os.Rename(tmp, final); err != nil {
		return res, fmt.Errorf("rename %s: %w", tmp, err)
	}
	if err := syncDir(filepath.Dir(final)); err != nil {
		return res, err
	}
	logger.Info("compaction: restored", "table", s.Manifest.Table, "partition", p, "rows", n,
		"offset", pm.Offset, "snapshot", filepath.Base(s.Dir))
	res.Rows, res.Offset = n, pm.Offset
	return res, nil
}

// BuilderOption configures RestoringBuilder.
type BuilderOption func(*builderOptions)

type builderOptions struct {
	logger        *slog.Logger
	highWaterMark tables.HighWaterMarkFunc
	tailBrokers   []string
}

// WithLogger sets the logger of restores (default: discard).
func WithLogger(l *slog.Logger) BuilderOption { return func(o *builderOptions) { o.logger = l } }

// WithHighWaterMark lets RestoringBuilder check a snapshot against the changelog before using it:
// a snapshot whose offset is at or beyond the partition's high-water mark was taken of another
// incarnation of the topic (deleted and created again), and goka, finding a stored offset past the
// end, would take the stale state as recovered. Such a snapshot is skipped.
// cluster.Config.HighWaterMark is one, as is KafkaHighWaterMark.
func WithHighWaterMark(f tables.HighWaterMarkFunc) BuilderOption {
	return func(o *builderOptions) { o.highWaterMark = f }
}

// WithTail makes RestoringBuilder also replay the changelog written after the snapshot, up to the
// high-water mark, from brokers, before it hands the partition to goka (as goka's DefaultUpdate
// would: a nil value deletes its key). goka then finds the partition recovered. Its own recovery
// would do the same, but a sarama consumer waits about 100 ms before its first fetch (it batches
// new partition subscriptions), which is most of a restore's time once the snapshot is ingested.
// The high-water mark then comes from brokers too, and WithHighWaterMark is not used.
func WithTail(brokers []string) BuilderOption {
	return func(o *builderOptions) { o.tailBrokers = brokers }
}

// KafkaHighWaterMark returns a high-water-mark lookup for WithHighWaterMark.
func KafkaHighWaterMark(brokers []string) tables.HighWaterMarkFunc {
	return func(ctx context.Context, topic string, partition int32) (int64, error) {
		cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
		if err != nil {
			return 0, fmt.Errorf("compaction: kafka client: %w", err)
		}
		defer cl.Close()
		return highWaterMark(cl)(ctx, topic, partition)
	}
}

// highWaterMark looks high-water marks up with cl.
func highWaterMark(cl *kgo.Client) tables.HighWaterMarkFunc {
	return func(ctx context.Context, topic string, partition int32) (int64, error) {
		ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		ends, err := kadm.NewClient(cl).ListEndOffsets(ctx, topic)
		if err == nil {
			err = ends.Error()
		}
		if err != nil {
			return 0, fmt.Errorf("compaction: end offset of %s/%d: %w", topic, partition, err)
		}
		o, ok := ends.Lookup(topic, partition)
		if !ok {
			return 0, fmt.Errorf("compaction: %s has no partition %d", topic, partition)
		}
		return o.Offset, nil
	}
}

// RestoringBuilder wraps a goka storage builder over dataDir that opens package tables' stores
// (tables.NewBuilder(dataDir)): when goka opens a table partition whose store is empty (new, or
// left empty by a crash during a restore) and the lake has a snapshot of that table, the snapshot
// is ingested into the store first, so goka's recovery replays only the changelog after the
// snapshot's offset (or nothing, with WithTail). Any failure to restore is logged and goka recovers
// from the changelog as it would without a snapshot: the ingestion is atomic, so a failed one
// leaves the store empty, and a failed tail replay leaves it at the offset it reached.
func RestoringBuilder(lakeDir, dataDir string, inner storage.Builder, opts ...BuilderOption) storage.Builder {
	o := builderOptions{logger: slog.New(slog.DiscardHandler)}
	for _, opt := range opts {
		opt(&o)
	}
	return func(topic string, partition int32) (storage.Storage, error) {
		st, err := inner(topic, partition)
		if err != nil {
			return nil, err
		}
		ts, ok := st.(*tables.Storage)
		if !ok {
			o.logger.Warn("compaction: storage is not package tables'; recovering from the changelog", "table", topic,
				"partition", partition, "storage", fmt.Sprintf("%T", st))
			return st, nil
		}
		if empty, err := ts.Empty(); err != nil || !empty {
			return st, err
		}
		if err := o.restore(ts, lakeDir, topic, partition); err != nil {
			o.logger.Warn("compaction: restore incomplete; goka recovers the rest from the changelog", "table", topic,
				"partition", partition, "error", err)
		}
		return st, nil
	}
}

// restore ingests the newest snapshot's partition into st and, with WithTail, replays the tail.
func (o *builderOptions) restore(st *tables.Storage, lakeDir, topic string, p int32) error {
	s, err := Newest(lakeDir, topic)
	if errors.Is(err, ErrNoSnapshot) {
		return nil
	}
	if err != nil {
		return err
	}
	pm, ok := s.Manifest.Partition(p)
	if !ok || pm.Offset < 0 {
		return nil
	}
	start := time.Now()
	// With WithTail, one client looks up the high-water mark and reads the tail: a client's
	// bootstrap (connection, versions, metadata) is a good part of a restore's time.
	var cl *kgo.Client
	hwm := o.highWaterMark
	if len(o.tailBrokers) > 0 {
		if cl, err = changelogClient(o.tailBrokers); err != nil {
			return err
		}
		defer cl.Close()
		hwm = highWaterMark(cl)
	}
	end, err := checkAgainstChangelog(s, topic, p, hwm)
	if err != nil {
		return err
	}
	n, err := ingestInto(st, s, pm, o.logger)
	if err != nil {
		return err
	}
	loaded := time.Since(start)
	tail := int64(0)
	if cl != nil && end > pm.Offset+1 {
		if tail, err = replayTail(cl, st, topic, p, pm.Offset+1, end); err != nil {
			return fmt.Errorf("compaction: tail of %s/%d after offset %d: %w", topic, p, pm.Offset, err)
		}
	}
	o.logger.Info("compaction: restored", "table", topic, "partition", p, "rows", n, "offset", pm.Offset,
		"snapshot", filepath.Base(s.Dir), "load", loaded.Round(time.Millisecond), "tail_records", tail,
		"took", time.Since(start).Round(time.Millisecond))
	return nil
}

// ErrStaleSnapshot is returned (and logged by RestoringBuilder) when a snapshot's offset is beyond
// the changelog's end.
var ErrStaleSnapshot = errors.New("compaction: snapshot is ahead of the changelog")

func checkAgainstChangelog(s Snapshot, topic string, p int32, hwm tables.HighWaterMarkFunc) (int64, error) {
	pm, ok := s.Manifest.Partition(p)
	if hwm == nil || !ok || pm.Offset < 0 {
		return -1, nil
	}
	end, err := hwm(context.Background(), topic, p)
	if err != nil {
		return -1, err
	}
	if pm.Offset >= end {
		return -1, fmt.Errorf("%w: %s partition %d: snapshot offset %d, changelog end %d (topic recreated?)",
			ErrStaleSnapshot, topic, p, pm.Offset, end)
	}
	return end, nil
}
