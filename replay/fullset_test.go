package replay

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shopease/shopease/processors/topology"
	"github.com/shopease/shopease/testenv"
)

// fullSet is the whole Online Retail data, present on the project's machines (see
// ../shared/datasets/online-retail/README.md); tests over it skip elsewhere.
var fullSet = filepath.Join("..", "..", "shared", "datasets", "online-retail", "by-day")

func needFullSet(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(fullSet); err != nil {
		t.Skipf("full Online Retail data not here (%v); the testdata subset covers the same code", err)
	}
}

// Rows per month of InvoiceDate, counted independently (python's csv module over the raw files;
// the dataset README gives the extremes: 84,711 in 2011-11 and 25,525 in 2011-12).
var fullSetMonths = map[string]int64{
	"2010-12": 42481, "2011-01": 35147, "2011-02": 27707, "2011-03": 36748, "2011-04": 29916,
	"2011-05": 37030, "2011-06": 36874, "2011-07": 39518, "2011-08": 35284, "2011-09": 50226,
	"2011-10": 60742, "2011-11": 84711, "2011-12": 25525,
}

const fullSetRows = 541909

// TestFullSetDryRun reads every file of the full data through the online-retail profile: every
// row maps, per month exactly as counted on the raw files, every line gets its own id although
// 5,268 rows are content-identical copies of an earlier row, and returns are exactly the C invoices.
func TestFullSetDryRun(t *testing.T) {
	needFullSet(t)
	cfg := DefaultConfig()
	cfg.Paths, cfg.DryRun, cfg.RejectsPath = []string{fullSet}, true, ""
	s := run(t, cfg)
	if s.Total.Files != 305 || s.Total.Read != fullSetRows || s.Total.Sent != fullSetRows || s.Total.RejectedTotal() != 0 {
		t.Fatalf("dry run: %+v, want 305 files and %d rows, all mapped", s.Total, fullSetRows)
	}
	months := map[string]int64{}
	ids := make(map[string]struct{}, fullSetRows)
	var returns, cRows, copies int64
	paths, _ := filepath.Glob(filepath.Join(fullSet, "*.csv.gz"))
	for _, path := range paths {
		eachRow(t, Config{Profile: ProfileOnlineRetail}, path, func(r *row, rec record, rej *rejection) {
			if rej != nil {
				t.Fatalf("%s:%d: %+v", path, r.line, rej)
			}
			months[rec.time.Format("2006-01")]++
			ids[string(rec.key)] = struct{}{}
			if strings.HasPrefix(r.fields[0], "C") {
				cRows++
			}
			if strings.Contains(string(rec.value), `"type":"return"`) {
				returns++
			}
		})
		copies += identicalCopies(t, path)
	}
	for m, want := range fullSetMonths {
		if months[m] != want {
			t.Errorf("%s: %d rows, want %d", m, months[m], want)
		}
	}
	if len(months) != len(fullSetMonths) {
		t.Errorf("%d months, want %d", len(months), len(fullSetMonths))
	}
	if len(ids) != fullSetRows {
		t.Errorf("%d distinct line ids, want %d", len(ids), fullSetRows)
	}
	if copies != 5268 {
		t.Errorf("%d content-identical extra copies, want 5,268", copies)
	}
	if cRows != 9288 || returns != cRows {
		t.Errorf("%d C-invoice rows (dataset README: 9,288), %d return lines", cRows, returns)
	}
}

// identicalCopies counts the rows of a file that repeat an earlier row byte for byte, reading
// it with encoding/csv only (no replay code), as an independent count.
func identicalCopies(t *testing.T, path string) int64 {
	t.Helper()
	src, err := openSource(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	recs, err := csv.NewReader(src.r).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	var n int64
	for _, r := range recs[1:] {
		k := strings.Join(r, "\x00")
		if seen[k] {
			n++
		}
		seen[k] = true
	}
	return n
}

// TestFullSetReplay replays the full data into each broker: the topic then holds every row once.
func TestFullSetReplay(t *testing.T) {
	needFullSet(t)
	testenv.ForEachKafka(t, func(t *testing.T, k testenv.Kafka) {
		ns := testenv.Namespace(t)
		createTopics(t, k.Brokers(), ns)
		cfg := testConfig(t, k.Brokers(), ns, fullSet)
		s := run(t, cfg)
		t.Logf("%s: %d rows in %v: %.0f rows/s, %.1f MB/s of gzipped files", k.Name(), s.Total.Read, s.Duration,
			float64(s.Total.Read)/s.Duration.Seconds(), float64(s.Total.Bytes)/1e6/s.Duration.Seconds())
		if s.Total.Read != fullSetRows || s.Total.Sent != fullSetRows || s.Total.Lost != 0 {
			t.Fatalf("replay: %+v", s.Total)
		}
		recs := readTopic(t, k.Brokers(), string(ns.Stream(topology.Transactions)))
		if d, u := duplicates(recs); len(recs) != fullSetRows || d != 0 || u != 0 {
			t.Errorf("topic holds %d records (%d duplicates, %d unlabeled), want %d", len(recs), d, u, fullSetRows)
		}
	})
}
