package lake_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os/exec"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	_ "github.com/duckdb/duckdb-go/v2" // database/sql driver "duckdb"
	"github.com/lovoo/goka/storage"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/shopease/shopease/event"
	"github.com/shopease/shopease/generate"
	"github.com/shopease/shopease/lake"
	"github.com/shopease/shopease/processors"
	"github.com/shopease/shopease/processors/cluster"
	"github.com/shopease/shopease/pseudonym"
	"github.com/shopease/shopease/replay"
	"github.com/shopease/shopease/tables"
	"github.com/shopease/shopease/testenv"
)

// moneySums are exact sums per month ("2024-03") and line type, as Money.
type moneySums map[string]map[string]event.Money

// truthSums are the truth's per-month gross, refunds and returns by line type.
func truthSums(tr *generate.Truth) moneySums {
	out := moneySums{}
	for _, m := range tr.Months {
		s := map[string]event.Money{}
		for typ, v := range map[string]event.Money{"purchase": m.Gross, "refund": m.Refunds, "return": m.Returns} {
			if v != 0 {
				s[typ] = v
			}
		}
		if len(s) > 0 {
			out[m.Month] = s
		}
	}
	return out
}

// TestLakeOfGeneratedHistory runs the gateways over a replayed Tiny history on each Kafka, archives
// the clean topics, and reads the lake with DuckDB and with pyarrow: every accepted record is one
// row (exact counts per dataset), money sums per month and type equal the truth's to the
// thousandth, the types are TIMESTAMP WITH TIME ZONE and DECIMAL(18,3), and a second run writes
// nothing.
func TestLakeOfGeneratedHistory(t *testing.T) {
	dir := t.TempDir()
	gcfg := generate.Tiny()
	gcfg.Dir = dir
	truth, err := generate.Run(context.Background(), gcfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	testenv.ForEachKafka(t, func(t *testing.T, k testenv.Kafka) { lakeOfHistory(t, k, dir, truth) })
}

func lakeOfHistory(t *testing.T, k testenv.Kafka, dir string, truth *generate.Truth) {
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg := cluster.Config{
		Brokers: k.Brokers(), Namespace: testenv.Namespace(t), DataDir: t.TempDir(),
		Pseudonyms: pseudonym.Demo(), Logger: logger,
		Storage: func(dir string) storage.Builder { return tables.NewBuilder(dir) },
	}
	if _, err := cfg.EnsureTopics(4); err != nil {
		t.Fatal(err)
	}
	for _, ds := range []string{generate.DatasetTransactions, generate.DatasetActivity, generate.DatasetInventory, generate.DatasetFeedback} {
		rc := replay.DefaultConfig()
		rc.Paths, rc.Brokers, rc.Namespace, rc.Dataset = []string{filepath.Join(dir, ds)}, cfg.Brokers, cfg.Namespace, ds
		rc.ManifestPath, rc.RejectsPath = filepath.Join(t.TempDir(), "manifest.json"), ""
		if _, err := replay.Run(context.Background(), rc, logger); err != nil {
			t.Fatalf("replay %s: %v", ds, err)
		}
	}
	want := map[string]int64{}
	for _, ds := range []string{lake.Transactions, lake.Activity, lake.Inventory, lake.Feedback} {
		want[ds] = truth.Datasets[ds].Accepted
	}
	// The inventory gateway is stateless: duplicates (same event_id) reach the clean topic, and the
	// product table drops them; the lake keeps what the topic holds.
	want[lake.Inventory] += truth.Datasets[lake.Inventory].Duplicates
	runGateways(t, cfg, want)

	lakeDir := t.TempDir()
	lcfg := lake.Config{Brokers: cfg.Brokers, Namespace: cfg.Namespace, LakeDir: lakeDir, Once: true,
		Datasets:     []string{lake.Transactions, lake.Activity, lake.Inventory, lake.Feedback},
		MaxBatchRows: 500, RowGroupRows: 128, Logger: logger}
	sum, err := lake.Run(context.Background(), lcfg)
	if err != nil {
		t.Fatal(err)
	}
	for ds, n := range want {
		if sum[ds].Rows != n {
			t.Errorf("%s: wrote %d rows, truth accepted %d", ds, sum[ds].Rows, n)
		}
	}
	t.Logf("truth accepted %v; lake %+v", want, sum)
	again, err := lake.Run(context.Background(), lcfg)
	if err != nil {
		t.Fatal(err)
	}
	for ds, st := range again {
		// The second run re-reads each partition's newest batch (it cannot know whether a crash cut
		// it short) and finds every date's file there.
		if st.Rows != 0 || st.Files != 0 || st.Repaired == 0 {
			t.Errorf("second run on %s: %+v, want no rows or files written and the newest batches re-read", ds, st)
		}
	}

	t.Run("duckdb", func(t *testing.T) {
		checkDuckDB(t, lakeDir, want, truth.Datasets[lake.Inventory].Accepted, truthSums(truth))
	})
	t.Run("pyarrow", func(t *testing.T) { checkPyarrow(t, lakeDir, want, truthSums(truth)) })
}

// runGateways runs the processor group until every clean topic holds the wanted records.
func runGateways(t *testing.T, cfg cluster.Config, want map[string]int64) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- processors.Run(ctx, cfg) }()
	defer func() {
		cancel()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("processors: %v", err)
		}
	}()
	cl, err := kgo.NewClient(kgo.SeedBrokers(cfg.Brokers...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	deadline := time.Now().Add(3 * time.Minute)
	for {
		got := map[string]int64{}
		for _, d := range lake.Datasets {
			if _, ok := want[d.Name]; !ok {
				continue
			}
			ends, err := adm.ListEndOffsets(context.Background(), string(cfg.Namespace.Stream(d.Topic)))
			if err == nil {
				ends.Each(func(o kadm.ListedOffset) { got[d.Name] += o.Offset })
			}
		}
		if reflect.DeepEqual(got, want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("clean topics hold %v, want %v", got, want)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

func checkDuckDB(t *testing.T, lakeDir string, want map[string]int64, accepted int64, wantSums moneySums) {
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	scan := func(ds string) string {
		return fmt.Sprintf("read_parquet('%s/events/%s/*/*.parquet', hive_partitioning = true)", lakeDir, ds)
	}
	for ds, n := range want {
		var got int64
		if err := db.QueryRow("select count(*) from " + scan(ds)).Scan(&got); err != nil {
			t.Fatalf("%s: %v", ds, err)
		}
		if got != n {
			t.Errorf("duckdb: %s has %d rows, want %d", ds, got, n)
		}
	}
	var distinct int64
	if err := db.QueryRow("select count(distinct event_id) from " + scan(lake.Inventory)).Scan(&distinct); err != nil {
		t.Fatal(err)
	}
	if distinct != accepted {
		t.Errorf("duckdb: %d distinct inventory event ids, truth accepted %d", distinct, accepted)
	}
	types := map[string]string{}
	rows, err := db.Query("select column_name, column_type from (describe select * from " + scan(lake.Transactions) + ")")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var c, typ string
		if err := rows.Scan(&c, &typ); err != nil {
			t.Fatal(err)
		}
		types[c] = typ
	}
	rows.Close()
	for c, typ := range map[string]string{"event_time": "TIMESTAMP WITH TIME ZONE", "amount": "DECIMAL(18,3)",
		"unit_price": "DECIMAL(18,3)", "quantity": "BIGINT", "date": "DATE"} {
		if types[c] != typ {
			t.Errorf("duckdb: column %s is %s, want %s", c, types[c], typ)
		}
	}
	// Sums are cast to text so the driver's decimal conversion cannot round them.
	rows, err = db.Query(`select strftime(event_time at time zone 'UTC', '%Y-%m') as m, type, sum(amount)::varchar
		from ` + scan(lake.Transactions) + ` group by all order by all`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	got := moneySums{}
	for rows.Next() {
		var m, typ, s string
		if err := rows.Scan(&m, &typ, &s); err != nil {
			t.Fatal(err)
		}
		if got[m] == nil {
			got[m] = map[string]event.Money{}
		}
		got[m][typ] = event.MustMoney(s)
	}
	if !reflect.DeepEqual(got, wantSums) {
		t.Errorf("duckdb sums %v, truth %v", got, wantSums)
	}
}

func checkPyarrow(t *testing.T, lakeDir string, want map[string]int64, wantSums moneySums) {
	py, err := exec.Command("bash", "testdata/pyarrow-venv.sh").Output()
	if err != nil {
		t.Fatalf("pyarrow venv: %v", err)
	}
	out, err := exec.Command(string(trimNL(py)), "testdata/read_lake.py", lakeDir).Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("read_lake.py: %v\n%s", err, ee.Stderr)
		}
		t.Fatal(err)
	}
	var res map[string]struct {
		Rows  int64                        `json:"rows"`
		Types map[string]string            `json:"types"`
		Sums  map[string]map[string]string `json:"sums"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	for ds, n := range want {
		if res[ds].Rows != n {
			t.Errorf("pyarrow: %s has %d rows, want %d", ds, res[ds].Rows, n)
		}
	}
	tx := res[lake.Transactions]
	for c, typ := range map[string]string{"event_time": "timestamp[us, tz=UTC]", "amount": "decimal128(18, 3)"} {
		if tx.Types[c] != typ {
			t.Errorf("pyarrow: column %s is %s, want %s", c, tx.Types[c], typ)
		}
	}
	got := moneySums{}
	for m, byType := range tx.Sums {
		got[m] = map[string]event.Money{}
		for typ, s := range byType {
			got[m][typ] = event.MustMoney(s)
		}
	}
	if !reflect.DeepEqual(got, wantSums) {
		t.Errorf("pyarrow sums %v, truth %v", got, wantSums)
	}
}

func trimNL(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}
