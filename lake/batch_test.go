package lake

import (
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/shopease/shopease/codecs"
	"github.com/shopease/shopease/event"
)

func testOptions(maxRows int) options {
	return options{maxBatchRows: maxRows, rowGroupRows: 4, flushInterval: time.Hour,
		logger: slog.New(slog.DiscardHandler), now: time.Now}
}

// lines returns n clean transaction records, two per UTC day starting 2024-03-01 23:00.
func lines(t *testing.T, n int) []record {
	t.Helper()
	var out []record
	for i := range n {
		l := &event.TransactionLine{LineID: "l" + string(rune('a'+i)), OrderID: "o1", Type: event.Purchase,
			UserID: "ps1:abc", ProductID: "P1", Quantity: int64(i + 1), UnitPrice: event.MustMoney("1.005"),
			Time: time.Date(2024, 3, 1, 23, 0, 0, 0, time.UTC).Add(time.Duration(i) * 12 * time.Hour)}
		b, err := codecs.AppendTransactionLine(nil, l)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, record{offset: int64(100 + i), value: b, origin: "raw/0/" + string(rune('0'+i))})
	}
	return out
}

// files lists the lake's visible files relative to dir, sorted.
func files(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, rel)
		}
		return nil
	})
	slices.Sort(out)
	return out
}

