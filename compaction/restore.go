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
	n, err := ingest(filepath.Join(s.Dir, pm.File), tmp, pm.Offset)
	if err != nil {
		os.RemoveAll(tmp)
		return res, err
	}
	if n != pm.Rows {
		os.RemoveAll(tmp)
		return res, fmt.Errorf("%w: %s has %d rows, manifest says %d", ErrBadManifest, pm.File, n, pm.Rows)
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

// KafkaHighWaterMark returns a high-water-mark lookup for WithHighWaterMark.
func KafkaHighWaterMark(brokers []string) tables.HighWaterMarkFunc {
	return func(ctx context.Context, topic string, partition int32) (int64, error) {
		cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
		if err != nil {
			return 0, fmt.Errorf("compaction: kafka client: %w", err)
		}
		defer cl.Close()
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

// RestoringBuilder wraps a goka storage builder over dataDir (tables.NewBuilder(dataDir)): when
// goka opens a table partition that has no local state and the lake has a snapshot of that table,
// the partition is first restored from the newest snapshot, so goka's recovery replays only the
// changelog after the snapshot's offset. Any failure to restore is logged and goka recovers from
// the changelog as it would without a snapshot.
func RestoringBuilder(lakeDir, dataDir string, inner storage.Builder, opts ...BuilderOption) storage.Builder {
	o := builderOptions{logger: slog.New(slog.DiscardHandler)}
	for _, opt := range opts {
		opt(&o)
	}
	logger := o.logger
	return func(topic string, partition int32) (storage.Storage, error) {
		if _, err := os.Stat(tables.PartitionDir(dataDir, topic, partition)); errors.Is(err, fs.ErrNotExist) {
			s, err := Newest(lakeDir, topic)
			switch {
			case errors.Is(err, ErrNoSnapshot):
			case err != nil:
				logger.Warn("compaction: cannot list snapshots; recovering from the changelog", "table", topic, "error", err)
			default:
				if err := checkAgainstChangelog(s, topic, partition, o.highWaterMark); err != nil {
					logger.Warn("compaction: snapshot not used; recovering from the changelog", "table", topic,
						"partition", partition, "error", err)
					break
				}
				if _, err := Restore(s, dataDir, logger, partition); err != nil {
					logger.Warn("compaction: restore failed; recovering from the changelog", "table", topic,
						"partition", partition, "error", err)
				}
			}
		}
		return inner(topic, partition)
	}
}

// ErrStaleSnapshot is returned (and logged by RestoringBuilder) when a snapshot's offset is beyond
// the changelog's end.
var ErrStaleSnapshot = errors.New("compaction: snapshot is ahead of the changelog")

func checkAgainstChangelog(s Snapshot, topic string, p int32, hwm tables.HighWaterMarkFunc) error {
	pm, ok := s.Manifest.Partition(p)
	if hwm == nil || !ok || pm.Offset < 0 {
		return nil
	}
	end, err := hwm(context.Background(), topic, p)
	if err != nil {
		return err
	}
	if pm.Offset >= end {
		return fmt.Errorf("%w: %s partition %d: snapshot offset %d, changelog end %d (topic recreated?)",
			ErrStaleSnapshot, topic, p, pm.Offset, end)
	}
	return nil
}
