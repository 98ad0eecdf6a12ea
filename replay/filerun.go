package replay

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/IBM/sarama"

	"github.com/shopease/shopease/codecs"
	"github.com/shopease/shopease/event"
)

// maxRecordBytes bounds key + value of one record: the broker refuses batches above its
// max.message.bytes (1,048,588 by default) and the producer fails a record that does not fit in
// one batch of Config.BatchBytes, so a larger one is rejected as too_large here, with its row,
// instead of failing at the producer (see recordLimit).
const maxRecordBytes = 1_000_000 - 1024

// recordLimit is the largest key + value sent with batches of batchBytes: 1 KiB is left for the
// batch and record framing and the two replay headers (about 80 bytes).
func recordLimit(batchBytes int) int { return min(maxRecordBytes, batchBytes-1024) }

// deadLetterFraming bounds a dead letter's bytes besides its base64 original: field names,
// reason, detail (replay's details are short), source, time.
const deadLetterFraming = 2048

// manifestSaveEvery is how often the acknowledged progress is written to the manifest.
const manifestSaveEvery = 5 * time.Second

// fileRun is one file's replay in this Run. Counters written by the producer's callbacks are
// atomic or under mu.
type fileRun struct {
	plan      *plan
	status    string
	present   *rowSet // rows of an interrupted replay already on the topics
	prevAcked int64   // acknowledged by earlier, interrupted runs
	dupOf     *fileRun

	read     int64 // rows queued (or, in a dry run, mapped or rejected)
	skipped  int64
	readDone bool
	duration time.Duration
	err      error

	sent      atomic.Int64
	sentBytes atomic.Int64
	lost      atomic.Int64
	acked     atomic.Int64
	mu        sync.Mutex
	rejected  map[event.Reason]int64
}

func (f *fileRun) reject(reason event.Reason) {
	f.mu.Lock()
	if f.rejected == nil {
		f.rejected = map[event.Reason]int64{}
	}
	f.rejected[reason]++
	f.mu.Unlock()
}

// item is a record in flight with what the acknowledgement needs to count it.
type item struct {
	Record
	file   *fileRun
	row    int64
	line   int64
	reason event.Reason // empty for data records
	detail string
	raw    []byte // dead letters: the original row, for the rejects file

	headers [2]sarama.RecordHeader // backs Record.Headers: one allocation per record, not two
}

// The header keys as bytes, shared by every record (sarama only reads them).
var (
	headerSourceKey = []byte(HeaderSource)
	headerRowKey    = []byte(HeaderRow)
)

// classify decides per file: replay, resume, force or skip; records the decision in the
// manifest with the topics' current end offsets, and saves it before anything is sent.
func (r *runner) classify(ctx context.Context, plans []*plan, topics []string) error {
	client := r.producer.Client()
	starts, err := endOffsets(client, topics)
	if err != nil {
		return err
	}
	cluster, err := clusterID(client)
	if err != nil {
		return err
	}
	target := cluster + "/" + string(r.cfg.Namespace)
	for _, p := range plans {
		p.id = identity(p.sha, p.mapping, p.ds, target)
	}
	seen := map[string]*fileRun{}
	var resumed []*manifestEntry
	now := time.Now().UTC()
	for _, p := range plans {
		f := &fileRun{plan: p}
		r.files = append(r.files, f)
		if first := seen[p.id]; first != nil {
			f.status, f.dupOf = StatusSkipped, first // the same content twice in one run
			continue
		}
		seen[p.id] = f
		e := r.manifest.entry(p.id)
		switch {
		case e != nil && e.State == stateDone && !r.cfg.Force:
			f.status, f.skipped = StatusSkipped, e.Rows
		case e != nil && e.State == stateRunning && !r.cfg.Force:
			f.status, f.prevAcked = StatusResumed, e.Acked
			resumed = append(resumed, e)
		default:
			f.status = StatusReplayed
			if e != nil {
				f.status = StatusForced
			}
		}
		r.manifest.update(func(entries map[string]*manifestEntry) {
			e := entries[p.id]
			if e == nil {
				e = &manifestEntry{ID: p.id, SHA256: p.sha, Mapping: p.mapping.Name, Dataset: string(p.ds), Target: target}
				entries[p.id] = e
			}
			e.Names = sortedNames(e.Names, p.path)
			if f.status == StatusSkipped {
				return
			}
			e.Runs++
			if f.status != StatusResumed {
				e.State, e.Started, e.Finished = stateRunning, now, time.Time{}
				e.Acked, e.Sent, e.Rejected, e.Rows = 0, 0, 0, 0
				e.StartOffsets = map[string]map[int32]int64{}
				for _, t := range []string{string(r.cfg.Namespace.Stream(p.ds.topic())), r.dlq} {
					e.StartOffsets[t] = starts[t]
				}
			}
		})
	}
	if len(resumed) > 0 {
		r.logger.Info("resuming interrupted replays: reading what reached the topics", "files", len(resumed))
		found, err := presentRows(ctx, client, resumed)
		if err != nil {
			return err
		}
		for _, f := range r.files {
			if f.status == StatusResumed {
				f.present = found[f.plan.id]
			}
		}
	}
	return r.manifest.save()
}

