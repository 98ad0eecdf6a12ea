package lake

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"golang.org/x/sync/errgroup"

	"github.com/shopease/shopease/event"
	"github.com/shopease/shopease/processors/fence"
	"github.com/shopease/shopease/processors/topology"
)

// ErrBadConfig is returned by Config.Validate.
var ErrBadConfig = errors.New("lake: bad config")

// Config configures the lake writer (Run).
type Config struct {
	Brokers   []string
	Namespace topology.Namespace
	// LakeDir is the lake's root; files go to <LakeDir>/events/<dataset>/….
	LakeDir string
	// Datasets to archive by name (default: all of Datasets).
	Datasets []string
	// MaxBatchRows closes a partition's batch after this many records (default 200,000). It bounds
	// the rows a partition keeps in memory (the Parquet writer buffers a row group).
	MaxBatchRows int
	// RowGroupRows is the most rows in one Parquet row group (default 65,536): readers scan row
	// groups in parallel.
	RowGroupRows int
	// FlushInterval closes a batch that has been open this long (default 1 min): live data becomes
	// visible within it.
	FlushInterval time.Duration
	// Once makes Run stop when it has archived every record that was in the topics when it
	// started (a one-shot export, and tests); otherwise Run follows the topics until ctx is done.
	Once bool
	// Logger gets one line per run and per error; nil discards.
	Logger *slog.Logger
}

// Validate checks the config and fills in defaults.
func (c *Config) Validate() error {
	switch {
	case len(c.Brokers) == 0:
		return fmt.Errorf("%w: no brokers", ErrBadConfig)
	case c.LakeDir == "":
		return fmt.Errorf("%w: no lake dir", ErrBadConfig)
	case c.MaxBatchRows < 0 || c.RowGroupRows < 0 || c.FlushInterval < 0:
		return fmt.Errorf("%w: negative batch rows, row group rows or flush interval", ErrBadConfig)
	}
	for _, n := range c.Datasets {
		if _, ok := FindDataset(n); !ok {
			return fmt.Errorf("%w: unknown dataset %q", ErrBadConfig, n)
		}
	}
	if len(c.Datasets) == 0 {
		for _, d := range Datasets {
			c.Datasets = append(c.Datasets, d.Name)
		}
	}
	if c.MaxBatchRows == 0 {
		c.MaxBatchRows = 200_000
	}
	if c.RowGroupRows == 0 {
		c.RowGroupRows = 65_536
	}
	if c.FlushInterval == 0 {
		c.FlushInterval = time.Minute
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return nil
}

type options struct {
	maxBatchRows  int
	rowGroupRows  int
	flushInterval time.Duration
	logger        *slog.Logger
	now           func() time.Time
}

// DatasetStats counts what a run did for one dataset.
type DatasetStats struct {
	Rows     int64 // rows written to new files
	Files    int64 // files published
	Repaired int64 // rows read again while repairing an interrupted batch that already had a file
	// Redelivered counts records dropped because they repeat an earlier record's raw origin (a
	// processor re-emitting after a crash); see Dataset.fenced.
	Redelivered int64
	// Control counts control records skipped (end-of-input markers).
	Control int64
	// Undecodable counts records of a clean topic that do not decode as its dataset: left out of
	// the lake (the processors reading the topic dead-letter them with their source).
	Undecodable int64
}

// Summary is the result of Run, by dataset name.
type Summary map[string]DatasetStats

// Run archives the configured datasets until ctx is done (or, with Once, until caught up). It
// returns what it wrote even when it fails.
func Run(ctx context.Context, cfg Config) (Summary, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	o := options{cfg.MaxBatchRows, cfg.RowGroupRows, cfg.FlushInterval, cfg.Logger, time.Now}
	var (
		mu  sync.Mutex
		sum = Summary{}
	)
	g, gctx := errgroup.WithContext(ctx)
	for _, name := range cfg.Datasets {
		ds, _ := FindDataset(name)
		g.Go(func() error {
			st, err := runDataset(gctx, cfg, ds, o)
			mu.Lock()
			sum[ds.Name] = st
			mu.Unlock()
			return err
		})
	}
	err := g.Wait()
	if errors.Is(err, context.Canceled) && ctx.Err() != nil {
		err = nil // a requested stop
	}
	return sum, err
}

// runDataset archives one clean topic.
func runDataset(ctx context.Context, cfg Config, ds Dataset, o options) (DatasetStats, error) {
	topic := string(cfg.Namespace.Stream(ds.Topic))
	log := o.logger.With("dataset", ds.Name, "topic", topic)
	resume, err := ScanDataset(cfg.LakeDir, ds.Name)
	if err != nil {
		return DatasetStats{}, err
	}
	starts, ends, err := offsets(ctx, cfg, topic, !cfg.Once)
	if errors.Is(err, kerr.UnknownTopicOrPartition) && cfg.Once {
		log.Info("lake: topic does not exist; nothing to archive")
		return DatasetStats{}, nil
	}
	if err != nil {
		return DatasetStats{}, err
	}
	writers := map[int32]*partitionWriter{}
	start := map[int32]kgo.Offset{}
	for p := range ends {
		b := resume[p]
		writers[p] = newPartitionWriter(ds, cfg.LakeDir, p, o, b)
		if b != nil {
			start[p] = kgo.NewOffset().At(b.First)
		} else {
			start[p] = kgo.NewOffset().AtStart()
			// A partition whose records were all deleted (start = end) is caught up at once.
			writers[p].next = starts[p]
		}
	}
	defer func() {
		for _, w := range writers {
			w.abandon()
		}
	}()
	cl, err := kgo.NewClient(kgo.SeedBrokers(cfg.Brokers...),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: start}),
		kgo.FetchMaxBytes(32<<20))
	if err != nil {
		return DatasetStats{}, fmt.Errorf("lake: kafka client: %w", err)
	}
	defer cl.Close()
	caughtUp := func() bool {
		for p, w := range writers {
			if w.next < ends[p] && ends[p] > 0 {
				return false
			}
		}
		return true
	}
	for !(cfg.Once && caughtUp()) {
		pollCtx, cancel := context.WithTimeout(ctx, time.Second)
		fetches := cl.PollFetches(pollCtx)
		cancel()
		if ctx.Err() != nil {
			break
		}
		var ferr error
		fetches.EachError(func(t string, p int32, err error) {
			if !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
				ferr = errors.Join(ferr, fmt.Errorf("lake: fetch %s/%d: %w", t, p, err))
			}
		})
		if ferr != nil {
			return collect(writers), ferr
		}
		var werr error
		fetches.EachRecord(func(r *kgo.Record) {
			if werr != nil {
				return
			}
			w := writers[r.Partition]
			if w == nil {
				return // a partition added after start; the next run picks it up
			}
			werr = w.add(record{offset: r.Offset, value: r.Value, origin: originOf(r), control: isControl(r)})
		})
		if werr != nil {
			return collect(writers), werr
		}
		now := o.now()
		for _, w := range writers {
			if w.due(now) {
				if err := w.flush(); err != nil {
					return collect(writers), err
				}
			}
		}
	}
	for _, w := range writers {
		if w.repair == nil {
			if err := w.flush(); err != nil {
				return collect(writers), err
			}
		}
	}
	st := collect(writers)
	log.Info("lake: archived", "rows", st.Rows, "files", st.Files, "redelivered_dropped", st.Redelivered, "undecodable", st.Undecodable)
	return st, ctx.Err()
}

