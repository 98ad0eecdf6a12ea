package cli

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shopease/shopease/generate"
	"github.com/shopease/shopease/lakesql"
	"github.com/shopease/shopease/testenv"
)

// TestSQLOnFreshDemoLake is the acceptance check of `shopease sql`, on both Kafkas: the demo's
// pipeline (a generated Tiny history replayed, `shopease run`, the lake writer) makes a fresh
// lake, and `shopease sql "select count(*) from transactions"` prints the number of clean
// transaction lines (the truth's accepted lines). `shopease report` from the lake then prints
// byte for byte what `report --live` prints from the tables.
func TestSQLOnFreshDemoLake(t *testing.T) {
	dir, truth := tinyHistory(t)
	accepted := truth.Datasets[generate.DatasetTransactions].Accepted
	testenv.ForEachKafka(t, func(t *testing.T, k testenv.Kafka) {
		common := startCLIPipeline(t, k, dir+"/h", "--archive=false")

		lakeDir := t.TempDir()
		want := "count_star()\n" + strconv.FormatInt(accepted, 10) + "\n"
		var got string
		for deadline := time.Now().Add(2 * time.Minute); ; {
			if out, code := runMain(t, append([]string{"lake", "--once", "--lake-dir", lakeDir}, common...)...); code != 0 {
				t.Fatalf("lake: exit %d:\n%s", code, out)
			}
			var code int
			got, code = runMain(t, "sql", "select count(*) from transactions", "--lake-dir", lakeDir, "--format", "csv")
			if code == 0 && got == want {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("sql: exit %d:\n%s\nwant:\n%s", code, got, want)
			}
			time.Sleep(time.Second)
		}
		// The default aligned table prints the same number.
		out, code := runMain(t, "sql", "select count(*) from transactions", "--lake-dir", lakeDir)
		wantTable := "count_star()\n------------\n" + strings.Repeat(" ", 12-len(strconv.FormatInt(accepted, 10))) + strconv.FormatInt(accepted, 10) + "\n"
		if code != 0 || out != wantTable {
			t.Errorf("sql as a table: exit %d:\n%q\nwant\n%q", code, out, wantTable)
		}
		t.Logf("%d clean transaction lines in the lake:\n%s", accepted, out)

		for _, report := range [][]string{
			{"monthly-revenue", "--format", "csv"},
			{"top-products", "--as-of", "2024-03-15"},
			{"inventory-turnover", "--format", "json"},
		} {
			var live string
			for deadline := time.Now().Add(2 * time.Minute); ; {
				// Both sides catch up asynchronously: the lake writer resumes where it stopped.
				if out, code := runMain(t, append([]string{"lake", "--once", "--lake-dir", lakeDir}, common...)...); code != 0 {
					t.Fatalf("lake: exit %d:\n%s", code, out)
				}
				var code int
				live, code = runMain(t, append(append([]string{"report", "--live"}, report...), common...)...)
				lakeOut, lakeCode := runMain(t, append([]string{"report", "--lake-dir", lakeDir}, report...)...)
				if code == 0 && lakeCode == 0 && live == lakeOut {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("report %v: lake exit %d, live exit %d; %s", report, lakeCode, code, firstDiff(lakeOut, live))
				}
				time.Sleep(time.Second)
			}
			if len(live) < 100 {
				t.Errorf("report %v prints only %q", report, live)
			}
		}
	})
}

// TestSQLOnDemoCommandLake is the acceptance check literally: `shopease demo` (embedded broker
// and Redis, no live traffic) writes its lake under --data-dir, and `shopease sql "select
// count(*) from transactions"` over it prints the number of clean transaction lines of the
// history the demo generated (its truth.json). The demo's lake writer closes a batch after a
// minute, so this takes a little over one.
func TestSQLOnDemoCommandLake(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	var demoLog bytes.Buffer
	go func() {
		done <- Main(ctx, []string{"demo", "--data-dir", dir, "--rate", "0", "--http", "127.0.0.1:0", "--interval", "1h",
			"--log-level", "warn"}, &demoLog, &demoLog)
	}()
	defer func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("demo: exit %d:\n%s", code, demoLog.String())
		}
	}()
	lakeDir := filepath.Join(dir, "lake")
	var want, got string
	for deadline := time.Now().Add(4 * time.Minute); ; {
		if want == "" {
			if truth, err := generate.LoadTruth(filepath.Join(dir, "history", "truth.json")); err == nil {
				want = "count_star()\n" + strconv.FormatInt(truth.Datasets[generate.DatasetTransactions].Accepted, 10) + "\n"
			}
		}
		if _, err := os.Stat(lakeDir); want != "" && err == nil {
			var code int
			got, code = runMain(t, "sql", "select count(*) from transactions", "--lake-dir", lakeDir, "--format", "csv")
			if code == 0 && got == want {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("sql over the demo's lake:\n%s\nwant:\n%s\ndemo:\n%s", got, want, demoLog.String())
		}
		time.Sleep(2 * time.Second)
	}
	t.Logf("the demo's lake in %s: %s", lakeDir, strings.ReplaceAll(got, "\n", " "))
}