// replayFile streams one file's rows to the producer (or, in a dry run, only maps them).
func (r *runner) replayFile(ctx context.Context, f *fileRun) error {
	start := time.Now()
	defer func() { f.duration = time.Since(start) }()
	fail := func(err error) error {
		f.err = fmt.Errorf("replay %s: %w", f.plan.path, err)
		return f.err
	}
	src, err := openSource(f.plan.path, &r.prog.stored)
	if err != nil {
		return fail(err)
	}
	defer src.Close()
	var rows rowReader
	var header []string
	switch src.format {
	case formatCSV:
		c, err := newCSVRows(src.r, r.cfg.MaxRowBytes)
		if err != nil {
			return fail(err)
		}
		rows, header = c, c.header
	case formatJSONArray:
		rows = newJSONArrayRows(src.r, r.cfg.MaxRowBytes)
	default:
		rows = newNDJSONRows(src.r, r.cfg.MaxRowBytes)
	}
	base := filepath.Base(f.plan.path)
	fm, err := newFileMapper(f.plan.mapping, f.plan.ds, base, header)
	if err != nil {
		return fail(err)
	}
	topic := string(r.cfg.Namespace.Stream(f.plan.ds.topic()))
	src2 := []byte(f.plan.id)
	pace := pacer{rate: r.cfg.Rate}
	lastSave := time.Now()
	limit := recordLimit(r.cfg.BatchBytes)
	for {
		if err := ctx.Err(); err != nil {
			return fail(err)
		}
		rw, err := rows.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fail(err)
		}
		// Rows already on the topics are still mapped: line ordinals must count every row.
		var rec record
		rej := &rejection{rw.reason, rw.detail}
		if rw.reason == "" {
			rec, rej = fm.mapRow(rw)
			if rej == nil && len(rec.key)+len(rec.value) > limit {
				rej = &rejection{event.ReasonTooLarge, fmt.Sprintf("record of %d bytes above the limit of %d (the producer's batch size or the topic's max.message.bytes)", len(rec.key)+len(rec.value), limit)}
			}
		}
		if f.present.has(rw.num) {
			f.skipped++
			continue
		}
		r.prog.rows.Add(1)
		if r.cfg.DryRun {
			f.read++
			if rej != nil {
				f.reject(rej.reason)
				r.rejects.write(rejectLine{File: f.plan.path, Line: rw.line, Row: rw.num, Dataset: string(f.plan.ds), Reason: rej.reason, Detail: rej.detail}, rw.raw)
			} else {
				f.sent.Add(1)
				f.sentBytes.Add(int64(len(rec.key) + len(rec.value)))
			}
			continue
		}
		it := &item{file: f, row: rw.num, line: rw.line}
		it.headers = [2]sarama.RecordHeader{
			{Key: headerSourceKey, Value: src2},
			{Key: headerRowKey, Value: strconv.AppendInt(nil, rw.num, 10)},
		}
		it.Headers = it.headers[:]
		it.Meta = it
		if rej == nil {
			it.Topic, it.Key, it.Value, it.Time = topic, rec.key, rec.value, rec.time
		} else if err := r.deadLetter(it, f, base, rw, rej, limit); err != nil {
			return fail(err)
		}
		if err := pace.wait(ctx); err != nil {
			return fail(err)
		}
		if err := r.producer.Send(ctx, &it.Record); err != nil {
			return fail(err)
		}
		f.read++
		if time.Since(lastSave) > manifestSaveEvery {
			r.saveProgress()
			lastSave = time.Now()
		}
	}
	f.readDone = true
	return nil
}