func collect(ws map[int32]*partitionWriter) DatasetStats {
	var s DatasetStats
	for _, w := range ws {
		s.Rows += w.stats.Rows
		s.Files += w.stats.Files
		s.Repaired += w.stats.Repaired
		s.Redelivered += w.stats.Redelivered
		s.Control += w.stats.Control
	}
	return s
}

// isControl reports whether r is a control record (docs/formats.md), which holds no row.
func isControl(r *kgo.Record) bool {
	for _, h := range r.Headers {
		if h.Key == event.HeaderControl {
			return true
		}
	}
	return false
}

func originOf(r *kgo.Record) string {
	for _, h := range r.Headers {
		if h.Key == fence.Header {
			return string(h.Value)
		}
	}
	return ""
}

// offsets returns the log start offset and the high-water mark of each partition of topic. With
// wait it retries until the topic exists (the processors create clean topics when they first start).
func offsets(ctx context.Context, cfg Config, topic string, wait bool) (starts, ends map[int32]int64, err error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(cfg.Brokers...))
	if err != nil {
		return nil, nil, fmt.Errorf("lake: kafka client: %w", err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	list := func(f func(context.Context, ...string) (kadm.ListedOffsets, error)) (map[int32]int64, error) {
		listed, err := f(ctx, topic)
		if err == nil {
			err = listed.Error()
		}
		if err != nil {
			return nil, err
		}
		out := map[int32]int64{}
		listed.Each(func(o kadm.ListedOffset) { out[o.Partition] = o.Offset })
		if len(out) == 0 {
			return nil, kerr.UnknownTopicOrPartition
		}
		return out, nil
	}
	for {
		ends, err = list(adm.ListEndOffsets)
		if err == nil {
			starts, err = list(adm.ListStartOffsets)
		}
		if err == nil {
			return starts, ends, nil
		}
		if !wait || !errors.Is(err, kerr.UnknownTopicOrPartition) {
			return nil, nil, fmt.Errorf("lake: offsets of %s: %w", topic, err)
		}
		select {
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		case <-time.After(5 * time.Second):
		}
	}
}

// Partitions lists the partitions of a resume in order (for reports).
func (r Resume) Partitions() []int32 {
	ps := make([]int32, 0, len(r))
	for p := range r {
		ps = append(ps, p)
	}
	sort.Slice(ps, func(i, j int) bool { return ps[i] < ps[j] })
	return ps
}
