package replay

import (
	"context"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/shopease/shopease/event"
	"github.com/shopease/shopease/generate"
	"github.com/shopease/shopease/processors/topology"
	"github.com/shopease/shopease/testenv"
)

// benchReplay replays the full Online Retail data b.N times (into a fresh namespace each time,
// or as a dry run) and reports rows/s and MB/s of the files as stored; run with -benchtime=3x
// and take the median of the three.
func benchReplay(b *testing.B, brokers []string, dry bool) {
	if _, err := os.Stat(fullSet); err != nil {
		b.Skip("full Online Retail data not here")
	}
	var rows, bytes, sentBytes int64
	var secs float64
	cpu0 := cpuTime()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		cfg := DefaultConfig()
		cfg.Paths, cfg.RejectsPath, cfg.DryRun = []string{fullSet}, "", dry
		if c := os.Getenv("REPLAY_BENCH_COMPRESSION"); c != "" {
			cfg.Compression = c
		}
		if !dry {
			ns := testenv.Namespace(b)
			createTopics(b, brokers, ns)
			cfg.Brokers, cfg.Namespace, cfg.ManifestPath = brokers, ns, b.TempDir()+"/manifest.json"
		}
		b.StartTimer()
		s, err := Run(context.Background(), cfg, nil)
		if err != nil {
			b.Fatal(err)
		}
		rows += s.Total.Read
		bytes += s.Total.Bytes
		sentBytes += s.Total.SentBytes
		secs += s.Duration.Seconds()
		b.Logf("run %d: %d rows in %.2f s: %.0f rows/s, %.1f MB/s of records (%.0f bytes each)", i+1, s.Total.Read, s.Duration.Seconds(),
			float64(s.Total.Read)/s.Duration.Seconds(), float64(s.Total.SentBytes)/1e6/s.Duration.Seconds(), float64(s.Total.SentBytes)/float64(s.Total.Sent))
	}
	// CPU time of the whole test process (with kfake when embedded): on a shared machine, rows per
	// CPU second say more about replay's own cost than wall time does.
	b.ReportMetric(float64(rows)/(cpuTime()-cpu0).Seconds(), "rows/cpu-s")
	b.ReportMetric(float64(rows)/secs, "rows/s")
	b.ReportMetric(float64(bytes)/1e6/secs, "file-MB/s")
	b.ReportMetric(float64(sentBytes)/1e6/secs, "record-MB/s")
}

func BenchmarkReplayDryRun(b *testing.B) { benchReplay(b, nil, true) }

func BenchmarkReplayEmbedded(b *testing.B) {
	e, err := testenv.StartEmbedded(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	benchReplay(b, e.Brokers(), false)
}

func BenchmarkReplayReal(b *testing.B) {
	benchReplay(b, testenv.RealKafka(b).Brokers(), false)
}

// cpuTime is the user + system CPU time of this process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkReplayGenerated1M replays a generated history of about a million rows into the real
// broker and checks every topic's count against the generator's truth (issue 4's acceptance).
func BenchmarkReplayGenerated1M(b *testing.B) {
	brokers := testenv.RealKafka(b).Brokers()
	gc := generate.DefaultConfig()
	gc.TargetEvents, gc.Dir, gc.Gzip = 1_000_000, b.TempDir(), true
	truth, err := generate.Run(context.Background(), gc, nil)
	if err != nil {
		b.Fatal(err)
	}
	var rows int64
	var secs float64
	for i := 0; i < b.N; i++ {
		ns := testenv.Namespace(b)
		createTopics(b, brokers, ns)
		cfg := DefaultConfig()
		cfg.Paths, cfg.Brokers, cfg.Namespace = []string{gc.Dir}, brokers, ns
		cfg.ManifestPath, cfg.RejectsPath = b.TempDir()+"/manifest.json", ""
		s, err := Run(context.Background(), cfg, nil)
		if err != nil {
			b.Fatal(err)
		}
		rows += s.Total.Read
		secs += s.Duration.Seconds()
		b.Logf("run %d: %d rows in %.2f s: %.0f rows/s, %.1f MB/s of records", i+1, s.Total.Read, s.Duration.Seconds(),
			float64(s.Total.Read)/s.Duration.Seconds(), float64(s.Total.SentBytes)/1e6/s.Duration.Seconds())
		b.StopTimer()
		var rejected int64
		for name, d := range truth.Datasets {
			bad := d.Rejected[event.ReasonBadType] // replay rejects these, see TestDryRunGenerated
			got := s.Datasets[name]
			if got == nil || got.Read != d.Rows || got.Sent != d.Sent-bad {
				b.Fatalf("%s: %+v, truth %d rows, %d sent, %d bad_type", name, got, d.Rows, d.Sent, bad)
			}
			topic := string(ns.Stream(dataset(name).topic()))
			if n := int64(len(readTopic(b, brokers, topic))); n != d.Sent-bad {
				b.Fatalf("%s holds %d records, truth %d", topic, n, d.Sent-bad)
			}
			for _, n := range d.Unparseable {
				rejected += n
			}
			rejected += bad
		}
		if n := int64(len(readTopic(b, brokers, string(ns.Stream(topology.DeadLetter))))); n != rejected || s.Total.RejectedTotal() != rejected {
			b.Fatalf("dead letters %d, summary %d, truth %d", n, s.Total.RejectedTotal(), rejected)
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(rows)/secs, "rows/s")
}