// deadLetter makes it the dead letter of a rejected row: the original bytes, reason, file:line.
// The original is cut so that the dead letter fits in limit bytes: it travels base64-encoded
// (4/3 of its size), and a row may be as long as MaxRowBytes.
func (r *runner) deadLetter(it *item, f *fileRun, base string, rw *row, rej *rejection, limit int) error {
	source := base + ":" + strconv.FormatInt(rw.line, 10)
	raw, detail := rw.raw, rej.detail
	if keep := (limit - deadLetterFraming) / 4 * 3; len(raw) > keep {
		raw = raw[:keep]
		detail += fmt.Sprintf(" (original cut to its first %d of %d bytes)", keep, len(rw.raw))
	}
	it.reason, it.detail, it.raw = rej.reason, detail, bytes.Clone(raw)
	now := time.Now().UTC()
	v, err := codecs.DeadLetter{}.Encode(&event.DeadLetter{
		Reason: string(rej.reason), Detail: detail, Source: source, Processor: "replay",
		Dataset: string(f.plan.ds), Original: it.raw, Time: now,
	})
	if err != nil {
		return fmt.Errorf("encode dead letter of line %d: %w", rw.line, err)
	}
	if n := len(source) + len(v); n > limit {
		return fmt.Errorf("dead letter of line %d: %d bytes above the record limit of %d", rw.line, n, limit)
	}
	it.Topic, it.Key, it.Value, it.Time = r.dlq, []byte(source), v, now
	return nil
}

func (r *runner) onAck(rec *Record) {
	it := rec.Meta.(*item)
	f := it.file
	f.acked.Add(1)
	if it.reason == "" {
		f.sent.Add(1)
		f.sentBytes.Add(int64(len(it.Key) + len(it.Value)))
		return
	}
	f.reject(it.reason)
	r.rejects.write(rejectLine{File: f.plan.path, Line: it.line, Row: it.row, Dataset: string(f.plan.ds), Reason: it.reason, Detail: it.detail}, it.raw)
}

func (r *runner) onError(rec *Record, err error) {
	it := rec.Meta.(*item)
	it.file.lost.Add(1)
	r.logger.Error("record not acknowledged", "file", it.file.plan.path, "line", it.line, "err", err)
}

// saveProgress writes the acknowledged counts to the manifest; a failure is only logged, since
// the final save reports it.
func (r *runner) saveProgress() {
	r.manifest.update(func(entries map[string]*manifestEntry) {
		for _, f := range r.files {
			if e := entries[f.plan.id]; e != nil && f.status != StatusSkipped {
				e.Acked = f.prevAcked + f.acked.Load()
			}
		}
	})
	if err := r.manifest.save(); err != nil {
		r.logger.Warn("cannot save replay progress", "err", err)
	}
}

// finalize marks every file whose rows are all acknowledged as done; the others stay running,
// so the next run resumes them.
func (r *runner) finalize() {
	now := time.Now().UTC()
	r.manifest.update(func(entries map[string]*manifestEntry) {
		for _, f := range r.files {
			e := entries[f.plan.id]
			if e == nil || f.status == StatusSkipped {
				continue
			}
			e.Acked = f.prevAcked + f.acked.Load()
			if f.readDone && f.err == nil && f.lost.Load() == 0 {
				e.State, e.Finished = stateDone, now
				e.Rows = f.read + f.skipped
				e.Sent = f.sent.Load()
				e.Rejected = f.acked.Load() - f.sent.Load()
			}
		}
	})
}

// summary gathers the per-file counts.
func (r *runner) summary() *Summary {
	s := &Summary{DryRun: r.cfg.DryRun}
	for _, f := range r.files {
		fs := FileSummary{Path: f.plan.path, Dataset: string(f.plan.ds), Mapping: f.plan.mapping.Name,
			Status: f.status, Duration: f.duration}
		c := &fs.Counts
		c.Files = 1
		c.Read, c.Skipped, c.Sent, c.Lost = f.read, f.skipped, f.sent.Load(), f.lost.Load()
		c.SentBytes = f.sentBytes.Load()
		f.mu.Lock()
		for k, v := range f.rejected {
			if c.Rejected == nil {
				c.Rejected = map[event.Reason]int64{}
			}
			c.Rejected[k] = v
		}
		f.mu.Unlock()
		if f.dupOf != nil {
			c.Skipped = f.dupOf.read + f.dupOf.skipped
		}
		if f.status != StatusSkipped {
			c.Bytes = f.plan.size
		}
		if f.err != nil || c.Lost > 0 || (!f.readDone && f.status != StatusSkipped) {
			fs.Status = StatusFailed
			if f.err != nil {
				fs.Err = f.err.Error()
			}
		}
		s.Files = append(s.Files, fs)
	}
	s.tally()
	return s
}
