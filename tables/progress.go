package tables

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// RecoveryProgress is a point-in-time view of one partition's recovery.
type RecoveryProgress struct {
	Records       int64         // Set and Delete calls since Open
	FirstOffset   int64         // first offset set since Open, -1 if none yet
	LastOffset    int64         // last offset set since Open, -1 if none yet
	HighWaterMark int64         // from WithHighWaterMark, -1 when unknown
	Elapsed       time.Duration // since Open
	Done          bool          // MarkRecovered has run
}

// Rate returns records per second over the whole recovery so far.
func (p RecoveryProgress) Rate() float64 {
	if p.Elapsed <= 0 {
		return 0
	}
	return float64(p.Records) / p.Elapsed.Seconds()
}

// ETA estimates the time left from the offsets covered so far and the high-water mark. Offsets, not
// records, because a compacted changelog has gaps. ok is false when there is no estimate yet.
func (p RecoveryProgress) ETA() (eta time.Duration, ok bool) {
	if p.HighWaterMark < 0 || p.FirstOffset < 0 || p.Elapsed <= 0 {
		return 0, false
	}
	covered := p.LastOffset - p.FirstOffset + 1
	remaining := p.HighWaterMark - 1 - p.LastOffset
	if remaining <= 0 {
		return 0, true
	}
	perSecond := float64(covered) / p.Elapsed.Seconds()
	return time.Duration(float64(remaining) / perSecond * float64(time.Second)), true
}

// Progress returns the recovery progress of this storage; Done is true and the counters are those
// of the finished recovery once MarkRecovered has run. ok is false when Open was never called.
func (s *Storage) Progress() (p RecoveryProgress, ok bool) {
	pr := s.progress.Load()
	if pr == nil {
		return RecoveryProgress{}, false
	}
	return pr.snapshot(), true
}

// progress counts recovery writes and logs them periodically. Its counters are updated under
// Storage.mu by the writer and read under its own lock by the logging goroutine.
type progress struct {
	s      *Storage
	log    *slog.Logger
	start  time.Time
	cancel context.CancelFunc

	mu       sync.Mutex
	p        RecoveryProgress
	finished bool
}

func startProgress(s *Storage) *progress {
	ctx, cancel := context.WithCancel(context.Background())
	pr := &progress{
		s:      s,
		log:    s.o.logger.With("topic", s.topic, "partition", s.partition),
		start:  s.o.now(),
		cancel: cancel,
		p:      RecoveryProgress{FirstOffset: -1, LastOffset: -1, HighWaterMark: -1},
	}
	go pr.run(ctx)
	return pr
}

func (pr *progress) run(ctx context.Context) {
	t := time.NewTicker(pr.s.o.progressInterval)
	defer t.Stop()
	asked := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if !asked && pr.s.o.highWaterMark != nil {
			asked = true
			pr.askHighWaterMark(ctx)
		}
		pr.logProgress()
	}
}

func (pr *progress) askHighWaterMark(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	hwm, err := pr.s.o.highWaterMark(ctx, pr.s.topic, pr.s.partition)
	if err != nil {
		pr.log.Warn("table recovery: no high-water mark, progress without ETA", "err", err)
		return
	}
	pr.mu.Lock()
	pr.p.HighWaterMark = hwm
	pr.mu.Unlock()
}

func (pr *progress) logProgress() {
	pr.mu.Lock()
	finished := pr.finished
	pr.mu.Unlock()
	if finished {
		return // the summary line is (being) written; a late progress line would follow it
	}
	p := pr.snapshot()
	attrs := []any{"records", p.Records, "offset", p.LastOffset,
		"rate_per_s", int64(p.Rate()), "elapsed", p.Elapsed.Round(time.Millisecond)}
	if p.HighWaterMark >= 0 {
		attrs = append(attrs, "high_water_mark", p.HighWaterMark)
	}
	if eta, ok := p.ETA(); ok {
		attrs = append(attrs, "eta", eta.Round(time.Second))
	}
	pr.log.Info("table recovery progress", attrs...)
}

func (pr *progress) snapshot() RecoveryProgress {
	pr.mu.Lock()
	defer pr.mu.Unlock()
	p := pr.p
	if !p.Done {
		p.Elapsed = pr.s.o.now().Sub(pr.start)
	}
	return p
}

// record counts one Set or Delete. Nil-safe: a storage that was never opened has no progress.
func (pr *progress) record() {
	if pr == nil {
		return
	}
	pr.mu.Lock()
	pr.p.Records++
	pr.mu.Unlock()
}

func (pr *progress) offset(off int64) {
	if pr == nil {
		return
	}
	pr.mu.Lock()
	if pr.p.FirstOffset < 0 {
		pr.p.FirstOffset = off
	}
	pr.p.LastOffset = off
	pr.mu.Unlock()
}

// finish stops the logging goroutine; recovered says whether MarkRecovered completed, which is
// when the summary line is logged. It does not wait for the goroutine: that may be inside the
// high-water-mark hook, and MarkRecovered must not wait for the network.
func (pr *progress) finish(recovered bool) {
	if pr == nil {
		return
	}
	pr.mu.Lock()
	if pr.finished {
		pr.mu.Unlock()
		return
	}
	pr.finished = true
	pr.p.Elapsed = pr.s.o.now().Sub(pr.start)
	pr.p.Done = recovered
	p := pr.p
	pr.mu.Unlock()
	pr.cancel()
	if !recovered {
		return
	}
	level := slog.LevelInfo
	if p.Records == 0 {
		level = slog.LevelDebug // up to date already: nothing worth a line per partition
	}
	pr.log.Log(context.Background(), level, "table recovered", "records", p.Records,
		"offset", p.LastOffset, "duration", p.Elapsed.Round(time.Millisecond), "rate_per_s", int64(p.Rate()))
}
