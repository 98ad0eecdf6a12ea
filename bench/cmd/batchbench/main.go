// Command batchbench is issue 12's "batch vs Spark" benchmark: the same historical job — generated
// files → cleaned → Parquet lake → the three reports — run by the shopease binary and by the
// PySpark job scripts/spark/batch_reports.py (local[2]) on the same files, each timed (wall) and
// measured (peak RSS of its process tree, sampled from /proc). Both must give the report numbers
// of the generator's truth, and each other's; the benchmark fails otherwise.
//
// shopease does it as a deployment backfilling its lake would: `topics create`, `replay` at full
// speed, `run --processors gateways` (the processors that clean the raw topics: what the job
// needs; the real-time, journeys and sales processors serve the live side, which Spark's job does
// not compute) until their groups' lag is 0, `lake --once`, then the reports from the lake, as
// Spark computes them (-reports live: from the sales and inventory tables, with the sales
// processors run too). The broker's own memory is not counted (as Spark's filesystem is not); it
// runs beside both.
//
// Output: one Go benchmark line per run and system, for bench/cmd/benchreport:
//
//	BenchmarkBatchShopease 1 <ns> ns/op <s> s <events/s> events/s <MB> peak-MB <N> events <load> loadavg
//
// Usage (after `eval "$(bash testenv/real.sh env)"` and `make build`):
//
//	go run ./bench/cmd/batchbench -events 1000000 -runs 3 -python .cache/pyspark/bin/python
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/shopease/shopease/processors"
	"github.com/shopease/shopease/processors/topology"
)

// config is one benchmark invocation.
type config struct {
	events  int64
	runs    int
	bin     string // the shopease binary
	python  string // the venv's python with pyspark
	script  string // the PySpark job
	brokers string
	reports string   // live or lake
	procs   []string // the processors `shopease run` runs
	work    string
	timeout time.Duration
	only    string // shopease, spark or "" (both)
}

func (c *config) validate() error {
	switch {
	case c.events <= 0 || c.runs <= 0:
		return fmt.Errorf("batchbench: -events and -runs must be positive")
	case c.brokers == "" && c.only != "spark":
		return fmt.Errorf("batchbench: no broker: set -brokers or SHOPEASE_TEST_KAFKA")
	case c.reports != "live" && c.reports != "lake":
		return fmt.Errorf("batchbench: -reports is live or lake, not %q", c.reports)
	case c.only != "" && c.only != "shopease" && c.only != "spark":
		return fmt.Errorf("batchbench: -only is shopease or spark, not %q", c.only)
	}
	return nil
}

