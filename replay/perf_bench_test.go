package replay

import (
	"bufio"
	"compress/gzip"
	"context"
	"encoding/csv"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/shopease/shopease/testenv"
)

// perfDescription bounds the Description column, so that the synthesized records have the average
// size of the full data's (291 bytes: the testdata days have longer descriptions than the average).
const perfDescription = 14

// perfRecords is the number of rows BenchmarkReplayPerfCompare replays, the same as
// scripts/perftest.sh's default number of records.
const perfRecords = 500_000

// BenchmarkReplayPerfCompare replays a synthesized Online Retail file of 500,000 rows (or
// REPLAY_PERF_RECORDS) into the real broker, on topics of testPartitions partitions, and reports
// records/s and B/record (key + value, as sent), to set against scripts/perftest.sh, which runs
// Kafka's own kafka-producer-perf-test with that record size on the same broker (issue 4's target:
// replay ≥ 70% of it). The file is plain CSV and holds the testdata rows over and over under fresh
// invoice numbers and descriptions cut to perfDescription bytes, so records have the size and
// shape of the full data's (291 bytes on average). With REPLAY_PERF_PAYLOADS=FILE it also writes
// the records' values to FILE, one a line, for kafka-producer-perf-test's --payload-file: the tool
// then sends the very bytes replay sends (same compressibility), without keys and headers.
func BenchmarkReplayPerfCompare(b *testing.B) {
	brokers := testenv.RealKafka(b).Brokers()
	n := perfRecords
	if s := os.Getenv("REPLAY_PERF_RECORDS"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil {
			b.Fatal(err)
		}
	}
	path := filepath.Join(b.TempDir(), "online-retail-perf.csv")
	synthesizeOnlineRetail(b, path, n)
	if out := os.Getenv("REPLAY_PERF_PAYLOADS"); out != "" {
		writePerfPayloads(b, path, out)
	}
	b.ResetTimer()
	var rows, sentBytes int64
	var secs float64
	var cpu time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		ns := testenv.Namespace(b)
		createTopics(b, brokers, ns)
		cfg := DefaultConfig()
		cfg.Paths, cfg.Brokers, cfg.Namespace, cfg.Profile = []string{path}, brokers, ns, "online-retail"
		cfg.ManifestPath, cfg.RejectsPath = b.TempDir()+"/manifest.json", ""
		b.StartTimer()
		cpu0 := cpuTime()
		s, err := Run(context.Background(), cfg, nil)
		cpu += cpuTime() - cpu0
		if err != nil {
			b.Fatal(err)
		}
		if s.Total.Sent != int64(n) {
			b.Fatalf("sent %d of %d rows: %+v", s.Total.Sent, n, s.Total)
		}
		rows += s.Total.Sent
		sentBytes += s.Total.SentBytes
		secs += s.Duration.Seconds()
		b.Logf("run %d: %d records in %.2f s: %.0f records/s, %.0f bytes each", i+1, s.Total.Sent, s.Duration.Seconds(),
			float64(s.Total.Sent)/s.Duration.Seconds(), float64(s.Total.SentBytes)/float64(s.Total.Sent))
	}
	b.ReportMetric(float64(rows)/secs, "records/s")
	// Replay's own CPU per record, which the neighbours on a shared machine do not change.
	b.ReportMetric(float64(rows)/cpu.Seconds(), "records/cpu-s")
	b.ReportMetric(float64(sentBytes)/1e6/secs, "MB/s")
	b.ReportMetric(float64(sentBytes)/float64(rows), "B/record")
}

// synthesizeOnlineRetail writes n Online Retail rows to path: the testdata subset's valid rows
// in order, again and again, each pass under invoice numbers of its own so that line ids stay
// distinct (a C invoice stays a C invoice), descriptions cut to perfDescription bytes.
func synthesizeOnlineRetail(b *testing.B, path string, n int) {
	b.Helper()
	var header []string
	var rows [][]string
	files, err := filepath.Glob("testdata/online-retail/*.csv.gz")
	if err != nil || len(files) == 0 {
		b.Fatalf("testdata rows: %v", err)
	}
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			b.Fatal(err)
		}
		zr, err := gzip.NewReader(f)
		if err != nil {
			b.Fatal(err)
		}
		recs, err := csv.NewReader(zr).ReadAll()
		f.Close()
		if err != nil {
			b.Fatalf("%s: %v", name, err)
		}
		header = recs[0]
		rows = append(rows, recs[1:]...)
	}
	out, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriterSize(out, 1<<20)
	cw := csv.NewWriter(w)
	if err := cw.Write(header); err != nil {
		b.Fatal(err)
	}
	rec := make([]string, len(header))
	for i := 0; i < n; i++ {
		pass, tmpl := i/len(rows), rows[i%len(rows)]
		copy(rec, tmpl)
		inv := tmpl[0]
		prefix := ""
		if inv != "" && (inv[0] == 'C' || inv[0] == 'A') {
			prefix, inv = inv[:1], inv[1:]
		}
		rec[0] = prefix + strconv.Itoa(pass) + inv
		if len(rec[2]) > perfDescription {
			rec[2] = rec[2][:perfDescription]
		}
		if err := cw.Write(rec); err != nil {
			b.Fatal(err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		b.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := out.Close(); err != nil {
		b.Fatal(err)
	}
}

// writePerfPayloads maps the rows of the Online Retail CSV at path as replay does and writes each
// record's value to out, one a line (the wire format is JSON without raw newlines).
func writePerfPayloads(b *testing.B, path, out string) {
	b.Helper()
	src, err := openSource(path, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer src.Close()
	rows, err := newCSVRows(src.r, DefaultMaxRowBytes)
	if err != nil {
		b.Fatal(err)
	}
	fm, err := newFileMapper(builtinProfiles[ProfileOnlineRetail].mappings[dsTransactions], dsTransactions, filepath.Base(path), rows.header)
	if err != nil {
		b.Fatal(err)
	}
	f, err := os.Create(out)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	for {
		rw, err := rows.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			b.Fatal(err)
		}
		rec, rej := fm.mapRow(rw)
		if rw.reason != "" || rej != nil {
			b.Fatalf("line %d: not a record: %s %v", rw.line, rw.reason, rej)
		}
		w.Write(rec.value)
		w.WriteByte('\n')
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
}
