package report

import (
	"bytes"
	"strings"
	"testing"
)

const sample = `goos: linux
BenchmarkTableRestore/pebble-2   1   2000000000 ns/op   500000 records/s   2.0 s/restore
BenchmarkTableRestore/pebble-2   1   4000000000 ns/op   250000 records/s   4.0 s/restore
BenchmarkTableRestore/pebble-2   1   3000000000 ns/op   330000 records/s   3.0 s/restore
BenchmarkTableRestore/leveldb-2  1   6000000000 ns/op   110000 records/s   6.0 s/restore
PASS
`

func TestMediansRatiosAndTargets(t *testing.T) {
	res, err := Parse(strings.NewReader(sample))
	if err != nil {
		t.Fatal(err)
	}
	if v, n := res["BenchmarkTableRestore/pebble"].Median("records/s"); v != 330000 || n != 3 {
		t.Fatalf("median %v over %d runs, want 330000 over 3", v, n)
	}
	targets := []Target{
		{What: "restore into Pebble", Bench: "BenchmarkTableRestore/pebble", Unit: "records/s", Min: 300000, Command: "make bench"},
		{What: "Pebble vs LevelDB", Bench: "BenchmarkTableRestore/pebble", Versus: "BenchmarkTableRestore/leveldb", Unit: "records/s", Min: 4, Command: "make bench"},
		{What: "missing", Bench: "BenchmarkNope", Unit: "x", Min: 1, Command: "make bench"},
		{What: "restore at most 2 s", Bench: "BenchmarkTableRestore/pebble", Unit: "s/restore", Max: 2, Command: "make bench", Bound: "Bounded by the disk."},
	}
	var out bytes.Buffer
	loads, err := ParseLoad(strings.NewReader("# load average before restore: 3.10 2.50 2.00\n" + sample))
	if err != nil {
		t.Fatal(err)
	}
	if err := Write(&out, "2 cores", "2026-11-26", res, targets, loads...); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"| restore into Pebble | 330.0k records/s | ≥ 300.0k records/s | yes | 3 | `make bench` |",
		"| Pebble vs LevelDB | 3.00× | ≥ 4.00× | no | 1 | `make bench` |",
		"| missing | not measured | ≥ 1.00 x | no | 0 | `make bench` |",
		"| BenchmarkTableRestore/leveldb | s/restore | 6.00 | 1 |",
		"| restore at most 2 s | 3.00 s/restore | ≤ 2.00 s/restore | no | 3 | `make bench` |",
		"- **restore at most 2 s**: 3.00 s/restore, target ≤ 2.00 s/restore. Bounded by the disk.",
		"- restore: 3.10 2.50 2.00",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
}