func main() {
	var c config
	flag.Int64Var(&c.events, "events", 1_000_000, "rows of the generated history (issue 12 asks for 10M; size it to the time you have)")
	flag.IntVar(&c.runs, "runs", 3, "runs of each system (medians are taken by benchreport)")
	flag.StringVar(&c.bin, "shopease", "bin/shopease", "the shopease binary")
	flag.StringVar(&c.python, "python", ".cache/pyspark/bin/python", "python with pyspark installed")
	flag.StringVar(&c.script, "script", "scripts/spark/batch_reports.py", "the PySpark job")
	flag.StringVar(&c.brokers, "brokers", os.Getenv("SHOPEASE_TEST_KAFKA"), "Kafka bootstrap address")
	flag.StringVar(&c.reports, "reports", "lake", "where shopease's reports come from: lake (Parquet, as Spark's) or live (processor tables)")
	procs := flag.String("processors", "", "processors `shopease run` runs (default: gateways for -reports lake, gateways,sales for live)")
	flag.StringVar(&c.work, "work", "", "work folder (default: a temporary one, removed afterwards)")
	flag.DurationVar(&c.timeout, "timeout", 2*time.Hour, "longest a single run may take")
	flag.StringVar(&c.only, "only", "", "run one system only: shopease or spark (no comparison then)")
	flag.Parse()
	if *procs == "" {
		*procs = "gateways"
		if c.reports == "live" {
			*procs = "gateways,sales"
		}
	}
	var err error
	if c.procs, err = processors.ParseNames(*procs); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if err := run(context.Background(), c, log, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run(ctx context.Context, c config, log *slog.Logger, out io.Writer) (err error) {
	if err := c.validate(); err != nil {
		return err
	}
	if c.work == "" {
		dir, mkErr := os.MkdirTemp("", "batchbench-")
		if mkErr != nil {
			return fmt.Errorf("batchbench: %w", mkErr)
		}
		c.work = dir
		defer func() { // kept after a failure: its systems.log says why
			if err == nil {
				os.RemoveAll(dir)
			}
		}()
	}
	if err := os.MkdirAll(c.work, 0o755); err != nil {
		return fmt.Errorf("batchbench: %w", err)
	}
	logs, err := os.Create(filepath.Join(c.work, "systems.log"))
	if err != nil {
		return fmt.Errorf("batchbench: %w", err)
	}
	defer logs.Close()
	systemsLog = logs
	history := filepath.Join(c.work, "history")
	log.Info("generating", "events", c.events, "dir", history)
	if _, err := measure(ctx, c.bin, "generate", "--events", strconv.FormatInt(c.events, 10), "--out", history, "--overwrite"); err != nil {
		return err
	}
	want, err := readTruth(filepath.Join(history, "truth.json"))
	if err != nil {
		return err
	}
	for i := 1; i <= c.runs; i++ {
		ctx, cancel := context.WithTimeout(ctx, c.timeout)
		err := oneRun(ctx, c, log, out, history, want, i)
		cancel()
		if err != nil {
			return fmt.Errorf("batchbench: run %d: %w (the systems' output: %s)", i, err, logs.Name())
		}
	}
	return nil
}

// oneRun runs both systems once (Spark first on odd runs, shopease first on even ones, so a
// neighbour's load hits both alike) and checks their reports.
func oneRun(ctx context.Context, c config, log *slog.Logger, out io.Writer, history string, want *outcome, i int) error {
	dir := filepath.Join(c.work, "run"+strconv.Itoa(i))
	systems := []string{"spark", "shopease"}
	if i%2 == 0 {
		systems = []string{"shopease", "spark"}
	}
	got := map[string]*outcome{}
	for _, sys := range systems {
		if c.only != "" && sys != c.only {
			continue
		}
		load := loadAverage()
		var (
			m   usage
			o   *outcome
			err error
		)
		if sys == "spark" {
			m, o, err = sparkJob(ctx, c, history, filepath.Join(dir, "spark"))
		} else {
			m, o, err = shopeaseJob(ctx, c, log, history, filepath.Join(dir, "shopease"), i)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", sys, err)
		}
		if err := want.same(o); err != nil {
			return fmt.Errorf("%s's reports differ from the generator's truth: %w", sys, err)
		}
		got[sys] = o
		name := "BenchmarkBatchSpark"
		if sys == "shopease" {
			name = "BenchmarkBatchShopease"
		}
		fmt.Fprintf(out, "%s 1 %d ns/op %.2f s %.0f events/s %.0f peak-MB %d events %s loadavg\n", name, m.wall.Nanoseconds(),
			m.wall.Seconds(), float64(c.events)/m.wall.Seconds(), float64(m.peakRSS)/(1<<20), c.events, firstField(load))
		log.Info("run", "n", i, "system", sys, "wall", m.wall.Round(time.Millisecond), "peak_rss_mb", m.peakRSS>>20, "load", load)
	}
	if a, b := got["shopease"], got["spark"]; a != nil && b != nil {
		if err := a.same(b); err != nil {
			return fmt.Errorf("shopease and Spark differ: %w", err)
		}
	}
	return os.RemoveAll(dir)
}

// sparkJob runs the PySpark job on the history.
func sparkJob(ctx context.Context, c config, history, dir string) (usage, *outcome, error) {
	out := filepath.Join(dir, "reports.json")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return usage{}, nil, err
	}
	m, err := measure(ctx, c.python, c.script, "--in", history, "--lake", filepath.Join(dir, "lake"), "--out", out)
	if err != nil {
		return m, nil, err
	}
	o, err := readSparkReports(out)
	return m, o, err
}

// shopeaseJob runs the pipeline with the shopease binary, in a namespace of its own.
func shopeaseJob(ctx context.Context, c config, log *slog.Logger, history, dir string, i int) (usage, *outcome, error) {
	ns := topology.Namespace(fmt.Sprintf("bench.batch.%d.%d.", time.Now().Unix(), i))
	defer deleteNamespace(c.brokers, ns, log) // 10M events leave ~6 GB of topics on the broker
	lake := filepath.Join(dir, "lake")
	common := []string{"--brokers", c.brokers, "--namespace", string(ns)}
	var total usage
	step := func(args ...string) ([]byte, error) {
		m, err := measure(ctx, c.bin, append(args, common...)...)
		total.add(m)
		return m.stdout, err
	}
	if _, err := step("topics", "create"); err != nil {
		return total, nil, err
	}
	if _, err := step("replay", history, "--manifest", filepath.Join(dir, "manifest.json"), "--rejects", ""); err != nil {
		return total, nil, err
	}
	m, err := runUntilIdle(ctx, c, ns, append([]string{"run", "--demo-key", "--data-dir", filepath.Join(dir, "data"),
		"--processors", strings.Join(c.procs, ","), "--archive=false", "--snapshot-interval", "0", "--redis", ""}, common...))
	total.add(m)
	if err != nil {
		return total, nil, err
	}
	log.Info("shopease: processors idle", "took", m.wall.Round(time.Millisecond))
	if _, err := step("lake", "--once", "--lake-dir", lake); err != nil {
		return total, nil, err
	}
	reports := map[string][]byte{}
	for _, r := range []string{"top-products", "monthly-revenue", "inventory-turnover"} {
		args := []string{"report", r, "--format", "json"}
		if c.reports == "live" {
			args = append(args, "--live")
		} else {
			args = append(args, "--lake-dir", lake)
		}
		b, err := step(args...)
		if err != nil {
			return total, nil, err
		}
		reports[r] = b
	}
	o, err := readShopeaseReports(reports)
	return total, o, err
}

func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "0 0 0"
	}
	return strings.Join(strings.Fields(string(b))[:3], " ")
}

func firstField(s string) string {
	if f := strings.Fields(s); len(f) > 0 {
		return f[0]
	}
	return "0"
}

// systemsLog receives the stderr of every command (progress and logs of both systems): kept in
// the work folder, named in the error when a run fails.
var systemsLog io.Writer = os.Stderr

// command builds an exec.Cmd whose stderr goes to systemsLog.
func command(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stderr = systemsLog
	cmd.WaitDelay = 10 * time.Second
	return cmd
}
