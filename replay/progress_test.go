package replay

import (
	"bytes"
	"context"
	"regexp"
	"testing"
	"time"
)

func TestProgressBar(t *testing.T) {
	var out bytes.Buffer
	p := &progress{totalBytes: 1000, bar: &out, start: time.Now().Add(-2 * time.Second)}
	p.rows.Store(5000)
	p.stored.Store(250)
	p.draw()
	// 5,000 rows in 2 s, a quarter of the bytes: 2,500 rows/s and 6 s to go.
	re := regexp.MustCompile(`^\r\[=======                       \]  25% 5000 rows 2\d{3} rows/s 0\.0 MB/s ETA [56]s`)
	if !re.MatchString(out.String()) {
		t.Errorf("bar %q", out.String())
	}
}

func TestProgressNotTerminal(t *testing.T) {
	var buf bytes.Buffer
	cfg := Config{Progress: &buf, ProgressInterval: time.Hour}
	p := startProgress(context.Background(), &cfg, 10, nil)
	if p.bar != nil {
		t.Error("a buffer is not a terminal: want log lines, not a bar")
	}
	p.finish()
	if buf.Len() != 0 {
		t.Errorf("wrote %q to a non-terminal", buf.String())
	}
}

func TestPacer(t *testing.T) {
	p := pacer{rate: 500}
	start := time.Now()
	for i := 0; i < 101; i++ {
		if err := p.wait(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	// 101 events at 500/s: the last one no earlier than 200 ms after the first.
	if el := time.Since(start); el < 195*time.Millisecond || el > 2*time.Second {
		t.Errorf("101 events at 500/s took %v, want about 200 ms", el)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	slow := pacer{rate: 0.001}
	slow.wait(ctx)
	if err := slow.wait(ctx); err == nil {
		t.Error("a cancelled wait returned nil")
	}
}
