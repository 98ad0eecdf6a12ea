package replay

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync/atomic"
	"time"
)

// progress shows how far a replay is: a bar redrawn on a terminal (rows, rows/s, MB/s, ETA),
// plain log lines every interval otherwise. ETA is from the bytes of the files as stored, the
// only total known before reading.
type progress struct {
	rows       atomic.Int64
	stored     atomic.Int64 // bytes of files as stored, read so far
	totalBytes int64
	bar        io.Writer // nil: log lines
	interval   time.Duration
	logger     *slog.Logger
	start      time.Time
	stop       chan struct{}
	done       chan struct{}
}

// isTerminal reports whether w is a character device (a terminal), without a dependency.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func startProgress(ctx context.Context, cfg *Config, totalBytes int64, logger *slog.Logger) *progress {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	p := &progress{totalBytes: totalBytes, interval: cfg.ProgressInterval, logger: logger,
		start: time.Now(), stop: make(chan struct{}), done: make(chan struct{})}
	if cfg.Progress != nil && isTerminal(cfg.Progress) {
		p.bar, p.interval = cfg.Progress, 250*time.Millisecond
	}
	go p.loop(ctx)
	return p
}

func (p *progress) loop(ctx context.Context) {
	defer close(p.done)
	t := time.NewTicker(p.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-p.stop:
			if p.bar != nil {
				p.draw()
				fmt.Fprintln(p.bar)
			}
			return
		case <-t.C:
			if p.bar != nil {
				p.draw()
			} else {
				p.log()
			}
		}
	}
}

func (p *progress) finish() {
	close(p.stop)
	<-p.done
}

func (p *progress) rates() (rows int64, rowsPerS, mbPerS float64, eta time.Duration, frac float64) {
	el := time.Since(p.start).Seconds()
	rows, stored := p.rows.Load(), p.stored.Load()
	if el > 0 {
		rowsPerS, mbPerS = float64(rows)/el, float64(stored)/1e6/el
	}
	if p.totalBytes > 0 {
		frac = min(1, float64(stored)/float64(p.totalBytes))
	}
	if stored > 0 && frac < 1 {
		eta = time.Duration(el * (1 - frac) / frac * float64(time.Second)).Round(time.Second)
	}
	return
}

func (p *progress) draw() {
	rows, rps, mbps, eta, frac := p.rates()
	const width = 30
	n := int(frac * width)
	fmt.Fprintf(p.bar, "\r[%s%s] %3.0f%% %d rows %.0f rows/s %.1f MB/s ETA %s   ",
		strings.Repeat("=", n), strings.Repeat(" ", width-n), frac*100, rows, rps, mbps, eta)
}

func (p *progress) log() {
	rows, rps, mbps, eta, frac := p.rates()
	p.logger.Info("replay progress", "rows", rows, "rows_per_s", int64(rps), "mb_per_s", fmt.Sprintf("%.1f", mbps),
		"done_pct", int(frac*100), "eta", eta.String())
}

// pacer holds a loop to rate events per second (0: no limit).
type pacer struct {
	rate  float64
	start time.Time
	n     float64
}

func (p *pacer) wait(ctx context.Context) error {
	if p.rate <= 0 {
		return nil
	}
	if p.n == 0 {
		p.start = time.Now()
	}
	p.n++
	ahead := time.Until(p.start.Add(time.Duration(p.n / p.rate * float64(time.Second))))
	if ahead < time.Millisecond {
		return nil
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(ahead):
		return nil
	}
}