// tinyHistory generates a Tiny history with `shopease generate` into dir/h and reads its truth.
func tinyHistory(t *testing.T) (dir string, truth *generate.Truth) {
	t.Helper()
	dir = t.TempDir()
	if out, code := runMain(t, "generate", "--preset", "tiny", "--out", dir+"/h"); code != 0 {
		t.Fatalf("generate: %s", out)
	}
	truth, err := generate.LoadTruth(dir + "/h/truth.json")
	if err != nil {
		t.Fatal(err)
	}
	return dir, truth
}

// startCLIPipeline creates the topics of a fresh namespace on k, replays the history in dir into
// them and runs `shopease run` (with extra flags) until the test ends, all through Main; it
// returns the flags that address the namespace.
func startCLIPipeline(t *testing.T, k testenv.Kafka, dir string, extra ...string) (common []string) {
	t.Helper()
	common = []string{"--brokers", strings.Join(k.Brokers(), ","), "--namespace", string(testenv.Namespace(t)), "--log-level", "warn"}
	if out, code := runMain(t, append([]string{"topics", "create", "--partitions", "2"}, common...)...); code != 0 {
		t.Fatalf("topics create: %s", out)
	}
	if out, code := runMain(t, append([]string{"replay", dir, "--manifest", t.TempDir() + "/m.json", "--rejects", ""}, common...)...); code != 0 {
		t.Fatalf("replay: %s", out)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	var runLog bytes.Buffer
	args := append(append([]string{"run", "--demo-key", "--data-dir", t.TempDir()}, extra...), common...)
	go func() { done <- Main(ctx, args, &runLog, &runLog) }()
	t.Cleanup(func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("run: exit %d:\n%s", code, runLog.String())
		}
	})
	return common
}

// firstDiff describes the first line where got and want differ, with its neighbours.
func firstDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := range max(len(g), len(w)) {
		if i >= len(g) || i >= len(w) || g[i] != w[i] {
			from, to := max(0, i-8), i+3
			return fmt.Sprintf("first difference at line %d:\n got %q\nwant %q", i+1, g[from:min(to, len(g))], w[from:min(to, len(w))])
		}
	}
	return "no difference"
}

// TestSQLUsage: bad formats and extra arguments are usage errors (exit 2); a missing lake and a
// bad query are errors (exit 1) that say what is wrong.
func TestSQLUsage(t *testing.T) {
	lakeDir := t.TempDir()
	for _, c := range []struct {
		args []string
		code int
		says string
	}{
		{[]string{"sql", "select 1", "select 2", "--lake-dir", lakeDir}, 2, "one query"},
		{[]string{"sql", "select 1", "--format", "xml", "--lake-dir", lakeDir}, 2, "--format"},
		{[]string{"sql", "select 1", "--lake-dir", lakeDir + "/none"}, 1, "no lake"},
		{[]string{"sql", "select nope from transactions", "--lake-dir", lakeDir}, 1, "nope"},
		{[]string{"report", "monthly-revenue", "--lake-dir", lakeDir}, 1, "no transactions in the lake"},
		{[]string{"sql", "select 6 * 7 as answer", "--lake-dir", lakeDir, "--format", "json"}, 0, `{"answer": 42}`},
	} {
		out, code := runMain(t, c.args...)
		if code != c.code || !strings.Contains(out, c.says) {
			t.Errorf("%v: exit %d, want %d saying %q:\n%s", c.args, code, c.code, c.says, out)
		}
	}
}

// TestSQLShell drives the interactive shell with piped input: dot and backslash commands,
// a statement over several lines, a failing statement that does not end the shell, a format
// switch, and .quit.
func TestSQLShell(t *testing.T) {
	ctx := context.Background()
	db, err := lakesql.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	input := strings.Join([]string{
		".views",
		`\d monthly_revenue`,
		"select 1 as one,",
		"       'x' as two;",
		"select nope;",
		".format csv",
		"select 2 as two;",
		".schema nothing",
		".quit",
		"select 3;",
	}, "\n")
	var out bytes.Buffer
	sh := &shell{db: db, format: "table"}
	if err := sh.run(ctx, newLineReader(strings.NewReader(input)), &out); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	for _, want := range []string{
		"\ntransactions                  view   line_id, order_id, type, user_pseudonym, product_id,",
		"\ntop_products(m)               macro",
		"monthly_revenue: view\n  Monthly revenue per UTC month",
		"  change_pct      DOUBLE\n",
		"one  two\n---  ---\n  1  x\n(1 row)\n",
		"error: lakesql: ",
		"two\n2\n",
		`no view "nothing"`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("shell output lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "3\n") {
		t.Errorf("the shell ran a statement after .quit:\n%s", text)
	}
}

// TestShellHistory: the history file keeps entries across sessions, newest first for the
// terminal, without repeating the last entry.
func TestShellHistory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "history")
	h, err := loadHistory(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range []string{"select 1;", "select 1;", ".views", "select 2;"} {
		h.Add(l)
	}
	again, err := loadHistory(path)
	if err != nil {
		t.Fatal(err)
	}
	if again.Len() != 3 || again.At(0) != "select 2;" || again.At(2) != "select 1;" {
		b, _ := os.ReadFile(path)
		t.Errorf("history after reload: %d entries, file:\n%s", again.Len(), b)
	}
}
