// Package report turns `go test -bench` output (and lines in the same format written by the bench
// script for external tools such as kafka-producer-perf-test) into docs/benchmarks.md: medians over
// the runs, ratios between rows measured in the same run, and each target met or missed.
package report

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
)

// Result holds every value of every metric reported by one benchmark over all runs.
type Result struct {
	Name    string
	Metrics map[string][]float64 // unit → values, one per run
}

// Median returns the median of a metric and the number of runs it is over.
func (r *Result) Median(unit string) (float64, int) {
	vs := append([]float64(nil), r.Metrics[unit]...)
	if len(vs) == 0 {
		return math.NaN(), 0
	}
	sort.Float64s(vs)
	n := len(vs)
	if n%2 == 1 {
		return vs[n/2], n
	}
	return (vs[n/2-1] + vs[n/2]) / 2, n
}

// Parse reads benchmark lines: "BenchmarkName-2  1  123 ns/op  4.5 unit ...". Other lines are
// ignored. The "-GOMAXPROCS" suffix is dropped from names.
func Parse(r io.Reader) (map[string]*Result, error) {
	out := map[string]*Result{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		if _, err := strconv.Atoi(f[1]); err != nil {
			continue
		}
		name := f[0]
		if i := strings.LastIndexByte(name, '-'); i > 0 {
			if _, err := strconv.Atoi(name[i+1:]); err == nil {
				name = name[:i]
			}
		}
		res := out[name]
		if res == nil {
			res = &Result{Name: name, Metrics: map[string][]float64{}}
			out[name] = res
		}
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				return nil, fmt.Errorf("report: %q: value %q: %w", f[0], f[i], err)
			}
			res.Metrics[f[i+1]] = append(res.Metrics[f[i+1]], v)
		}
	}
	return out, sc.Err()
}

// Target is a goal for one metric of one benchmark, or for the ratio of two benchmarks' metrics.
type Target struct {
	What    string // the row's label
	Bench   string // benchmark name
	Unit    string
	Versus  string // when set: the ratio Bench/Versus of Unit is the figure
	Min     float64
	Max     float64 // 0: no maximum
	Command string  // how to reproduce
	// Bound says what limits the figure, from the profile: printed under "Targets missed" when
	// the target is not met.
	Bound string
}

// Figure computes the target's figure from results; ok is false when a benchmark is missing.
func (t Target) Figure(res map[string]*Result) (v float64, runs int, ok bool) {
	a := res[t.Bench]
	if a == nil {
		return 0, 0, false
	}
	v, runs = a.Median(t.Unit)
	if runs == 0 {
		return 0, 0, false
	}
	if t.Versus != "" {
		b := res[t.Versus]
		if b == nil {
			return 0, 0, false
		}
		w, n := b.Median(t.Unit)
		if n == 0 || w == 0 {
			return 0, 0, false
		}
		v /= w
		runs = min(runs, n)
	}
	return v, runs, true
}

// Met reports whether v meets the target.
func (t Target) Met(v float64) bool {
	if v < t.Min {
		return false
	}
	return t.Max == 0 || v <= t.Max
}

// ParseLoad returns the load-average lines the bench script writes before each benchmark
// ("# load average before NAME: 1.23 1.50 1.71"), without the "# ".
func ParseLoad(r io.Reader) ([]string, error) {
	var out []string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if l, ok := strings.CutPrefix(sc.Text(), "# load average before "); ok {
			out = append(out, l)
		}
	}
	return out, sc.Err()
}

// Write renders the report as Markdown. loads are ParseLoad's lines: the machine is shared, so
// the report says how busy it was.
func Write(w io.Writer, machine, date string, res map[string]*Result, targets []Target, loads ...string) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# Benchmarks\n\nRewritten by `make bench` (scripts/bench.sh); do not edit by hand.\n\n")
	fmt.Fprintf(&b, "- machine: %s\n- date: %s\n- broker and redis-server run on the same machine as the benchmark, so ratios measured in one run say more than absolute figures.\n- every figure is the median over the runs shown.\n\n", machine, date)
	fmt.Fprintf(&b, "## Targets\n\n| what | figure | target | met | runs | reproduce |\n|---|---|---|---|---|---|\n")
	for _, t := range targets {
		v, runs, ok := t.Figure(res)
		if !ok {
			fmt.Fprintf(&b, "| %s | not measured | %s | no | 0 | `%s` |\n", t.What, t.goal(), t.Command)
			continue
		}
		met := "no"
		if t.Met(v) {
			met = "yes"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %d | `%s` |\n", t.What, t.format(v), t.goal(), met, runs, t.Command)
	}
	var missed []string
	for _, t := range targets {
		if v, _, ok := t.Figure(res); ok && !t.Met(v) && t.Bound != "" {
			missed = append(missed, fmt.Sprintf("- **%s**: %s, target %s. %s", t.What, t.format(v), t.goal(), t.Bound))
		}
	}
	if len(missed) > 0 {
		fmt.Fprintf(&b, "\n## Targets missed: what bounds them\n\n%s\n", strings.Join(missed, "\n"))
	}
	if len(loads) > 0 {
		fmt.Fprintf(&b, "\n## Load average (1, 5, 15 min) before each benchmark\n\n")
		for _, l := range loads {
			fmt.Fprintf(&b, "- %s\n", l)
		}
	}
	fmt.Fprintf(&b, "\n## All measurements (medians)\n\n| benchmark | metric | median | runs |\n|---|---|---|---|\n")
	var names []string
	for n := range res {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		var units []string
		for u := range res[n].Metrics {
			units = append(units, u)
		}
		sort.Strings(units)
		for _, u := range units {
			v, runs := res[n].Median(u)
			fmt.Fprintf(&b, "| %s | %s | %s | %d |\n", n, u, human(v), runs)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func (t Target) unitLabel() string {
	if t.Versus != "" {
		return "×"
	}
	return " " + t.Unit
}

func (t Target) format(v float64) string { return human(v) + t.unitLabel() }

func (t Target) goal() string {
	switch {
	case t.Max != 0 && t.Min != 0:
		return fmt.Sprintf("%s..%s%s", human(t.Min), human(t.Max), t.unitLabel())
	case t.Max != 0:
		return fmt.Sprintf("≤ %s%s", human(t.Max), t.unitLabel())
	}
	return fmt.Sprintf("≥ %s%s", human(t.Min), t.unitLabel())
}

func human(v float64) string {
	switch a := math.Abs(v); {
	case a >= 1e6:
		return strconv.FormatFloat(v/1e6, 'f', 2, 64) + "M"
	case a >= 1e4:
		return strconv.FormatFloat(v/1e3, 'f', 1, 64) + "k"
	case a >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case a > 0 && a < 0.1:
		return strconv.FormatFloat(v, 'g', 2, 64) // 0.0026 Redis commands per event, not 0.00
	}
	return strconv.FormatFloat(v, 'f', 2, 64)
}
