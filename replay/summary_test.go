package replay

import (
	"strings"
	"testing"
	"time"

	"github.com/shopease/shopease/event"
)

func TestSummaryText(t *testing.T) {
	s := &Summary{Duration: 2 * time.Second, Files: []FileSummary{
		{Path: "a/transactions/1.csv", Dataset: "transactions", Mapping: "shopease", Status: StatusReplayed, Duration: time.Second,
			Counts: Counts{Files: 1, Read: 10, Sent: 8, Rejected: map[event.Reason]int64{event.ReasonMalformed: 2}, Bytes: 2e6, SentBytes: 1e6}},
		{Path: "a/activity/1.json", Dataset: "activity", Mapping: "shopease", Status: StatusSkipped,
			Counts: Counts{Files: 1, Skipped: 5}},
	}}
	s.tally()
	var b strings.Builder
	if err := s.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	want := `                  file       dataset   mapping    status  read  sent  rejected  skipped  lost   MB  seconds
  a/transactions/1.csv  transactions  shopease  replayed    10     8         2        0     0  2.0     1.00
     a/activity/1.json      activity  shopease   skipped     0     0         0        5     0  0.0     0.00

       dataset  files  read  sent  rejected  skipped  lost  rejects by reason
      activity      1     0     0         0        5     0                  -
  transactions      1    10     8         2        0     0        malformed=2
         total      2    10     8         2        5     0        malformed=2
10 rows in 2.00 s: 5 rows/s, 1.0 MB/s of files, 0.5 MB/s of records
`
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
	if s.Total.Read != s.Total.Sent+s.Total.RejectedTotal()+s.Total.Lost {
		t.Errorf("totals %+v: read ≠ sent + rejected + lost", s.Total)
	}
}
