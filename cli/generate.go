package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/shopease/shopease/generate"
)

func generateCmd() *command {
	var (
		preset, out, start, actForm, fbForm string
		seed                                uint64
		days, users, products, sessions     int
		events                              int64
		dirt                                float64
		gzip, overwrite                     bool
		spikes, spikeFactor, workers        int
	)
	return &command{
		name:    "generate",
		summary: "write a deterministic ShopEase history (files by day) and its ground truth",
		args:    "--out DIR",
		help: `Writes a seeded, deterministic ShopEase world — users, products, sessions that follow the funnel,
purchases with several lines, refunds and returns, restocks and stock reports, product info changes,
reviews — as history files split by day (docs/formats.md): CSV for transactions and inventory, JSON
arrays or NDJSON for activity and feedback, optionally gzipped. Dirt is added on purpose at
configurable rates (--dirt scales them all; 0 gives clean data), and DIR/truth.json holds the right
answers computed by the generator itself: revenue per month, top products, active users per minute,
rejects per reason, spike minutes. The same flags always give byte-identical files.

Presets: tiny (~5k rows, tests), small (~100k), medium (~1M), large (≥10M, gzipped), default.
Flags given explicitly override the preset.

Example:
  shopease generate --preset small --out ./history
  shopease generate --preset tiny --seed 7 --dirt 0 --out /tmp/clean-history`,
		flags: func(fs *flag.FlagSet, _ *env) {
			fs.StringVar(&preset, "preset", "default", "size preset: "+strings.Join(generate.PresetNames, ", "))
			fs.StringVar(&out, "out", "", "output folder (required)")
			fs.Uint64Var(&seed, "seed", 1, "random seed")
			fs.StringVar(&start, "start", "", "first day, YYYY-MM-DD (UTC; default: the preset's)")
			fs.IntVar(&days, "days", 0, "number of days (default: the preset's)")
			fs.IntVar(&users, "users", 0, "number of users (default: the preset's)")
			fs.IntVar(&products, "products", 0, "number of products (default: the preset's)")
			fs.IntVar(&sessions, "sessions-per-day", 0, "mean ordinary sessions per day (default: the preset's)")
			fs.Int64Var(&events, "events", 0, "approximate rows over all datasets; wins over --sessions-per-day")
			fs.Float64Var(&dirt, "dirt", 1, "factor on every dirt rate (0: clean data)")
			fs.BoolVar(&gzip, "gzip", false, "gzip the files (default: the preset's)")
			fs.StringVar(&actForm, "activity-form", "", "activity files: array or ndjson (default: the preset's)")
			fs.StringVar(&fbForm, "feedback-form", "", "feedback files: array or ndjson (default: the preset's)")
			fs.IntVar(&spikes, "spikes", -1, "injected activity spike minutes (default: the preset's)")
			fs.IntVar(&spikeFactor, "spike-factor", 0, "a spike adds this many times the mean events per minute (≥ 5)")
			fs.IntVar(&workers, "workers", 0, "days generated at once (0: all cores); the output does not depend on it")
			fs.BoolVar(&overwrite, "overwrite", false, "replace an earlier history in --out")
		},
		run: func(ctx context.Context, e *env, args []string) error {
			if len(args) > 0 {
				return usagef("generate takes no arguments (use --out DIR)")
			}
			cfg, err := generate.Preset(preset)
			if err != nil {
				return usagef("%s", err)
			}
			set := map[string]bool{}
			e.fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
			if set["seed"] {
				cfg.Seed = seed
			}
			if set["start"] {
				t, err := time.Parse(time.DateOnly, start)
				if err != nil {
					return usagef("--start %q: want YYYY-MM-DD", start)
				}
				cfg.Start = t.UTC()
			}
			if set["days"] {
				cfg.Days = days
			}
			if set["users"] {
				cfg.Users = users
			}
			if set["products"] {
				cfg.Products = products
			}
			if set["sessions-per-day"] {
				cfg.SessionsPerDay, cfg.TargetEvents = sessions, 0
			}
			if set["events"] {
				cfg.TargetEvents = events
			}
			if set["dirt"] {
				if dirt < 0 {
					return usagef("--dirt must be ≥ 0")
				}
				cfg.Dirt = cfg.Dirt.Scaled(dirt)
			}
			if set["gzip"] {
				cfg.Gzip = gzip
			}
			if set["activity-form"] {
				cfg.ActivityForm = generate.Form(actForm)
			}
			if set["feedback-form"] {
				cfg.FeedbackForm = generate.Form(fbForm)
			}
			if set["spikes"] {
				cfg.Spikes = spikes
			}
			if set["spike-factor"] {
				cfg.SpikeFactor = spikeFactor
			}
			cfg.Dir, cfg.Workers, cfg.Overwrite = out, workers, overwrite
			if err := cfg.Validate(); err != nil {
				return usagef("%s", err)
			}
			began := time.Now()
			truth, err := generate.Run(ctx, cfg, e.log)
			if errors.Is(err, generate.ErrOutputExists) {
				return fmt.Errorf("%w (pass --overwrite to replace it)", err)
			}
			if err != nil {
				return err
			}
			printTruthSummary(e, truth, out, time.Since(began))
			return nil
		},
	}
}

func printTruthSummary(e *env, t *generate.Truth, dir string, took time.Duration) {
	var names []string
	var rows int64
	for n, d := range t.Datasets {
		names = append(names, n)
		rows += d.Rows
	}
	sort.Strings(names)
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "DATASET\tROWS\tUNPARSEABLE\tREJECTED\tDUPLICATES\tACCEPTED\t")
	for _, n := range names {
		d := t.Datasets[n]
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t\n", n, d.Rows, sum(d.Unparseable), sum(d.Rejected), d.Duplicates, d.Accepted)
	}
	tw.Flush()
	fmt.Fprintf(e.stdout, "%d rows in %s (%.0f rows/s); ground truth in %s/%s\n", rows, took.Round(time.Millisecond),
		float64(rows)/took.Seconds(), dir, generate.TruthFile)
}

func sum[K comparable](m map[K]int64) int64 {
	var n int64
	for _, v := range m {
		n += v
	}
	return n
}
