package tables

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// SyncPolicy says when a write is fsynced to Pebble's WAL. It only decides how much of the
// changelog goka re-reads after a machine crash; any policy leaves a consistent store behind,
// because Pebble recovers a prefix of the WAL and offsets are written after their data.
type SyncPolicy int

const (
	// SyncOnOffset writes and syncs the local offset at most once per WithOffsetSyncInterval (the
	// sync covers every write before it); other offsets ride along in the batch of the next table
	// write, which is not synced. This is the default.
	SyncOnOffset SyncPolicy = iota
	// SyncEveryWrite writes and syncs every Set, Delete and SetOffset at once after recovery.
	SyncEveryWrite
	// SyncNever never syncs while running; offsets ride along with table writes, and only
	// MarkRecovered and Close sync.
	SyncNever
)

// String names the policy for logs and flags.
func (p SyncPolicy) String() string {
	switch p {
	case SyncOnOffset:
		return "offset"
	case SyncEveryWrite:
		return "always"
	case SyncNever:
		return "never"
	}
	return fmt.Sprintf("SyncPolicy(%d)", int(p))
}

// ParseSyncPolicy reads the names String returns, for flags and config files.
func ParseSyncPolicy(s string) (SyncPolicy, error) {
	for _, p := range []SyncPolicy{SyncOnOffset, SyncEveryWrite, SyncNever} {
		if p.String() == s {
			return p, nil
		}
	}
	return 0, fmt.Errorf("%w: %q (want offset, always or never)", ErrBadOption, s)
}

// HighWaterMarkFunc returns the high-water mark (the offset the next record will get) of a table
// topic partition. Recovery progress uses it for the ETA. See WithHighWaterMark.
type HighWaterMarkFunc func(ctx context.Context, topic string, partition int32) (int64, error)

// Option configures NewBuilder and Open.
type Option func(*options)

type options struct {
	cacheSize          int64
	memTableSize       uint64
	syncPolicy         SyncPolicy
	offsetSyncInterval time.Duration
	recoveryBatchBytes int
	progressInterval   time.Duration
	logger             *slog.Logger
	highWaterMark      HighWaterMarkFunc
	fs                 vfs.FS
	readOnly           bool
	registry           *Registry
	now                func() time.Time
}

func defaultOptions() options {
	return options{
		cacheSize:          64 << 20,
		memTableSize:       32 << 20,
		syncPolicy:         SyncOnOffset,
		offsetSyncInterval: time.Second,
		recoveryBatchBytes: 4 << 20,
		progressInterval:   10 * time.Second,
		logger:             slog.New(slog.DiscardHandler),
		fs:                 vfs.Default,
		now:                time.Now,
	}
}

func (o *options) validate() error {
	switch {
	case o.cacheSize < 0:
		return fmt.Errorf("%w: cache size %d < 0", ErrBadOption, o.cacheSize)
	case o.memTableSize < 1<<20:
		return fmt.Errorf("%w: memtable size %d < 1 MiB", ErrBadOption, o.memTableSize)
	case o.syncPolicy < SyncOnOffset || o.syncPolicy > SyncNever:
		return fmt.Errorf("%w: sync policy %d", ErrBadOption, o.syncPolicy)
	case o.offsetSyncInterval < 0:
		return fmt.Errorf("%w: offset sync interval %s < 0", ErrBadOption, o.offsetSyncInterval)
	case o.recoveryBatchBytes <= 0:
		return fmt.Errorf("%w: recovery batch size %d <= 0", ErrBadOption, o.recoveryBatchBytes)
	case o.progressInterval <= 0:
		return fmt.Errorf("%w: progress interval %s <= 0", ErrBadOption, o.progressInterval)
	case o.logger == nil:
		return fmt.Errorf("%w: nil logger", ErrBadOption)
	case o.fs == nil:
		return fmt.Errorf("%w: nil file system", ErrBadOption)
	}
	return nil
}

// WithCacheSize sets the size in bytes of the block cache that all DBs of one builder share
// (default 64 MiB; 0 leaves each DB with Pebble's own small default).
func WithCacheSize(bytes int64) Option { return func(o *options) { o.cacheSize = bytes } }

// WithMemTableSize sets Pebble's memtable size per DB (default 32 MiB). Bigger memtables make
// recovery faster (fewer flushes and compactions) at the cost of memory per partition.
func WithMemTableSize(bytes uint64) Option { return func(o *options) { o.memTableSize = bytes } }

// WithSyncPolicy sets when writes are fsynced after recovery (default SyncOnOffset).
func WithSyncPolicy(p SyncPolicy) Option { return func(o *options) { o.syncPolicy = p } }

// WithOffsetSyncInterval bounds how often SyncOnOffset syncs (default 1 s; 0 syncs every offset
// write). goka calls SetOffset once per table write while processing, and an fsync per message
// would cap a processor at the disk's fsync rate.
func WithOffsetSyncInterval(d time.Duration) Option {
	return func(o *options) { o.offsetSyncInterval = d }
}

// WithRecoveryBatchSize sets how many bytes of writes recovery collects before it commits a batch
// (default 4 MiB).
func WithRecoveryBatchSize(bytes int) Option {
	return func(o *options) { o.recoveryBatchBytes = bytes }
}

// WithProgressInterval sets how often recovery progress is logged (default 10 s).
func WithProgressInterval(d time.Duration) Option { return func(o *options) { o.progressInterval = d } }

// WithLogger routes recovery progress and Pebble's own messages to l (default: discarded). Pebble's
// informational messages are logged at Debug level.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// WithHighWaterMark gives recovery the partition's high-water mark so that progress lines carry an
// ETA. goka's storage interface never passes it; back f with a Kafka client (sarama's
// Client.GetOffset(topic, partition, sarama.OffsetNewest) or kadm's ListEndOffsets). f is called once
// per recovery, from the progress goroutine, never on the write path.
func WithHighWaterMark(f HighWaterMarkFunc) Option { return func(o *options) { o.highWaterMark = f } }

// WithFS runs Pebble on fs instead of the OS file system (tests use vfs.NewMem and
// vfs.NewCrashableMem).
func WithFS(fs vfs.FS) Option { return func(o *options) { o.fs = fs } }

// WithReadOnly opens DBs read-only: writes fail and nothing on disk changes, not even a WAL replay.
// The inspection library uses it on a stopped processor's data dir.
func WithReadOnly() Option { return func(o *options) { o.readOnly = true } }