func TestBatchesAcrossDatesAndRepair(t *testing.T) {
	dir := t.TempDir()
	ds, _ := FindDataset(Transactions)
	recs := lines(t, 6) // days 03-01, 03-02 ×2, 03-03 ×2, 03-04
	w := newPartitionWriter(ds, dir, 3, testOptions(4), nil)
	for _, r := range recs {
		if err := w.add(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.flush(); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"events/transactions/date=2024-03-01/part-3-100-103.parquet",
		"events/transactions/date=2024-03-02/part-3-100-103.parquet",
		"events/transactions/date=2024-03-03/part-3-100-103.parquet",
		"events/transactions/date=2024-03-03/part-3-104-105.parquet",
		"events/transactions/date=2024-03-04/part-3-104-105.parquet",
	}
	if got := files(t, dir); !slices.Equal(got, want) {
		t.Fatalf("files\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	rows, err := parquet.ReadFile[TransactionRow](filepath.Join(dir, want[1]))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[0].Quantity != 2 || rows[1].Quantity != 3 || rows[1].Amount != 3015 ||
		rows[0].KafkaOffset != 101 || rows[0].Origin != "raw/0/1" || rows[0].EventTime.Location() != time.UTC {
		t.Fatalf("rows of 03-02: %+v", rows)
	}

	// A crash after the newest batch's 03-03 file was published but before its 03-04 file.
	if err := os.Remove(filepath.Join(dir, want[4])); err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(dir, "events/transactions/date=2024-03-04", tempName(3, 104))
	if err := os.WriteFile(tmp, []byte("half"), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := ScanDataset(dir, Transactions)
	if err != nil {
		t.Fatal(err)
	}
	b := res[3]
	if b == nil || b.First != 104 || b.Last != 105 || !b.Dates["2024-03-03"] || b.Dates["2024-03-04"] {
		t.Fatalf("resume %+v", b)
	}
	w = newPartitionWriter(ds, dir, 3, testOptions(4), b)
	for _, r := range recs[4:] {
		if err := w.add(r); err != nil {
			t.Fatal(err)
		}
	}
	if got := files(t, dir); !slices.Equal(got, want) {
		t.Fatalf("after repair\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if w.stats.Repaired != 1 || w.stats.Rows != 1 || w.next != 106 {
		t.Fatalf("repair stats %+v next %d", w.stats, w.next)
	}
	rows, err = parquet.ReadFile[TransactionRow](filepath.Join(dir, want[4]))
	if err != nil || len(rows) != 1 || rows[0].KafkaOffset != 105 {
		t.Fatalf("repaired file: %+v %v", rows, err)
	}
}

func TestRepairRefusesGaps(t *testing.T) {
	ds, _ := FindDataset(Transactions)
	recs := lines(t, 3)
	w := newPartitionWriter(ds, t.TempDir(), 0, testOptions(10), &Batch{First: 99, Last: 101, Dates: map[string]bool{}})
	if err := w.add(recs[0]); err == nil || !strings.Contains(err.Error(), "no longer has") {
		t.Fatalf("got %v, want a batch-start error", err)
	}
}

func TestScanDatasetRejectsOverlap(t *testing.T) {
	dir := t.TempDir()
	d := filepath.Join(dir, "events", "activity", "date=2024-01-01")
	os.MkdirAll(d, 0o755)
	for _, n := range []string{"part-0-0-9.parquet", "part-0-5-20.parquet", "part-1-0-3.parquet"} {
		os.WriteFile(filepath.Join(d, n), nil, 0o644)
	}
	if _, err := ScanDataset(dir, Activity); err == nil || !strings.Contains(err.Error(), "overlap") {
		t.Fatalf("got %v, want overlap error", err)
	}
}

// TestRedeliveredRecordsDroppedAcrossRepair: records that repeat an earlier raw origin (a gateway
// re-emitting after a crash) are dropped, and a repair after a crash decides the same way because
// the batch's files carry the fence it started with.
func TestRedeliveredRecordsDroppedAcrossRepair(t *testing.T) {
	dir := t.TempDir()
	ds, _ := FindDataset(Transactions)
	day := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	mk := func(off int64, origin string, d int) record {
		l := &event.TransactionLine{LineID: origin, OrderID: "o", Type: event.Purchase, UserID: "ps1:u",
			ProductID: "P1", Quantity: 1, UnitPrice: 1000, Time: day.AddDate(0, 0, d)}
		b, err := codecs.AppendTransactionLine(nil, l)
		if err != nil {
			t.Fatal(err)
		}
		return record{offset: off, value: b, origin: origin}
	}
	recs := []record{
		mk(100, "raw/0/10", 0), mk(101, "raw/0/11", 0), mk(102, "raw/0/12", 0), // batch 100-102
		mk(103, "raw/0/11", 1), mk(104, "raw/0/12", 2), // re-emitted after a crash upstream
		mk(105, "raw/0/13", 3), mk(106, "raw/0/14", 4), // batch 103-106
	}
	w := newPartitionWriter(ds, dir, 0, testOptions(3), nil)
	w.o.maxBatchRows = 3
	for i, r := range recs {
		if i == 3 {
			w.o.maxBatchRows = 4
		}
		if err := w.add(r); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{
		"events/transactions/date=2024-03-01/part-0-100-102.parquet",
		"events/transactions/date=2024-03-04/part-0-103-106.parquet",
		"events/transactions/date=2024-03-05/part-0-103-106.parquet",
	}
	if got := files(t, dir); !slices.Equal(got, want) || w.stats.Redelivered != 2 || w.stats.Rows != 5 {
		t.Fatalf("files %v, stats %+v; want %v, 2 redelivered, 5 rows", got, w.stats, want)
	}
	if err := os.Remove(filepath.Join(dir, want[2])); err != nil {
		t.Fatal(err)
	}
	res, err := ScanDataset(dir, Transactions)
	if err != nil {
		t.Fatal(err)
	}
	if b := res[0]; b == nil || b.First != 103 || len(b.Fence) != 1 || b.Fence[0].Offset != 12 {
		t.Fatalf("newest batch %+v, want 103-106 starting with fence raw/0 at 12", b)
	}
	w = newPartitionWriter(ds, dir, 0, testOptions(4), res[0])
	for _, r := range recs[3:] {
		if err := w.add(r); err != nil {
			t.Fatal(err)
		}
	}
	if got := files(t, dir); !slices.Equal(got, want) || w.stats.Redelivered != 2 || w.stats.Repaired != 1 || w.stats.Rows != 1 {
		t.Fatalf("after repair files %v, stats %+v; want %v, 2 redelivered, 1 repaired, 1 row", got, w.stats, want)
	}
}

// TestControlRecordsHoldNoRow: an end-of-input marker forwarded into a clean topic is no row, but
// its offset stays in the batch's range, so the next batch starts after it and a repair reads the
// same range.
func TestControlRecordsHoldNoRow(t *testing.T) {
	ds, _ := FindDataset(Transactions)
	dir := t.TempDir()
	recs := lines(t, 2)
	marker := func(off int64) record {
		return record{offset: off, value: event.EndOfInput{Partitions: 4}.Encode(), origin: "raw/0/9", control: true}
	}
	w := newPartitionWriter(ds, dir, 0, testOptions(10), nil)
	for _, r := range []record{recs[0], marker(101), {offset: 102, value: recs[1].value, origin: "raw/0/10"}, marker(103)} {
		if err := w.add(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.flush(); err != nil {
		t.Fatal(err)
	}
	want := []string{"events/transactions/date=2024-03-01/part-0-100-103.parquet", "events/transactions/date=2024-03-02/part-0-100-103.parquet"}
	if got := files(t, dir); !slices.Equal(got, want) || w.stats.Rows != 2 || w.stats.Control != 2 || w.next != 104 {
		t.Fatalf("files %v, stats %+v, next %d; want %v, 2 rows, 2 control records, next 104", got, w.stats, w.next, want)
	}
	// A batch of a marker alone writes no file; the writer still moves past it.
	if err := w.add(marker(104)); err != nil {
		t.Fatal(err)
	}
	if err := w.flush(); err != nil {
		t.Fatal(err)
	}
	if got := files(t, dir); !slices.Equal(got, want) || w.next != 105 {
		t.Fatalf("after a lone marker: files %v, next %d", got, w.next)
	}
}

// TestUndecodableRecordLeftOut: bytes that are no record of the dataset (put on a clean topic by
// someone else) are counted and left out; the rows around them are written and the batch's range
// still covers the record, so the writer never stops on it again after a restart.
func TestUndecodableRecordLeftOut(t *testing.T) {
	ds, _ := FindDataset(Transactions)
	dir := t.TempDir()
	recs := lines(t, 2)
	w := newPartitionWriter(ds, dir, 0, testOptions(10), nil)
	bad := record{offset: 101, value: []byte("\xff\xfe\x00{\"not\": json"), origin: "raw/0/9"}
	for _, r := range []record{recs[0], bad, {offset: 102, value: recs[1].value, origin: "raw/0/10"}} {
		if err := w.add(r); err != nil {
			t.Fatalf("offset %d: %v", r.offset, err)
		}
	}
	if err := w.flush(); err != nil {
		t.Fatal(err)
	}
	want := []string{"events/transactions/date=2024-03-01/part-0-100-102.parquet", "events/transactions/date=2024-03-02/part-0-100-102.parquet"}
	if got := files(t, dir); !slices.Equal(got, want) || w.stats.Rows != 2 || w.stats.Undecodable != 1 || w.next != 103 {
		t.Fatalf("files %v, stats %+v, next %d; want %v, 2 rows, 1 undecodable, next 103", got, w.stats, w.next, want)
	}
}
