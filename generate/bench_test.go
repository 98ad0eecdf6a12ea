package generate

import (
	"context"
	"testing"
	"time"
)

// BenchmarkGenerate measures generation speed of the presets (rows/s). Large writes about 1 GB of
// gzipped files: run it alone, e.g. go test -run '^$' -bench 'Generate/large' -benchtime 1x.
func BenchmarkGenerate(b *testing.B) {
	for _, name := range []string{"tiny", "small", "medium", "large"} {
		b.Run(name, func(b *testing.B) {
			cfg, _ := Preset(name)
			var rows int64
			began := time.Now()
			for range b.N {
				cfg.Dir = b.TempDir()
				tr, err := Run(context.Background(), cfg, nil)
				if err != nil {
					b.Fatal(err)
				}
				rows += tr.TotalRows()
				for ds, d := range tr.Datasets {
					b.Logf("%s: %d rows", ds, d.Rows)
				}
			}
			b.ReportMetric(float64(rows)/time.Since(began).Seconds(), "rows/s")
			b.ReportMetric(float64(rows)/float64(b.N), "rows/op")
		})
	}
}
