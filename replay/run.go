package replay

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/IBM/sarama"

	"github.com/shopease/shopease/processors/topology"
)

// plan is one file to replay, with everything decided before the first record is sent.
type plan struct {
	path    string
	size    int64
	format  format
	ds      dataset
	mapping *Mapping
	sha     string
	id      string
}

// Run replays the files and directories of cfg.Paths and returns the summary, also when it
// returns an error as well:
//   - ErrConfig, ErrNoDataset, ErrUnreadable (at planning), ErrTopicMissing: nothing was sent;
//   - ErrUnreadable naming a file that broke while being read: the other files were replayed,
//     that one is resumable;
//   - ErrLost: some records were not acknowledged; run again to resume;
//   - the context's error when ctx ends: run again to resume.
func Run(ctx context.Context, cfg Config, logger *slog.Logger) (*Summary, error) {
	start := time.Now()
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	res, err := newResolver(&cfg)
	if err != nil {
		return nil, err
	}
	paths, err := listFiles(cfg.Paths)
	if err != nil {
		return nil, err
	}
	plans, err := planFiles(paths, res, cfg.MaxRowBytes)
	if err != nil {
		return nil, err
	}
	r := &runner{cfg: cfg, logger: logger}
	var runErr error
	if cfg.DryRun {
		runErr = r.dryRun(ctx, plans)
	} else {
		runErr = r.send(ctx, plans)
	}
	s := r.summary()
	s.Duration = time.Since(start)
	if runErr == nil && s.Total.Lost > 0 {
		runErr = fmt.Errorf("%w: %d records", ErrLost, s.Total.Lost)
	}
	return s, runErr
}

// listFiles expands directories (recursively, lexical order, history files only) and checks
// that every path exists.
func listFiles(paths []string) ([]string, error) {
	var out []string
	var errs []error
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			errs = append(errs, fmt.Errorf("%w: %w", ErrUnreadable, err))
			continue
		}
		if !st.IsDir() {
			out = append(out, p)
			continue
		}
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() && historyFile(d.Name()) {
				out = append(out, path)
			}
			return nil
		})
		if err != nil {
			errs = append(errs, fmt.Errorf("%w: %w", ErrUnreadable, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: no .csv, .json, .ndjson or .jsonl files in %v", ErrUnreadable, paths)
	}
	return out, nil
}

// planFiles decides each file's format, dataset and mapping (reading a CSV's header) and hashes
// its content, so a file that cannot be replayed fails the run before anything is sent.
func planFiles(paths []string, res *resolver, maxRow int) ([]*plan, error) {
	var plans []*plan
	var errs []error
	for _, path := range paths {
		p, err := planFile(path, res, maxRow)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", path, err))
			continue
		}
		plans = append(plans, p)
	}
	return plans, errors.Join(errs...)
}

func planFile(path string, res *resolver, maxRow int) (*plan, error) {
	src, err := openSource(path, nil)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	var header []string
	if src.format == formatCSV {
		c, err := newCSVRows(src.r, maxRow)
		if err != nil {
			return nil, err
		}
		header = c.header
	}
	ds, m, err := res.resolve(path, header)
	if err != nil {
		return nil, err
	}
	if header != nil {
		if _, err := newFileMapper(m, ds, filepath.Base(path), header); err != nil {
			return nil, err
		}
	}
	st, err := src.file.Stat()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnreadable, err)
	}
	sha, err := hashFile(path)
	if err != nil {
		return nil, err
	}
	return &plan{path: path, size: st.Size(), format: src.format, ds: ds, mapping: m, sha: sha, id: identity(sha, m, ds, "")}, nil
}

// runner is one Run's state.
type runner struct {
	cfg      Config
	logger   *slog.Logger
	files    []*fileRun
	producer *Producer
	manifest *manifest
	rejects  *rejectsFile
	prog     *progress
	dlq      string
}

