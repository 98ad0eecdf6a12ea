package replay

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/shopease/shopease/event"
)

// Counts are the row counts of a file, a dataset or a whole replay. Read = Sent + Rejected +
// Lost always holds, and Lost > 0 makes Run fail. Skipped rows were replayed before (a whole file
// the manifest knows, or the part of an interrupted replay already on the topics); they are
// not in Read.
type Counts struct {
	Files    int
	Read     int64
	Sent     int64                  // records acknowledged by the broker (dry run: records mapped)
	Rejected map[event.Reason]int64 // dead letters acknowledged (dry run: rows rejected), per reason
	Skipped  int64
	Lost     int64 // sent but never acknowledged
	Bytes    int64 // bytes of the files as stored
	// SentBytes is the key and value bytes of the records in Sent (before compression).
	SentBytes int64
}

// RejectedTotal sums Rejected over the reasons.
func (c *Counts) RejectedTotal() int64 {
	var n int64
	for _, v := range c.Rejected {
		n += v
	}
	return n
}

func (c *Counts) add(o *Counts) {
	c.Files += o.Files
	c.Read += o.Read
	c.Sent += o.Sent
	c.Skipped += o.Skipped
	c.Lost += o.Lost
	c.Bytes += o.Bytes
	c.SentBytes += o.SentBytes
	for r, n := range o.Rejected {
		if c.Rejected == nil {
			c.Rejected = map[event.Reason]int64{}
		}
		c.Rejected[r] += n
	}
}

// File statuses in a Summary.
const (
	StatusReplayed = "replayed" // read and sent
	StatusResumed  = "resumed"  // an interrupted replay finished; rows already sent were skipped
	StatusForced   = "forced"   // replayed again although the manifest had it
	StatusSkipped  = "skipped"  // the manifest has this content: nothing read
	StatusDryRun   = "dry-run"  // read and mapped, nothing sent
	StatusFailed   = "failed"   // unreadable, interrupted or with lost records; resumable
)

// FileSummary is what happened to one file.
type FileSummary struct {
	Path     string
	Dataset  string
	Mapping  string
	Status   string
	Counts   Counts
	Duration time.Duration
	Err      string `json:",omitempty"`
}

// Summary is the result of Run: per file, per dataset and in total.
type Summary struct {
	Files    []FileSummary
	Datasets map[string]*Counts
	Total    Counts
	Duration time.Duration
	DryRun   bool
}

func (s *Summary) tally() {
	s.Datasets = map[string]*Counts{}
	s.Total = Counts{}
	for i := range s.Files {
		f := &s.Files[i]
		d := s.Datasets[f.Dataset]
		if d == nil {
			d = &Counts{}
			s.Datasets[f.Dataset] = d
		}
		d.add(&f.Counts)
		s.Total.add(&f.Counts)
	}
}

// WriteText writes the summary as aligned tables: files, then datasets and the total.
func (s *Summary) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "file\tdataset\tmapping\tstatus\tread\tsent\trejected\tskipped\tlost\tMB\tseconds\t")
	for _, f := range s.Files {
		c := f.Counts
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\t%.1f\t%.2f\t\n", f.Path, f.Dataset, f.Mapping, f.Status,
			c.Read, c.Sent, c.RejectedTotal(), c.Skipped, c.Lost, float64(c.Bytes)/1e6, f.Duration.Seconds())
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 2, 8, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "dataset\tfiles\tread\tsent\trejected\tskipped\tlost\trejects by reason\t")
	row := func(name string, c *Counts) {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%s\t\n", name, c.Files, c.Read, c.Sent, c.RejectedTotal(), c.Skipped, c.Lost, reasons(c.Rejected))
	}
	for _, name := range slices.Sorted(maps.Keys(s.Datasets)) {
		row(name, s.Datasets[name])
	}
	row("total", &s.Total)
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "%d rows in %.2f s: %.0f rows/s, %.1f MB/s of files, %.1f MB/s of records%s\n", s.Total.Read,
		s.Duration.Seconds(), perSecond(float64(s.Total.Read), s.Duration), perSecond(float64(s.Total.Bytes)/1e6, s.Duration),
		perSecond(float64(s.Total.SentBytes)/1e6, s.Duration), dryNote(s.DryRun))
	return err
}

func reasons(m map[event.Reason]int64) string {
	if len(m) == 0 {
		return "-"
	}
	var parts []string
	for _, r := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s=%d", r, m[r]))
	}
	return strings.Join(parts, " ")
}

func perSecond(v float64, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return v / d.Seconds()
}

func dryNote(dry bool) string {
	if dry {
		return "; dry run: nothing sent"
	}
	return ""
}
