package replay

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/shopease/shopease/processors/topology"
)

// Errors returned by Config.Validate and Run.
var (
	// ErrConfig is returned by Validate when a setting is missing or impossible.
	ErrConfig = errors.New("replay: bad config")
	// ErrLost is returned by Run when a record was sent but never acknowledged by the broker:
	// the replay is incomplete and must be run again (it resumes).
	ErrLost = errors.New("replay: records lost")
	// ErrTopicMissing is returned by Run when a raw topic does not exist; replay never creates
	// topics, because partition counts must match across joined topics.
	ErrTopicMissing = errors.New("replay: topic missing (create the raw topics with `shopease topics create`)")
	// ErrUnreadable is returned by Run for a file that cannot be opened or read to its end.
	ErrUnreadable = errors.New("replay: file unreadable")
	// ErrNoDataset is returned by Run for a file whose dataset is not in its path, not in its
	// header and not given.
	ErrNoDataset = errors.New("replay: cannot tell the dataset of file")
)

// Config is the replay job: what to read, how to map it and where to send it. The CLI fills it from
// flags (`shopease replay`); DefaultConfig gives the defaults.
type Config struct {
	// Paths are files and directories; a directory is walked for .csv, .json, .ndjson and .jsonl
	// files (optionally .gz), in lexical order. truth.json is never read.
	Paths []string
	// Brokers are the Kafka bootstrap addresses. Not needed for DryRun.
	Brokers []string
	// Namespace prefixes every topic name (see topology.Namespace).
	Namespace topology.Namespace
	// Profile names a built-in profile ("shopease", "online-retail"). Empty means: a CSV whose
	// header is a built-in profile's header uses that profile, everything else "shopease".
	Profile string
	// MappingFile is a JSON column mapping for other sources (see LoadMapping); it excludes Profile.
	MappingFile string
	// Dataset, when set, overrides the dataset detected from path or header
	// ("transactions", "inventory", "activity", "feedback").
	Dataset string
	// Rate limits the records sent per second (0: as fast as the broker takes them).
	Rate float64
	// DryRun parses and maps every row and reports the same summary, but sends nothing and
	// neither reads nor writes the manifest.
	DryRun bool
	// Force replays files that the manifest says were replayed already.
	Force bool
	// EndOfInput ends a run that completes without error, and replayed activity or transactions
	// files, with an end-of-input marker on every partition of those raw topics (event.EndOfInput,
	// docs/formats.md), so that the journeys join releases the last orders of a finite input.
	// Off in DefaultConfig, so a program that embeds the replay while live producers write the same
	// topics sends none unless asked; `shopease replay` turns it on (--end-of-input, docs/replay.md).
	EndOfInput bool
	// ManifestPath is the replay manifest (JSON). Required unless DryRun.
	ManifestPath string
	// RejectsPath is the local rejects file (NDJSON, appended). Empty: no local file (rejects
	// still go to the dead-letter topic).
	RejectsPath string
	// Compression of produced batches: "lz4", "zstd", "snappy", "gzip" or "none".
	Compression string
	// Partitions, when > 0, is the partition count every target topic must have; replay fails
	// before sending anything otherwise (a miscreated topic would break co-partitioning).
	Partitions int
	// MaxRowBytes is the largest row accepted; a longer row is rejected as too_large and reading
	// goes on after it.
	MaxRowBytes int
	// BatchBytes and BatchLinger tune the producer's batching: a batch is sent when it holds
	// BatchBytes or when its first record has waited BatchLinger. BatchBytes is also the largest
	// batch, so a row whose record does not fit in one (less 1 KiB of framing) is rejected as
	// too_large; it lies between 16 KiB and 1 MiB (the broker's default max.message.bytes).
	BatchBytes  int
	BatchLinger time.Duration
	// BatchMessages must be 0: the producer (franz-go) closes batches on size and time only.
	// It is kept so that configurations that set it fail loudly instead of being ignored.
	BatchMessages int
	// ProgressInterval is the period of the plain progress lines when stderr is not a terminal.
	ProgressInterval time.Duration
	// Progress receives the progress bar when it is a terminal; nil disables the bar (plain
	// periodic log lines are written instead).
	Progress io.Writer
}

// Defaults used by DefaultConfig.
const (
	DefaultManifestPath = "shopease-replay-manifest.json"
	DefaultRejectsPath  = "shopease-replay-rejects.ndjson"
	DefaultCompression  = "lz4"
	DefaultMaxRowBytes  = 1 << 20
)

// Bounds of Config.BatchBytes: batches below 16 KiB cost a request per few records, and the
// broker refuses batches above its max.message.bytes (1,048,588 by default).
const (
	minBatchBytes = 16 << 10
	maxBatchBytes = 1 << 20
)

// DefaultConfig returns a Config with every default set; the caller adds Paths and Brokers.
func DefaultConfig() Config {
	return Config{
		ManifestPath:     DefaultManifestPath,
		RejectsPath:      DefaultRejectsPath,
		Compression:      DefaultCompression,
		MaxRowBytes:      DefaultMaxRowBytes,
		BatchBytes:       1 << 20,
		BatchLinger:      10 * time.Millisecond,
		ProgressInterval: 10 * time.Second,
	}
}

// Validate checks the config and fills zero tuning values with their defaults.
func (c *Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: "+format, append([]any{ErrConfig}, args...)...))
	}
	if len(c.Paths) == 0 {
		bad("no file or directory given")
	}
	if !c.DryRun && len(c.Brokers) == 0 {
		bad("no brokers given (or use dry-run)")
	}
	if !c.DryRun && c.ManifestPath == "" {
		bad("no manifest path given")
	}
	if c.Profile != "" && c.MappingFile != "" {
		bad("profile %q and mapping file %q both given; choose one", c.Profile, c.MappingFile)
	}
	if c.Profile != "" {
		if _, ok := builtinProfiles[c.Profile]; !ok {
			bad("unknown profile %q (built in: %s)", c.Profile, profileNames())
		}
	}
	if c.Dataset != "" && !validDataset(c.Dataset) {
		bad("unknown dataset %q (one of %s)", c.Dataset, datasetNames())
	}
	if c.Rate < 0 {
		bad("negative rate %g", c.Rate)
	}
	if c.Compression == "" {
		c.Compression = DefaultCompression
	}
	if _, err := compressionCodec(c.Compression); err != nil {
		errs = append(errs, err)
	}
	if c.Partitions < 0 {
		bad("negative partition count %d", c.Partitions)
	}
	if c.MaxRowBytes == 0 {
		c.MaxRowBytes = DefaultMaxRowBytes
	}
	if c.MaxRowBytes < 64 {
		bad("max row bytes %d below 64", c.MaxRowBytes)
	}
	d := DefaultConfig()
	if c.BatchBytes == 0 {
		c.BatchBytes = d.BatchBytes
	}
	if c.BatchBytes < minBatchBytes || c.BatchBytes > maxBatchBytes {
		bad("batch bytes %d not between %d and %d", c.BatchBytes, minBatchBytes, maxBatchBytes)
	}
	if c.BatchLinger <= 0 {
		c.BatchLinger = d.BatchLinger
	}
	if c.BatchMessages != 0 {
		bad("batch messages %d: batches close on size and linger only; leave it 0", c.BatchMessages)
	}
	if c.ProgressInterval <= 0 {
		c.ProgressInterval = d.ProgressInterval
	}
	return errors.Join(errs...)
}