func (r *runner) dryRun(ctx context.Context, plans []*plan) error {
	rejects, err := openRejects(r.cfg.RejectsPath)
	if err != nil {
		return err
	}
	r.rejects = rejects
	var total int64
	for _, p := range plans {
		r.files = append(r.files, &fileRun{plan: p, status: StatusDryRun})
		total += p.size
	}
	r.prog = startProgress(ctx, &r.cfg, total, r.logger)
	var errs []error
	for _, f := range r.files {
		if err := r.replayFile(ctx, f); err != nil {
			errs = append(errs, err)
			if ctx.Err() != nil {
				break
			}
		}
	}
	r.prog.finish()
	if err := r.rejects.close(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// send is the real replay: manifest, topics, resume, files, acknowledgements.
func (r *runner) send(ctx context.Context, plans []*plan) (err error) {
	r.manifest, err = openManifest(ctx, r.cfg.ManifestPath, r.logger)
	if err != nil {
		return err
	}
	defer r.manifest.close()
	if r.rejects, err = openRejects(r.cfg.RejectsPath); err != nil {
		return err
	}
	defer func() {
		if cerr := r.rejects.close(); cerr != nil && err == nil {
			err = cerr
		}
	}()
	r.dlq = string(r.cfg.Namespace.Stream(topology.DeadLetter))
	topics := r.topics(plans)
	if lim := smallestTopicLimit(ctx, r.cfg.Brokers, topics, r.logger); lim > 0 && lim < r.cfg.BatchBytes {
		r.logger.Info("a target topic takes records of at most max.message.bytes: batches are cut to it and larger rows rejected as too_large",
			"max_message_bytes", lim, "batch_bytes", r.cfg.BatchBytes)
		r.cfg.BatchBytes = lim
	}
	r.producer, err = NewProducer(r.cfg.Brokers,
		WithCompression(r.cfg.Compression),
		WithBatching(r.cfg.BatchBytes, r.cfg.BatchLinger, r.cfg.BatchMessages),
		WithProducerLogger(r.logger),
		WithCallbacks(r.onAck, r.onError))
	if err != nil {
		return err
	}
	closed := false
	defer func() {
		if !closed {
			r.producer.Close()
		}
	}()
	if err := checkTopics(r.producer.Client(), topics, r.cfg.Partitions); err != nil {
		return err
	}
	if err := r.classify(ctx, plans, topics); err != nil {
		return err
	}
	var total int64
	for _, f := range r.files {
		if f.status != StatusSkipped {
			total += f.plan.size
		}
	}
	r.prog = startProgress(ctx, &r.cfg, total, r.logger)
	var errs []error
	for _, f := range r.files {
		if f.status == StatusSkipped {
			continue
		}
		if err := r.replayFile(ctx, f); err != nil {
			errs = append(errs, err)
			if ctx.Err() != nil {
				break
			}
		}
	}
	r.producer.Flush()
	r.prog.finish()
	if r.cfg.EndOfInput && len(errs) == 0 && ctx.Err() == nil && r.producer.Stats().Failed == 0 {
		// Before the manifest is saved: a crash in between resumes the run and writes them again.
		if err := r.writeEndOfInput(ctx, plans); err != nil {
			errs = append(errs, err)
		}
	}
	r.finalize()
	if err := r.manifest.save(); err != nil {
		errs = append(errs, err)
	}
	closed = true
	if err := r.producer.Close(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// topics lists the topics this run writes, sorted: the datasets' raw topics and the dead letters.
func (r *runner) topics(plans []*plan) []string {
	set := map[string]bool{r.dlq: true}
	for _, p := range plans {
		set[string(r.cfg.Namespace.Stream(p.ds.topic()))] = true
	}
	var out []string
	for t := range set {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

// checkTopics fails when a topic is missing or, with partitions > 0, has another count.
func checkTopics(client sarama.Client, topics []string, partitions int) error {
	if err := client.RefreshMetadata(topics...); err != nil && !errors.Is(err, sarama.ErrUnknownTopicOrPartition) {
		return fmt.Errorf("replay: read topic metadata: %w", err)
	}
	var missing, wrong []string
	for _, t := range topics {
		parts, err := client.Partitions(t)
		if errors.Is(err, sarama.ErrUnknownTopicOrPartition) || (err == nil && len(parts) == 0) {
			missing = append(missing, t)
			continue
		}
		if err != nil {
			return fmt.Errorf("replay: partitions of %s: %w", t, err)
		}
		if partitions > 0 && len(parts) != partitions {
			wrong = append(wrong, fmt.Sprintf("%s has %d", t, len(parts)))
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: %v", ErrTopicMissing, missing)
	}
	if len(wrong) > 0 {
		return fmt.Errorf("%w: want %d partitions: %v", ErrConfig, partitions, wrong)
	}
	return nil
}
